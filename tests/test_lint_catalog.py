"""Choosing what PromQL is checked against: --catalog FILE|none, --prometheus-url, bo1dash catalog --from."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from lintcases import rules, run, with_expr

from bo1dash.catalog import CatalogError, load_catalog_file, open_catalog
from bo1dash.stack.binaries import PROMETHEUS, find_binaries
from bo1dash.stack.process import free_port, stop
from bo1dash.stack.prometheus import PrometheusInfo, start_prometheus, wait_for_first_scrapes

OWN_CATALOG = """\
target_labels: [job, instance, cluster]
sources:
  shop:
    description: a team's own service
    metrics:
      - {name: shop_orders_total, type: counter, labels: [route], values: {route: [/buy, /cart]}}
      - {name: shop_queue_depth, type: gauge, labels: []}
"""


def only(expr: str) -> dict:
    """A dashboard of one Prometheus panel (no bo1 series anywhere else): for catalogs that are not bo1's."""
    dash = with_expr(expr)
    dash["panels"] = [dash["panels"][1]]
    dash["templating"]["list"] = []
    return dash


def bo1dash(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bo1dash", *args], capture_output=True, text=True, timeout=300)


def test_catalog_none_checks_no_names_but_still_counters_windows_and_syntax(env):
    none = open_catalog()
    unknown = with_expr('sum(rate(their_requests_total{anything="x"}[$__rate_interval]))')
    assert "promql/unknown-metric" in rules(run(env, unknown))
    assert run(env, unknown, catalog=none) == []
    assert "promql/counter-without-rate" in rules(run(env, with_expr("sum(their_requests_total)"), catalog=none))
    assert "promql/range-window" in rules(run(env, with_expr("sum(rate(their_requests_total[20s]))"), catalog=none))
    assert "promql/parse" in rules(run(env, with_expr("sum(rate(their_requests_total[5m])"), catalog=none))
    # no table list either: SQL is parsed and bounded, its tables are not checked
    found = run(env, with_expr("up"), catalog=none)
    assert "sql/unknown-table" not in rules(found)


def test_catalog_file_of_our_format(env, tmp_path):
    path = tmp_path / "shop.yaml"
    path.write_text(OWN_CATALOG)
    shop = load_catalog_file(path)
    good = only('sum by (route) (rate(shop_orders_total{route="/buy", cluster="eu"}[$__rate_interval]))')
    assert run(env, good, catalog=shop) == []
    assert "promql/unknown-label-value" in rules(
        run(env, only('sum(rate(shop_orders_total{route="/pay"}[$__rate_interval]))'), catalog=shop)
    )
    assert "promql/unknown-metric" in rules(
        run(env, only("sum(rate(http_requests_total[$__rate_interval]))"), catalog=shop)
    )
    assert "promql/rate-on-gauge" in rules(
        run(env, only("sum(rate(shop_queue_depth[$__rate_interval]))"), catalog=shop)
    )


@pytest.mark.parametrize(
    "text, needle",
    [
        ("- just a list\n", "sources"),
        ("sources:\n  s:\n    metrics:\n      - {type: counter}\n", "name"),
        ("sources:\n  s:\n    metrics:\n      - {name: x, type: countr}\n", "countr"),
        ("sources: [\n", "line"),
    ],
)
def test_bad_catalog_file_is_one_line_naming_it(tmp_path, text, needle):
    path = tmp_path / "cat.yaml"
    path.write_text(text)
    with pytest.raises(CatalogError) as err:
        load_catalog_file(path)
    assert str(path) in str(err.value) and needle in str(err.value) and "\n" not in str(err.value)
    dash = tmp_path / "d.json"
    dash.write_text(json.dumps(with_expr("up")))
    proc = bo1dash("lint", "--retention", "15d", "--format", "json", "--catalog", str(path), str(dash))
    assert proc.returncode == 2 and json.loads(proc.stdout) == [] and str(path) in proc.stderr
    assert "Traceback" not in proc.stderr


# --- a live Prometheus (a real one, scraping itself with a relabelled `cluster` label) --------------
@pytest.fixture(scope="module")
def prometheus() -> Iterator[PrometheusInfo]:
    binary = find_binaries((PROMETHEUS,))["prometheus"]
    port = free_port()
    root = Path(tempfile.mkdtemp(prefix="bo1lint-prom-"))
    yml = {
        "global": {"scrape_interval": "1s"},
        "scrape_configs": [
            {
                "job_name": "prometheus",
                "static_configs": [{"targets": [f"127.0.0.1:{port}"], "labels": {"cluster": "lab"}}],
            }
        ],
    }
    info = start_prometheus(binary, root, port, config={"retention": "1d"}, prometheus_yml=yml, timeout=60)
    try:
        wait_for_first_scrapes(info, ["prometheus"], require_up=True, timeout=60)
        yield info
    finally:
        stop(info.service)


def test_catalog_from_a_metrics_endpoint(prometheus, tmp_path, env):
    out = tmp_path / "scraped.yaml"
    proc = bo1dash("catalog", "--from", f"{prometheus.url}/metrics", "--out", str(out), "--source", "prometheus")
    assert proc.returncode == 0, proc.stderr
    doc = yaml.safe_load(out.read_text())
    families = {m["name"]: m for m in doc["sources"]["prometheus"]["metrics"]}
    assert families["prometheus_http_requests_total"]["type"] == "counter"
    assert "handler" in families["prometheus_http_requests_total"]["labels"]
    assert families["prometheus_http_request_duration_seconds"]["type"] == "histogram"
    catalog = load_catalog_file(out)
    good = only('sum by (handler) (rate(prometheus_http_requests_total{handler="/metrics"}[$__rate_interval]))')
    assert run(env, good, catalog=catalog) == []
    typo = only("sum(rate(prometheus_http_request_total[$__rate_interval]))")
    assert "promql/unknown-metric" in rules(run(env, typo, catalog=catalog))


def test_catalog_from_a_prometheus_keeps_relabelled_target_labels(prometheus, tmp_path):
    out = tmp_path / "prom.yaml"
    proc = bo1dash("catalog", "--from", prometheus.url, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = yaml.safe_load(out.read_text())
    assert "cluster" in doc["target_labels"]
    names = {m["name"] for s in doc["sources"].values() for m in s["metrics"]}
    assert {"up", "prometheus_http_requests_total", "prometheus_http_request_duration_seconds"} <= names


def test_lint_against_the_series_a_prometheus_holds(prometheus, tmp_path):
    # make sure the handler we query has been hit and scraped
    for _ in range(3):
        httpx.get(f"{prometheus.url}/api/v1/query", params={"query": "up"}, timeout=5)
    wait_for_first_scrapes(prometheus, ["prometheus"], require_up=True, timeout=30)

    def lint(expr: str) -> set[str]:
        path = tmp_path / "d.json"
        path.write_text(json.dumps(only(expr)))
        proc = bo1dash("lint", "--retention", "1d", "--format", "json", "--prometheus-url", prometheus.url, str(path))
        assert "Traceback" not in proc.stderr, proc.stderr
        return {r["rule"] for r in json.loads(proc.stdout)}

    good = (
        'sum by (handler) (rate(prometheus_http_requests_total{cluster="lab", handler="/metrics"}[$__rate_interval]))'
    )
    assert lint(good) == set()
    assert "promql/unknown-label-value" in lint(good.replace('handler="/metrics"', 'handler="/nowhere"'))
    assert "promql/unknown-label" in lint(good.replace("handler=", "handlr="))
    assert "promql/unknown-metric" in lint("sum(rate(bo1_nothing_total[$__rate_interval]))")
    proc = bo1dash("lint", "--format", "json", "--prometheus-url", "http://127.0.0.1:9", str(tmp_path / "d.json"))
    assert proc.returncode == 2 and json.loads(proc.stdout) == [] and "--prometheus-url" in proc.stderr


def test_relabelled_target_labels_come_from_an_option(tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps(only('sum(rate(http_requests_total{namespace="prod"}[$__rate_interval]))')))
    proc = bo1dash("lint", "--retention", "15d", "--format", "json", str(path))
    assert "promql/unknown-label" in {r["rule"] for r in json.loads(proc.stdout)}
    proc = bo1dash("lint", "--retention", "15d", "--format", "json", "--target-label", "namespace", str(path))
    assert proc.returncode == 0 and json.loads(proc.stdout) == []


def test_target_labels_from_the_scrape_config(tmp_path):
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "scrape_configs:\n"
        "  - job_name: api\n"
        "    static_configs: [{targets: ['api:8000'], labels: {cluster: eu}}]\n"
        "    relabel_configs:\n"
        "      - {source_labels: [__meta_x], target_label: namespace}\n"
        "      - {source_labels: [__address__], target_label: __param_target}\n"
    )
    path = tmp_path / "d.json"
    path.write_text(json.dumps(only('sum(rate(http_requests_total{cluster="eu", namespace="p"}[$__rate_interval]))')))
    proc = bo1dash("lint", "--retention", "15d", "--format", "json", str(path))
    assert {r["rule"] for r in json.loads(proc.stdout)} == {"promql/unknown-label"}
    proc = bo1dash("lint", "--retention", "15d", "--format", "json", "--scrape-config", str(config), str(path))
    assert proc.returncode == 0 and json.loads(proc.stdout) == []
    config.write_text("global: {}\n")
    proc = bo1dash("lint", "--retention", "15d", "--scrape-config", str(config), str(path))
    assert proc.returncode == 2 and str(config) in proc.stderr and "Traceback" not in proc.stderr
