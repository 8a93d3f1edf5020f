"""verify against a real Prometheus (scraping a tiny exporter of this test) and a real PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import psycopg
import pytest
import yaml
from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from bo1dash.grafana.reducers import reduce_values
from bo1dash.stack.process import free_port
from bo1dash.verify import Endpoints, Status, verify_dashboards
from bo1dash.verify.judge import judge_panel
from bo1dash.verify.report import render_junit, render_markdown

PG_BIN = Path("/usr/lib/postgresql/15/bin")
GAUGE_VALUE = 7.0
LEDGER = [("2024-01-01T10:00:00Z", "1.10"), ("2024-01-01T11:00:00Z", "2.25"), ("2024-01-01T12:30:00Z", "0.07")]


def _wait(check: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not ready after {timeout:.0f}s")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not shutil.which("prometheus"):
        pytest.skip("prometheus binary not installed")
    registry = CollectorRegistry()
    requests = Counter("demo_requests", "requests", ["status"], registry=registry)
    inflight = Gauge("demo_inflight", "in flight", registry=registry)
    inflight.set(GAUGE_VALUE)
    requests.labels("2xx").inc(0)
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            requests.labels("2xx").inc()
            stop.wait(0.1)

    threading.Thread(target=traffic, daemon=True).start()
    exporter_port = free_port()
    server, thread = start_http_server(exporter_port, addr="127.0.0.1", registry=registry)
    root = tmp_path_factory.mktemp("prom")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [{"job_name": "demo", "static_configs": [{"targets": [f"127.0.0.1:{exporter_port}"]}]}],
    }
    (root / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    proc = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={root / 'prometheus.yml'}",
            f"--storage.tsdb.path={root / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(root / "log").open("w"),
    )
    url = f"http://127.0.0.1:{port}"

    def scraped_enough() -> bool:
        try:
            body = httpx.get(f"{url}/api/v1/query", params={"query": "count_over_time(demo_inflight[1m])"}).json()
        except (httpx.HTTPError, ValueError):  # not listening yet, or "Service Unavailable" while starting
            return False
        result = body.get("data", {}).get("result", [])
        return bool(result) and float(result[0]["value"][1]) >= 6

    try:
        _wait(scraped_enough, "prometheus scrapes")
        yield url
    finally:
        stop.set()
        proc.terminate()
        proc.wait(timeout=30)
        server.shutdown()


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    if not (PG_BIN / "initdb").exists():
        pytest.skip("PostgreSQL 15 not installed")
    root = Path(tempfile.mkdtemp(prefix="verify-pg-"))
    root.chmod(0o777)
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    data = root / "data"
    subprocess.run(
        [*as_postgres, str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    port = free_port()
    proc = subprocess.Popen(
        [
            *as_postgres,
            str(PG_BIN / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-k",
            str(root),
            "-c",
            "listen_addresses=127.0.0.1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    admin = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def up() -> bool:
        try:
            psycopg.connect(admin, connect_timeout=1).close()
            return True
        except psycopg.OperationalError:
            return False

    try:
        _wait(up, "postgres")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("CREATE TABLE api_costs (created_at timestamptz, total_cost numeric(12,6))")
            for created, cost in LEDGER:
                conn.execute("INSERT INTO api_costs VALUES (%s, %s)", (created, cost))
            conn.execute("CREATE ROLE grafana_ro LOGIN")
            conn.execute("GRANT SELECT ON api_costs TO grafana_ro")
        yield f"postgresql://grafana_ro@127.0.0.1:{port}/postgres"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture()
def provisioning(tmp_path: Path) -> Path:
    path = tmp_path / "datasources"
    path.mkdir()
    (path / "ds.yml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": 1,
                "datasources": [
                    {
                        "name": "Prometheus",
                        "uid": "prometheus",
                        "type": "prometheus",
                        "url": "http://prometheus:9090",
                        "isDefault": True,
                        "jsonData": {"timeInterval": "1s"},
                    },
                    {"name": "PG", "uid": "pg", "type": "grafana-postgresql-datasource", "url": "postgres:5432"},
                ],
            }
        )
    )
    return path


PROM = {"type": "prometheus", "uid": "prometheus"}
PG = {"type": "grafana-postgresql-datasource", "uid": "pg"}


def _panel(
    title: str, kind: str, *targets: dict[str, Any], datasource: dict[str, str] = PROM, **extra: Any
) -> dict[str, Any]:
    return {
        "title": title,
        "type": kind,
        "datasource": datasource,
        "gridPos": {"w": 12, "h": 8, "x": 0, "y": 0},
        "targets": [{"refId": chr(65 + i), "datasource": datasource, **t} for i, t in enumerate(targets)],
        **extra,
    }


def _run(
    tmp_path: Path,
    provisioning: Path,
    panels: list[dict[str, Any]],
    *,
    prometheus: str | None = None,
    postgres: str | None = None,
    expectations: dict[str, Any] | None = None,
    time_range: dict[str, str] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    board = {
        "uid": "t",
        "title": "t",
        "time": time_range or {"from": "now-5m", "to": "now"},
        "panels": panels,
        "templating": {
            "list": [
                {
                    "name": "status",
                    "type": "query",
                    "multi": True,
                    "includeAll": True,
                    "current": {"value": ["$__all"]},
                    "query": "label_values(demo_requests_total, status)",
                }
            ]
        },
    }
    path = tmp_path / "board.json"
    path.write_text(json.dumps(board))
    exp_path = None
    if expectations is not None:
        exp_path = tmp_path / "exp.json"
        exp_path.write_text(json.dumps(expectations))
    report = verify_dashboards(
        [path], endpoints=Endpoints(prometheus, postgres), provisioning_dir=provisioning, expectations=exp_path, now=now
    )
    return {"report": report, **{p.panel_title: p for p in report.panels}}


def test_live_panels_pass_and_the_stat_shows_the_gauge(tmp_path: Path, provisioning: Path, prometheus: str) -> None:
    out = _run(
        tmp_path,
        provisioning,
        [
            _panel(
                "rate",
                "timeseries",
                {"expr": 'sum by (status) (rate(demo_requests_total{status=~"$status"}[$__rate_interval]))'},
            ),
            _panel(
                "inflight",
                "stat",
                {"expr": "sum(demo_inflight)", "instant": True},
                options={"reduceOptions": {"calcs": ["lastNotNull"]}},
            ),
            _panel(
                "by status",
                "piechart",
                {"expr": "sum by (status) (increase(demo_requests_total[$__range]))", "instant": True},
            ),
            _panel("top", "table", {"expr": "topk(5, demo_requests_total)", "instant": True, "format": "table"}),
        ],
        prometheus=prometheus,
        expectations={"panels": {"t/inflight": {"value": GAUGE_VALUE, "why": "gauge set by the test"}}},
    )
    for title in ("rate", "inflight", "by status", "top"):
        assert out[title].status is Status.PASSED, out[title].reason
    assert out["inflight"].truth == "checked"
    assert out["rate"].truth.startswith("no truth:")


def test_truth_mismatch_fails(tmp_path: Path, provisioning: Path, prometheus: str) -> None:
    out = _run(
        tmp_path,
        provisioning,
        [_panel("inflight", "stat", {"expr": "sum(demo_inflight)", "instant": True})],
        prometheus=prometheus,
        expectations={"panels": {"t/inflight": {"value": GAUGE_VALUE + 1}}},
    )
    assert out["inflight"].status is Status.FAILED
    assert "wrong value" in out["inflight"].reason


def test_metric_never_emitted_is_caught(tmp_path: Path, provisioning: Path, prometheus: str) -> None:
    out = _run(
        tmp_path,
        provisioning,
        [_panel("ghost", "timeseries", {"expr": 'sum(rate(demo_ghost_total{job="demo"}[$__rate_interval]))'})],
        prometheus=prometheus,
    )
    assert out["ghost"].status is Status.FAILED
    assert "never scraped" in out["ghost"].reason and "demo_ghost_total" in out["ghost"].reason
    assert out["ghost"].targets[0].ref_id == "A"


def test_label_value_never_seen_lists_the_values(tmp_path: Path, provisioning: Path, prometheus: str) -> None:
    out = _run(
        tmp_path,
        provisioning,
        [_panel("5xx", "timeseries", {"expr": 'sum(rate(demo_requests_total{status="5xx"}[1m]))'})],
        prometheus=prometheus,
    )
    assert out["5xx"].status is Status.FAILED
    assert 'status="5xx"' in out["5xx"].reason and '"2xx"' in out["5xx"].reason


def test_label_missing(tmp_path: Path, provisioning: Path, prometheus: str) -> None:
    out = _run(
        tmp_path,
        provisioning,
        [_panel("h", "stat", {"expr": 'sum(demo_inflight{handler="/x"})', "instant": True})],
        prometheus=prometheus,
    )
    assert "label `handler` missing" in out["h"].reason


def test_masked_fallback_does_not_pass(tmp_path: Path, provisioning: Path, prometheus: str) -> None:
    out = _run(
        tmp_path,
        provisioning,
        [
            _panel("masked", "stat", {"expr": 'sum(demo_requests_total{status="5xx"}) or vector(1)', "instant": True}),
            _panel("honest", "stat", {"expr": 'sum(demo_requests_total{status="2xx"}) or vector(0)', "instant": True}),
        ],
        prometheus=prometheus,
    )
    assert out["masked"].status is Status.FAILED
    assert "masked fallback" in out["masked"].reason
    assert out["honest"].status is Status.PASSED


def test_missing_job_is_unprovable_but_missing_series_of_a_known_job_fails(
    tmp_path: Path, provisioning: Path, prometheus: str
) -> None:
    out = _run(
        tmp_path,
        provisioning,
        [
            _panel(
                "cpu",
                "timeseries",
                {"expr": 'sum(rate(container_cpu_usage_seconds_total{job="cadvisor"}[$__rate_interval]))'},
            ),
            _panel("demo missing", "timeseries", {"expr": 'sum(container_memory_working_set_bytes{job="demo"})'}),
        ],
        prometheus=prometheus,
    )
    assert out["cpu"].status is Status.UNPROVABLE and out["cpu"].unprovable_job == "cadvisor"
    assert out["demo missing"].status is Status.FAILED
    report = out["report"]
    assert not report.ok and report.unprovable == 1


def test_missing_datasource_is_named(tmp_path: Path, provisioning: Path, prometheus: str) -> None:
    gone = {"type": "prometheus", "uid": "gone"}
    out = _run(
        tmp_path,
        provisioning,
        [_panel("lost", "stat", {"expr": "sum(demo_inflight)"}, datasource=gone)],
        prometheus=prometheus,
    )
    assert (
        out["lost"].status is Status.FAILED
        and "datasource missing" in out["lost"].reason
        and "gone" in out["lost"].reason
    )


def test_sql_money_to_the_cent_and_sql_errors(tmp_path: Path, provisioning: Path, postgres: str) -> None:
    day = {"from": "2024-01-01T00:00:00Z", "to": "2024-01-02T00:00:00Z"}
    ledger_total = sum(float(cost) for _, cost in LEDGER)
    out = _run(
        tmp_path,
        provisioning,
        [
            _panel(
                "spend",
                "stat",
                {
                    "rawSql": "SELECT sum(total_cost)::float8 AS spend FROM api_costs WHERE $__timeFilter(created_at)",
                    "format": "table",
                },
                datasource=PG,
            ),
            _panel(
                "hourly",
                "timeseries",
                {
                    "rawSql": "SELECT $__timeGroupAlias(created_at, '1h'), sum(total_cost)::float8 AS spend FROM api_costs WHERE $__timeFilter(created_at) GROUP BY 1 ORDER BY 1",
                    "format": "time_series",
                },
                datasource=PG,
            ),
            _panel("broken", "stat", {"rawSql": "SELECT nope FROM api_costs", "format": "table"}, datasource=PG),
            _panel(
                "empty", "table", {"rawSql": "SELECT * FROM api_costs WHERE false", "format": "table"}, datasource=PG
            ),
            _panel(
                "write",
                "stat",
                {"rawSql": "INSERT INTO api_costs VALUES (now(), 1) RETURNING 1", "format": "table"},
                datasource=PG,
            ),
        ],
        postgres=postgres,
        time_range=day,
        expectations={"panels": {"t/spend": {"value": ledger_total, "money": True}}},
    )
    assert out["spend"].status is Status.PASSED and out["spend"].truth == "checked"
    assert out["hourly"].status is Status.PASSED, out["hourly"].reason
    assert out["broken"].status is Status.FAILED and 'column "nope" does not exist' in out["broken"].reason
    assert out["empty"].status is Status.FAILED and "no rows" in out["empty"].reason
    assert out["write"].status is Status.FAILED and "read-only" in out["write"].reason


def test_reports_name_each_panel(tmp_path: Path, provisioning: Path, prometheus: str) -> None:
    out = _run(
        tmp_path,
        provisioning,
        [
            _panel("inflight", "stat", {"expr": "sum(demo_inflight)", "instant": True}),
            _panel("ghost", "stat", {"expr": "sum(demo_ghost)", "instant": True}),
        ],
        prometheus=prometheus,
    )
    suite = ET.fromstring(render_junit(out["report"]))
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert set(cases) == {"t/inflight", "t/ghost"}
    assert cases["t/ghost"].find("failure") is not None and cases["t/inflight"].find("failure") is None
    markdown = render_markdown(out["report"])
    assert "| ghost | failed |" in markdown and "1 proven" in markdown


def test_panel_result_carries_the_results_it_judged(tmp_path: Path, provisioning: Path, prometheus: str) -> None:
    gone = {"type": "prometheus", "uid": "gone"}
    panels = [
        {
            **_panel(
                "two targets",
                "timeseries",
                {"expr": "sum by (status) (rate(demo_requests_total[$__rate_interval]))"},
                {"expr": "sum(demo_inflight)"},
            ),
            "id": 7,
        },
        {**_panel("inflight", "stat", {"expr": "sum(demo_inflight)", "instant": True}), "id": 8},
        {
            **_panel(
                "masked", "stat", {"expr": 'sum(demo_requests_total{status="5xx"}) or vector(1)', "instant": True}
            ),
            "id": 9,
        },
        {
            **_panel(
                "half lost",
                "timeseries",
                {"expr": "sum(demo_inflight)"},
                {"expr": "sum(demo_inflight)", "datasource": gone},
            ),
            "id": 10,
        },
        _panel("no id", "stat", {"expr": "sum(demo_inflight)", "instant": True}),
    ]
    out = _run(tmp_path, provisioning, panels, prometheus=prometheus)
    for panel in panels:
        result = out[panel["title"]]
        assert result.panel_id == panel.get("id")
        assert len(result.results) == len(panel["targets"]), panel["title"]
        # what the report says the panel showed is the judge's verdict on exactly these results
        assert judge_panel(panel, result.results).shown == result.shown, panel["title"]

    both = out["two targets"]
    assert both.status is Status.PASSED
    assert [r.query for r in both.results] == [t.query for t in both.targets]
    assert [r.kind for r in both.results] == ["range", "range"]
    assert {s.labels.get("status") for s in both.results[0].series} == {"2xx"}
    assert set(both.results[1].series[0].finite()) == {GAUGE_VALUE}

    inflight = out["inflight"]
    assert inflight.results[0].kind == "instant"
    assert reduce_values(inflight.results[0].series[0].values(), "lastNotNull") == GAUGE_VALUE

    # the masked-fallback probe (`sum(...{status="5xx"})` alone) is not among the results: the panel showed the 1
    masked = out["masked"]
    assert masked.status is Status.FAILED and len(masked.results) == 1
    assert masked.results[0].query == masked.targets[0].query and " or vector(1)" in masked.results[0].query
    assert masked.results[0].series[0].finite() == [1.0]

    # a target that returned nothing keeps its place (results[i] belongs to the i-th visible target)
    lost = out["half lost"]
    assert lost.status is Status.FAILED and "datasource missing" in lost.reason
    assert not lost.results[0].is_empty() and lost.results[1].is_empty()
    assert out["report"].now is not None
