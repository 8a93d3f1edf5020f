"""The metric and table catalog: what bo1 and the exporters beside it really expose.

`load_catalog()` reads `metrics.yaml` and `tables.yaml` (next to this file) into dataclasses.
`Catalog.lookup(series_name)` resolves a series name as it appears in PromQL (e.g.
`http_request_duration_seconds_bucket`) to its family and the suffix it carries.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CATALOG_DIR = Path(__file__).resolve().parent
METRIC_TYPES = ("counter", "gauge", "histogram", "summary")
# Series suffixes of the compound types (prometheus exposition): suffix -> what the series is.
HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")


@dataclass(frozen=True)
class MetricFamily:
    """One metric family, as exposed on /metrics (counters with their `_total`)."""

    name: str
    type: str
    source: str
    labels: tuple[str, ...] = ()
    # Closed value sets per label (only labels whose values are known in full).
    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Per label, the subset of `values` that is really emitted (absent label: all of them).
    emitted_values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    buckets: tuple[float, ...] = ()
    emitted: bool = True
    note: str = ""
    label_prefixes: tuple[str, ...] = ()
    # Per label, the values whose requests are streams (timed for the whole connection).
    streaming: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # The service runs as several scrape jobs (blue/green): a hard-coded job misses the rest.
    several_jobs: bool = False

    def allows_label(self, label: str, target_labels: Iterable[str]) -> bool:
        return label in self.labels or label in target_labels or any(label.startswith(p) for p in self.label_prefixes)

    def is_emitted_value(self, label: str, value: str) -> bool:
        emitted = self.emitted_values.get(label)
        return emitted is None or value in emitted


@dataclass(frozen=True)
class SeriesRef:
    """A series name resolved to its family: `suffix` is "" or _bucket/_count/_sum/_created."""

    family: MetricFamily
    suffix: str

    @property
    def is_cumulative(self) -> bool:
        """True when the series only grows (needs rate/increase before it means anything)."""
        if self.family.type == "counter":
            return self.suffix in ("", "_total")
        if self.family.type in ("histogram", "summary"):
            return self.suffix in HISTOGRAM_SUFFIXES
        return False


@dataclass(frozen=True)
class Table:
    name: str
    columns: Mapping[str, str | None]
    time_column: str | None = None
    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    never_written: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Catalog:
    families: Mapping[str, MetricFamily]
    tables: Mapping[str, Table]
    target_labels: tuple[str, ...] = ("job", "instance")
    # Sources whose counters/histograms also expose <base>_created (prometheus_client).
    created_sources: frozenset[str] = frozenset()
    # No metric list (`--catalog none`): every series exists, its type is guessed from its name
    # (Prometheus naming conventions), any label is accepted.
    open_metrics: bool = False
    # No table list: SQL tables and columns are not checked.
    open_tables: bool = False
    # The revision of bo1 the catalog's bo1 families describe ("" for other catalogs).
    bo1_revision: str = ""

    def lookup(self, series: str) -> SeriesRef | None:
        """Resolve a series name to its family, or None when no catalogued family exposes it."""
        found = self._lookup(series)
        if found is None and self.open_metrics:
            return guess_series(series)
        return found

    def _lookup(self, series: str) -> SeriesRef | None:
        family = self.families.get(series)
        if family is not None and family.type in ("counter", "gauge"):
            return SeriesRef(family, "")
        for suffix in HISTOGRAM_SUFFIXES:
            if series.endswith(suffix):
                family = self.families.get(series[: -len(suffix)])
                if family is not None and family.type in ("histogram", "summary"):
                    if family.type == "summary" and suffix == "_bucket":
                        return None
                    return SeriesRef(family, suffix)
        if series.endswith("_created"):
            base = series[: -len("_created")]
            for candidate in (base + "_total", base):
                family = self.families.get(candidate)
                if family is not None and family.source in self.created_sources and family.type != "gauge":
                    return SeriesRef(family, "_created")
        return None

    def with_extra_metrics(self, extra: Iterable[str | MetricFamily]) -> Catalog:
        """A catalog that also knows `extra` series (e.g. the mixin's recording rules), as gauges.

        A recording rule's labels depend on its expression, so an extra name given as a string
        accepts any label (`labels` empty and the `*` prefix)."""
        families = dict(self.families)
        for item in extra:
            if isinstance(item, MetricFamily):
                families[item.name] = item
            else:
                families[item] = MetricFamily(name=item, type="gauge", source="recording_rule", label_prefixes=("",))
        return dataclasses.replace(self, families=families)


GUESSED = "guessed"


def guess_series(series: str) -> SeriesRef:
    """A series of an unknown family, typed by Prometheus' naming conventions, accepting any label."""
    for suffix in HISTOGRAM_SUFFIXES:
        if series.endswith(suffix):
            family = MetricFamily(series[: -len(suffix)], "histogram", GUESSED, label_prefixes=("",))
            return SeriesRef(family, suffix)
    kind = "counter" if series.endswith("_total") else "gauge"
    return SeriesRef(MetricFamily(series, kind, GUESSED, label_prefixes=("",)), "")


class CatalogError(ValueError):
    """A catalog file that cannot be used: the message names the file and the entry."""


def _family(raw: dict, source: str, label_prefixes: tuple[str, ...], several_jobs: bool = False) -> MetricFamily:
    name = raw["name"]
    kind = raw["type"]
    if kind not in METRIC_TYPES:
        raise ValueError(f"metrics.yaml: {name}: type {kind!r} is not one of {METRIC_TYPES}")
    labels = tuple(raw.get("labels") or ())
    values = {k: tuple(str(v) for v in vs) for k, vs in (raw.get("values") or {}).items()}
    emitted_values = {k: tuple(str(v) for v in vs) for k, vs in (raw.get("emitted_values") or {}).items()}
    streaming = {k: tuple(str(v) for v in vs) for k, vs in (raw.get("streaming") or {}).items()}
    for label in [*values, *emitted_values, *streaming]:
        if label not in labels:
            raise ValueError(f"metrics.yaml: {name}: values given for {label!r}, which is not in labels {labels}")
    for label, subset in emitted_values.items():
        extra = set(subset) - set(values.get(label, subset))
        if extra:
            raise ValueError(f"metrics.yaml: {name}: emitted_values {sorted(extra)} of {label!r} missing from values")
    return MetricFamily(
        name=name,
        type=kind,
        source=source,
        labels=labels,
        values=values,
        emitted_values=emitted_values,
        buckets=tuple(float(b) for b in raw.get("buckets") or ()),
        emitted=bool(raw.get("emitted", True)),
        note=str(raw.get("note", "")),
        label_prefixes=label_prefixes,
        streaming=streaming,
        several_jobs=several_jobs,
    )


def load_metrics(path: Path) -> tuple[dict[str, MetricFamily], tuple[str, ...], frozenset[str]]:
    return _metrics_from(yaml.safe_load(path.read_text()), path)


def _metrics_from(data: dict, path: Path) -> tuple[dict[str, MetricFamily], tuple[str, ...], frozenset[str]]:
    families: dict[str, MetricFamily] = {}
    created: set[str] = set()
    for source, body in data["sources"].items():
        prefixes = tuple(body.get("label_prefixes") or ())
        if body.get("created_series"):
            created.add(source)
        for raw in body["metrics"]:
            family = _family(raw, source, prefixes, body.get("several_jobs") is True)
            if family.name in families:
                raise ValueError(f"{path.name}: {family.name} listed twice ({families[family.name].source}, {source})")
            families[family.name] = family
    return families, tuple(data.get("target_labels") or ()), frozenset(created)


def load_tables(path: Path) -> dict[str, Table]:
    return _tables_from(yaml.safe_load(path.read_text()), path)


def _tables_from(data: dict, path: Path) -> dict[str, Table]:
    tables: dict[str, Table] = {}
    for name, body in data["tables"].items():
        columns = {c: (None if t is None else str(t)) for c, t in body["columns"].items()}
        values = {k: tuple(str(v) for v in vs) for k, vs in (body.get("values") or {}).items()}
        for col in [*values, *(body.get("never_written") or ()), body.get("time_column")]:
            if col is not None and col not in columns:
                raise ValueError(f"{path.name}: table {name}: {col!r} is not one of its columns")
        tables[name] = Table(
            name=name,
            columns=columns,
            time_column=body.get("time_column"),
            values=values,
            never_written=tuple(body.get("never_written") or ()),
            description=str(body.get("description", "")),
        )
    return tables


@functools.cache
def load_catalog(directory: Path | None = None) -> Catalog:
    """Load the catalog shipped with bo1dash (or the metrics.yaml/tables.yaml in `directory`), parsed once."""
    base = directory or CATALOG_DIR
    families, target_labels, created = load_metrics(base / "metrics.yaml")
    revision = str(yaml.safe_load((base / "metrics.yaml").read_text()).get("bo1_revision") or "")
    return Catalog(families, load_tables(base / "tables.yaml"), target_labels, created, bo1_revision=revision)


def open_catalog() -> Catalog:
    """`--catalog none`: no metric or table list; only what needs no catalog is checked."""
    return Catalog({}, {}, ("job", "instance"), open_metrics=True, open_tables=True)


def load_catalog_file(path: Path) -> Catalog:
    """One catalog file (`--catalog FILE`): metrics.yaml's format, plus an optional `tables:` as in
    tables.yaml. Without `tables:` SQL tables are not checked."""
    try:
        data = yaml.safe_load(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read the catalog: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise CatalogError(f"{path}: {where}not a YAML catalog ({getattr(exc, 'problem', None) or exc})") from None
    return catalog_from_document(data, path)


def catalog_from_document(data: Any, path: Path) -> Catalog:
    """A catalog from a parsed catalog document (the `--catalog FILE` format); errors name `path`."""
    if not isinstance(data, dict) or not isinstance(data.get("sources"), dict):
        raise CatalogError(f"{path}: a catalog is a mapping with `sources:` (see docs/lint.md, Catalog files)")
    try:
        families, target_labels, created = _metrics_from(data, path)
        tables = _tables_from(data, path) if data.get("tables") else {}
    except KeyError as exc:
        raise CatalogError(f"{path}: an entry lacks the key {exc}") from None
    except (TypeError, AttributeError, ValueError) as exc:
        raise CatalogError(f"{path}: {exc}") from None
    return Catalog(families, tables, target_labels or ("job", "instance"), created, open_tables=not tables)


def scrape_config_labels(path: Path) -> list[str]:
    """Labels a prometheus.yml adds to scraped series: static_configs `labels` and relabel `target_label`s."""
    try:
        doc = yaml.safe_load(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read the scrape config: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CatalogError(f"{path}: not a YAML prometheus.yml ({getattr(exc, 'problem', None) or exc})") from None
    jobs = doc.get("scrape_configs") if isinstance(doc, dict) else None
    if not isinstance(jobs, list):
        raise CatalogError(f"{path}: no `scrape_configs:` list: not a prometheus.yml")
    labels: set[str] = set()
    for job in jobs:
        if not isinstance(job, dict):
            continue
        for static in job.get("static_configs") or []:
            if isinstance(static, dict) and isinstance(static.get("labels"), dict):
                labels.update(str(k) for k in static["labels"])
        for rule in job.get("relabel_configs") or []:
            target = rule.get("target_label") if isinstance(rule, dict) else None
            if target and not str(target).startswith("__") and rule.get("action", "replace") == "replace":
                labels.add(str(target))
    return sorted(labels)


__all__ = [
    "Catalog",
    "CatalogError",
    "MetricFamily",
    "SeriesRef",
    "Table",
    "catalog_from_document",
    "load_catalog",
    "load_catalog_file",
    "open_catalog",
    "scrape_config_labels",
]
