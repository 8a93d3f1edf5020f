"""Catalogs read from a running system: a `/metrics` endpoint, or the series a Prometheus holds.

`bo1dash catalog --from URL [--out FILE]` writes a catalog file (the `--catalog FILE` format, see
docs/lint.md) so that a team lints against its own exporters. URL is either a `/metrics` endpoint
(Prometheus text format: families, types, labels, buckets) or a Prometheus server (detected by its
API: every series of the last `--range`, types from its metadata API, and the labels its targets
get from the scrape config, e.g. `cluster`, as target labels).

`catalog_from_prometheus()` also serves `bo1dash lint --prometheus-url`: there the label values seen
are kept as closed sets (labels with at most MAX_CLOSED_VALUES values), like pint's promql/series.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import yaml

from bo1dash.catalog import Catalog, CatalogError, catalog_from_document

HISTOGRAM_PARTS = ("_bucket", "_count", "_sum")
SUMMARY_PARTS = ("_count", "_sum")
SKIP_LABELS = frozenset({"__name__", "le", "quantile"})
MAX_CLOSED_VALUES = 50
TYPES = {"counter": "counter", "gauge": "gauge", "histogram": "histogram", "summary": "summary"}


def _get(url: str, params: dict[str, Any] | None = None) -> httpx.Response:
    try:
        response = httpx.get(url, params=params, timeout=30)
    except httpx.HTTPError as exc:
        raise CatalogError(f"{url}: cannot connect: {exc}") from None
    if response.status_code != 200:
        raise CatalogError(f"{url}: HTTP {response.status_code}")
    return response


def is_prometheus(url: str) -> bool:
    """True when `url` answers Prometheus' HTTP API (and is not a plain /metrics endpoint)."""
    try:
        response = httpx.get(f"{url.rstrip('/')}/api/v1/status/buildinfo", timeout=10)
        return response.status_code == 200 and response.json().get("status") == "success"
    except (httpx.HTTPError, ValueError):
        return False


def document_from_metrics_text(text: str, source: str) -> dict[str, Any]:
    """A catalog document from a scrape in the Prometheus text format."""
    from prometheus_client.parser import text_string_to_metric_families

    metrics: list[dict[str, Any]] = []
    try:
        families = list(text_string_to_metric_families(text))
    except ValueError as exc:
        raise CatalogError(f"not the Prometheus text format: {exc}") from None
    for family in families:
        kind = TYPES.get(family.type, "gauge")
        labels: set[str] = set()
        buckets: set[float] = set()
        for sample in family.samples:
            labels.update(k for k in sample.labels if k not in SKIP_LABELS)
            if sample.name.endswith("_bucket") and "le" in sample.labels and sample.labels["le"] != "+Inf":
                buckets.add(float(sample.labels["le"]))
        name = f"{family.name}_total" if kind == "counter" else family.name
        entry: dict[str, Any] = {"name": name, "type": kind, "labels": sorted(labels)}
        if buckets:
            entry["buckets"] = sorted(buckets)
        metrics.append(entry)
    return {
        "target_labels": ["instance", "job"],
        "sources": {source: {"description": "scraped /metrics", "metrics": sorted(metrics, key=lambda m: m["name"])}},
    }


def _family_of(series: str, metadata: dict[str, str]) -> tuple[str, str]:
    """(family name as the catalog writes it, type) of a series name, from Prometheus' metadata."""
    if series in metadata:
        kind = TYPES.get(metadata[series], "gauge")
        if kind not in ("histogram", "summary"):
            return series, kind
    for part in HISTOGRAM_PARTS:
        base = series[: -len(part)]
        if series.endswith(part) and TYPES.get(metadata.get(base, "")) in ("histogram", "summary"):
            if part == "_bucket" and metadata[base] != "histogram":
                continue
            return base, metadata[base]
    if series.endswith("_total") and metadata.get(series[: -len("_total")]) == "counter":
        return series, "counter"
    return series, "counter" if series.endswith("_total") else "gauge"


def document_from_prometheus(url: str, *, lookback_seconds: float, closed_values: bool) -> dict[str, Any]:
    """A catalog document of every series `url` holds over the last `lookback_seconds`."""
    base = url.rstrip("/")
    end = time.time()
    params = {"match[]": '{__name__=~".+"}', "start": str(end - lookback_seconds), "end": str(end)}
    series = _get(f"{base}/api/v1/series", params).json().get("data") or []
    metadata = {
        name: str(entries[0].get("type", ""))
        for name, entries in (_get(f"{base}/api/v1/metadata").json().get("data") or {}).items()
        if entries
    }
    targets = _get(f"{base}/api/v1/targets", {"state": "active"}).json().get("data", {}).get("activeTargets") or []
    target_labels = sorted({k for t in targets for k in (t.get("labels") or {})} | {"job", "instance"})
    labels: dict[str, set[str]] = defaultdict(set)
    values: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    kinds: dict[str, str] = {}
    for item in series:
        family, kind = _family_of(str(item.get("__name__", "")), metadata)
        kinds[family] = kind
        for key, value in item.items():
            if key in SKIP_LABELS or key in target_labels:
                continue
            labels[family].add(key)
            values[family][key].add(str(value))
    metrics = []
    for family in sorted(kinds):
        entry: dict[str, Any] = {"name": family, "type": kinds[family], "labels": sorted(labels[family])}
        if closed_values:
            closed = {k: sorted(v) for k, v in values[family].items() if len(v) <= MAX_CLOSED_VALUES}
            if closed:
                entry["values"] = closed
        metrics.append(entry)
    return {
        "target_labels": target_labels,
        "sources": {"prometheus": {"description": f"series held by {base}", "metrics": metrics}},
    }


def catalog_from_prometheus(url: str, *, lookback_seconds: float) -> Catalog:
    """The catalog `lint --prometheus-url` checks against: what the Prometheus holds, values included."""
    doc = document_from_prometheus(url, lookback_seconds=lookback_seconds, closed_values=True)
    return catalog_from_document(doc, Path(url))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bo1dash catalog",
        description="Write a metric catalog (for `bo1dash lint --catalog FILE`) from a /metrics scrape or a Prometheus.",
    )
    parser.add_argument("--from", dest="url", required=True, help="a /metrics URL, or a Prometheus base URL")
    parser.add_argument("--out", type=Path, default=None, help="catalog file to write (default: stdout)")
    parser.add_argument("--source", default="scraped", help="source name for a /metrics scrape (default scraped)")
    parser.add_argument("--range", default="1h", help="how far back to read a Prometheus' series (default 1h)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    from bo1dash.lint.promql import parse_duration

    try:
        lookback = parse_duration(args.range)
    except ValueError:
        print(f"catalog: --range {args.range!r} is not a Prometheus duration (e.g. 1h)", file=sys.stderr)
        return 2
    try:
        if is_prometheus(args.url):
            doc = document_from_prometheus(args.url, lookback_seconds=lookback, closed_values=False)
        else:
            doc = document_from_metrics_text(_get(args.url).text, args.source)
    except CatalogError as exc:
        print(f"catalog: {exc}", file=sys.stderr)
        return 1
    count = sum(len(s["metrics"]) for s in doc["sources"].values())
    if count == 0:
        print(f"catalog: {args.url}: no metrics found", file=sys.stderr)
        return 1
    text = f"# Metric catalog written by `bo1dash catalog --from {args.url}`.\n" + yaml.safe_dump(
        doc, sort_keys=True, default_flow_style=None, width=120
    )
    if args.out is None:
        sys.stdout.write(text)
    else:
        tmp = args.out.with_name(args.out.name + ".tmp")
        try:
            tmp.write_text(text)
            tmp.replace(args.out)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            print(f"catalog: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        print(f"catalog: wrote {count} metric families to {args.out}", file=sys.stderr)
    return 0
