"""The bench's floor: one trivial query per timed target, of the target's kind, against the same real servers,
and `seconds / floor` computed from those timings (nothing here asserts a duration)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from bo1dash.bench import report as rpt
from bo1dash.bench.floor import (
    FLOOR_RATIO_TARGET,
    floor_table,
    machine_floor,
    measure_floor,
    rows_with_floor,
    summary_with_floor,
    time_against_floor,
)
from bo1dash.bench.panels import Env, run_dashboard
from bo1dash.bench.prom import BenchPrometheus, start_prometheus
from bo1dash.grafana.datasources import Datasource
from bo1dash.grafana.prometheus import PrometheusClient
from bo1dash.stack.binaries import PROMETHEUS, find_binaries

PROM = {"type": "prometheus", "uid": "prom"}
PG = {"type": "grafana-postgresql-datasource", "uid": "pg"}

# Every kind of target the floor stands in for: a range query (a hidden target beside it), an instant one, SQL
# inside a collapsed row, a datasource provisioning does not know, and a panel without queries.
DASHBOARD: dict[str, Any] = {
    "uid": "floor-test",
    "title": "floor test",
    "panels": [
        {
            "type": "timeseries",
            "title": "Rate",
            "datasource": PROM,
            "targets": [
                {"refId": "A", "expr": "sum(rate(prometheus_http_requests_total[$__rate_interval]))"},
                {"refId": "B", "expr": "up", "hide": True},
            ],
        },
        {
            "type": "stat",
            "title": "Now",
            "datasource": PROM,
            "targets": [{"refId": "A", "expr": "count(up)", "instant": True}],
        },
        {
            "type": "row",
            "title": "Ledger",
            "collapsed": True,
            "panels": [
                {
                    "type": "table",
                    "title": "Sum",
                    "datasource": PG,
                    "targets": [{"refId": "A", "rawSql": "SELECT sum(g) FROM generate_series(1, 200000) g"}],
                }
            ],
        },
        {"type": "text", "title": "Notes"},
        {
            "type": "stat",
            "title": "Elsewhere",
            "targets": [{"refId": "A", "expr": "up", "datasource": {"uid": "gone"}}],
        },
    ],
}


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BenchPrometheus]:
    binary = find_binaries((PROMETHEUS,))["prometheus"]
    root = tmp_path_factory.mktemp("floor-prom")
    server = start_prometheus(binary, root / "tsdb", root)
    try:
        yield server
    finally:
        server.stop()


def _query_requests(url: str) -> dict[str, float]:
    """Prometheus' own count of API requests per handler."""
    counts: dict[str, float] = {}
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        if line.startswith("prometheus_http_requests_total{") and 'handler="/api/v1/query' in line:
            handler = line.split('handler="', 1)[1].split('"', 1)[0]
            counts[handler] = counts.get(handler, 0.0) + float(line.rsplit(" ", 1)[1])
    return counts


def _env(prometheus: BenchPrometheus, postgres_url: str) -> Env:
    """The bench's environment on the test's servers: DASHBOARD's two datasources, no recording rules."""
    return Env(
        datasources={
            "prom": Datasource("prom", "Prometheus", "prometheus", json_data={"timeInterval": "60s"}),
            "pg": Datasource("pg", "bo1 Postgres", "grafana-postgresql-datasource"),
        },
        prometheus=PrometheusClient(prometheus.url, timeout=60),
        sql_dsn=postgres_url,
        rules=[],
        available_records=set(),
    )


def _rollbacks(dsn: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT xact_rollback FROM pg_stat_database WHERE datname = current_database()").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.live
def test_the_floor_replays_each_target_as_a_trivial_query_on_the_same_servers(
    prometheus: BenchPrometheus, postgres_url: str, tmp_path: Path
) -> None:
    env = _env(prometheus, postgres_url)
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    run = run_dashboard(env, DASHBOARD, "7d", end)
    assert [p.title for p in run.panels] == ["Rate", "Now", "Sum", "Elsewhere"]
    step = run.panels[0].targets[0].step
    assert step and not run.panels[0].targets[0].instant and run.panels[1].targets[0].instant

    requests_before, rollbacks_before = _query_requests(prometheus.url), _rollbacks(postgres_url)
    floor = measure_floor(env, DASHBOARD, run, end)
    requests_after = _query_requests(prometheus.url)

    # One trivial query per target the dashboard ran, of that target's kind, and nothing for the hidden one.
    assert [[(q.ref_id, q.kind) for q in p.queries] for p in floor.panels] == [
        [("A", "prometheus-range")],
        [("A", "prometheus-instant")],
        [("A", "postgres")],
        [("A", "none")],
    ]
    assert floor.queries == 4
    # They reached the servers: one range and one instant query on Prometheus, a rolled-back read-only
    # transaction on PostgreSQL (its statistics arrive when the backend exits).
    assert requests_after.get("/api/v1/query_range", 0) - requests_before.get("/api/v1/query_range", 0) == 1
    assert requests_after.get("/api/v1/query", 0) - requests_before.get("/api/v1/query", 0) == 1
    deadline = time.monotonic() + 10
    while _rollbacks(postgres_url) <= rollbacks_before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _rollbacks(postgres_url) > rollbacks_before
    assert all(q.error is None for p in floor.panels for q in p.queries)
    measured = [q.seconds for p in floor.panels for q in p.queries if q.kind != "none"]
    assert len(measured) == 3 and all(s > 0 for s in measured)
    assert floor.panels[3].queries[0].seconds == 0.0
    # Passes: the dashboard and its floor alternate; the ratio is the median seconds over the median floor.
    before = _query_requests(prometheus.url)
    passes = time_against_floor(env, DASHBOARD, run, end, 3)
    after = _query_requests(prometheus.url)
    assert passes.runs[0] is run and len(passes.runs) == len(passes.floors) == 3
    for handler in ("/api/v1/query_range", "/api/v1/query"):  # 3 floors and 2 more runs, one query each
        assert after.get(handler, 0) - before.get(handler, 0) == 5
    seconds = sorted(r.seconds for r in passes.runs)[1]
    floors = sorted(f.seconds for f in passes.floors)[1]
    assert all(f.seconds > 0 for f in passes.floors)

    summary = summary_with_floor(rpt.dashboard_summary(run), passes)
    assert summary["seconds"] == run.seconds and summary["median_seconds"] == seconds
    assert summary["floor_seconds"] == floors
    assert summary["floor_seconds_per_pass"] == [f.seconds for f in passes.floors]
    assert summary["floor_ratio"] == pytest.approx(seconds / floors)
    assert summary["floor_ratio_target"] == FLOOR_RATIO_TARGET["7d"]
    assert summary["meets_floor_target"] is (summary["floor_ratio"] <= FLOOR_RATIO_TARGET["7d"])

    rows = rows_with_floor(rpt.panel_rows(run), passes)
    for index, (row, panel) in enumerate(zip(rows, passes.floors[0].panels, strict=True)):
        assert row["title"] == run.panels[index].title
        panel_seconds = sorted(r.panels[index].seconds for r in passes.runs)[1]
        panel_floor = sorted(f.panels[index].seconds for f in passes.floors)[1]
        assert row["floor_seconds"] == panel_floor
        if panel_floor:
            assert row["floor_ratio"] == pytest.approx(panel_seconds / panel_floor)
        else:
            assert row["floor_ratio"] is None
        assert [t["floor_kind"] for t in row["targets"]] == [q.kind for q in panel.queries]

    machine = machine_floor([passes])
    report = {"dashboards": [summary], "panels": rows, "floor": machine}
    assert {k: v["queries"] for k, v in machine.items()} == {
        "postgres": 3,
        "prometheus-instant": 3,
        "prometheus-range": 3,
    }
    path = tmp_path / "bench.json"
    rpt.write_json(path, report)
    loaded = json.loads(path.read_text())
    assert loaded["dashboards"][0]["floor_ratio"] == pytest.approx(summary["floor_ratio"])
    assert "floor-test" in floor_table(loaded)


def test_floor_rows_refuse_a_run_they_do_not_match() -> None:
    from bo1dash.bench.floor import FloorPanel, FloorRun, Passes
    from bo1dash.bench.panels import DashboardRun, PanelFigures

    run = DashboardRun("d", "7d", 1.0, panels=[PanelFigures("a", "stat", 1.0)])
    with pytest.raises(ValueError, match="1 panel rows but 2 floor panels"):
        rows_with_floor(rpt.panel_rows(run), Passes([run], [FloorRun("d", "7d", [FloorPanel("a"), FloorPanel("b")])]))
    with pytest.raises(ValueError, match="panel 'a' of the run is not in the dashboard"):
        measure_floor(None, {"panels": [{"title": "b", "targets": []}]}, run, datetime.now(UTC))  # type: ignore[arg-type]


def _connections_accepted(url: str) -> float:
    """Prometheus' count of TCP connections its web listener accepted (this request's own included)."""
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        if line.startswith("net_conntrack_listener_conn_accepted_total{") and 'listener_name="http"' in line:
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError("Prometheus exposes no net_conntrack_listener_conn_accepted_total")


@pytest.mark.live
def test_queries_and_their_floor_share_one_connection(prometheus: BenchPrometheus, postgres_url: str) -> None:
    """A new HTTP client per query costs its set-up (the CA bundle: ~16 ms) in every query, trivial or not: it
    was most of the first floor measured. Dashboard runs and floors reuse one connection pool."""
    env = _env(prometheus, postgres_url)
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    prometheus_only = {**DASHBOARD, "panels": DASHBOARD["panels"][:2]}
    run_dashboard(env, prometheus_only, "24h", end)  # the pool's connection, if no test opened it yet
    before = _connections_accepted(prometheus.url)
    passes = time_against_floor(env, prometheus_only, run_dashboard(env, prometheus_only, "7d", end), end, 3)
    after = _connections_accepted(prometheus.url)
    assert sum(f.queries for f in passes.floors) + sum(len(p.targets) for r in passes.runs for p in r.panels) >= 10
    # The second /metrics read's own connection, and at most one reconnect of the pool (httpx drops a connection
    # idle for 5 s, which a stalled CI machine may reach); a client per query opens one per query (>= 10).
    assert after - before <= 2
