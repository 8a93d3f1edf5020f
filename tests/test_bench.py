"""The benchmark's pieces at a small scale: generated history valid for promtool and true to bo1's contract,
the ledger plan detector, rule expansion, and the report's fields. No timing is asserted."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from bo1dash.bench import report as rpt
from bo1dash.bench.openmetrics import write_window
from bo1dash.bench.panels import DashboardRun, PanelFigures, TargetFigures, panel_window
from bo1dash.bench.plans import PlanReport, scans_of
from bo1dash.bench.rules import (
    CANDIDATES,
    PROPOSED_RULES,
    RecordingRule,
    backfill_rule_file,
    expand_recorded,
    load_rules,
    records_read,
    uses_records,
    validate,
    widen_windows,
)
from bo1dash.bench.scale import PRESETS
from bo1dash.bench.series import HTTP_BUCKETS, iter_series, plan
from bo1dash.bench.tsdb import block_windows
from bo1dash.catalog import load_catalog
from bo1dash.compile import compile_mixin
from bo1dash.prometheus_config import JOB_KEYS

ROOT = Path(__file__).resolve().parent.parent
CONFIG = compile_mixin(ROOT / "jsonnet" / "mixin.libsonnet", root=ROOT).config
# Every job prometheus.yml scrapes besides the API: the history has their `up` series.
EXPORTER_JOB_KEYS = tuple(key for key in JOB_KEYS if key != "apiJob")
SMALL = replace(PRESETS["small"], days=0.25, deploy_every_hours=2)
START = 1_767_225_600  # 2026-01-01T00:00:00Z
LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+) (\d+)$")


def _text(tmp_path: Path) -> Path:
    families = plan(SMALL, 0, CONFIG)
    path = tmp_path / "history.om"
    with open(path, "w") as out:
        write_window(out, families, 0, SMALL.minutes, START, SMALL.step_seconds)
    return path


def test_promtool_accepts_the_generated_history(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool (Debian package prometheus) is not installed")
    path = _text(tmp_path)
    out = subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(path), str(tmp_path / "db")],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    metas = [json.loads(m.read_text()) for m in (tmp_path / "db").glob("*/meta.json")]
    assert metas and sum(m["stats"]["numSamples"] for m in metas) > 0


def _seen(tmp_path: Path) -> dict[str, set[str]]:
    """Every value of every label per series name of the generated history (`name/label` -> values)."""
    seen: dict[str, set[str]] = {}
    for line in _text(tmp_path).read_text().splitlines():
        if line.startswith("#"):
            continue
        match = LINE.match(line)
        assert match, line
        name, labels = match.group(1), dict(re.findall(r'(\w+)="([^"]*)"', match.group(2)))
        seen.setdefault(name, set())
        for key, value in labels.items():
            seen.setdefault(f"{name}/{key}", set()).add(value)
    return seen


def test_series_follow_the_catalog_and_the_config(tmp_path: Path) -> None:
    """Every generated series is one the repository's catalog knows, with its labels and label values; job
    names, the stream route and the process groups are the mixin's `_config`."""
    catalog = load_catalog()
    seen = _seen(tmp_path)
    names = {k for k in seen if "/" not in k}
    for name in sorted(names):
        ref = catalog.lookup(name)
        assert ref is not None, f"{name} is not in the catalog"
        for key in (k for k in seen if k.startswith(name + "/")):
            label = key.split("/", 1)[1]
            if label == "le":
                assert ref.suffix == "_bucket", key
                continue
            assert ref.family.allows_label(label, catalog.target_labels), key
            closed = ref.family.values.get(label)
            if closed is not None:
                assert seen[key] <= set(closed), key
            assert all(ref.family.is_emitted_value(label, v) for v in seen[key]), key
    assert list(HTTP_BUCKETS) == list(catalog.lookup("http_request_duration_seconds_bucket").family.buckets)
    assert seen["http_request_duration_seconds_bucket/le"] == {repr(b) for b in HTTP_BUCKETS} | {"+Inf"}
    assert seen["http_requests_total/job"] == set(SMALL.jobs)
    assert all(re.fullmatch(CONFIG["apiJobRegex"], job) for job in seen["http_requests_total/job"])
    assert len(seen["http_requests_total/instance"]) == 4
    assert len(seen["http_requests_total/handler"]) >= 40
    assert all(
        h.startswith("/api/") and "/metrics" not in h and "/health" not in h
        for h in seen["http_requests_total/handler"]
    )
    assert CONFIG["streamHandler"] in seen["http_requests_total/handler"]
    assert "status" not in {k.split("/")[1] for k in seen if k.startswith("http_requests_inprogress/")}
    assert len(seen["llm_cost_dollars_total/model"]) >= 10
    assert {CONFIG[key] for key in EXPORTER_JOB_KEYS} <= seen["up/job"]
    groups = set(re.fullmatch(r'groupname=~"(.*)"', CONFIG["processGroupSelector"]).group(1).split("|"))
    assert groups < seen["namedprocess_namegroup_memory_bytes/groupname"]


def test_history_follows_another_config(tmp_path: Path) -> None:
    """A consumer's _config renames the jobs and the stream route: the history uses its names."""
    other = {
        **CONFIG,
        "redisExporterJob": "redis",
        "streamHandler": "/api/v2/stream/{id}",
        "processGroupSelector": 'groupname=~"api|db"',
    }
    series = list(iter_series(plan(SMALL, 0, other)))
    jobs = {dict(s.labels)["job"] for s in series if s.name == "redis_connected_clients"}
    assert jobs == {"redis"}
    assert "/api/v2/stream/{id}" in {dict(s.labels).get("handler") for s in series}
    assert {dict(s.labels)["groupname"] for s in series if "groupname" in dict(s.labels)} == {"api", "db", "other"}
    with pytest.raises(ValueError, match="apiJobRegex"):
        plan(SMALL, 0, {**CONFIG, "apiJobRegex": "my-api"})


def test_series_match_the_shared_contract(tmp_path: Path, shared_dir: Path) -> None:
    """Cross-check with bo1's contract beside the repository (when present): buckets and label values."""
    import yaml

    contract = yaml.safe_load((shared_dir / "bo1-contract.yaml").read_text())
    http = {m["name"]: m for m in contract["http_metrics"]["metrics"]}
    buckets = [b for b in http["http_request_duration_seconds"]["buckets"] if b != "+Inf"]
    assert list(HTTP_BUCKETS) == [float(b) for b in buckets]
    seen = _seen(tmp_path)
    assert set(seen["http_requests_total/status"]) <= {"1xx", "2xx", "3xx", "4xx", "5xx"}
    assert seen["bo1_sessions_total/status"] == {"created", "terminated"}
    assert seen["bo1_graph_node_total/status"] == {"success", "error"}


def test_sparsity_not_every_handler_sees_every_status() -> None:
    families = plan(PRESETS["production"], 0, CONFIG)
    requests = next(f for f in families if f.name == "http_requests")
    combos = {(dict(s.labels)["handler"], dict(s.labels)["method"], dict(s.labels)["status"]) for s in requests.series}
    handlers = {h for h, _, _ in combos}
    full = len({(h, m) for h, m, _ in combos}) * 4
    assert len(handlers) >= 40 and len(combos) < full / 1.5


def test_blue_green_counters_restart_and_idle_colour_has_no_samples() -> None:
    families = plan(SMALL, 0, CONFIG)
    series = [s for s in iter_series(families) if s.name == "http_requests_total"]
    blue = next(s for s in series if dict(s.labels)["job"] == "bo1-backend-blue")
    green = next(s for s in series if dict(s.labels)["job"] == "bo1-backend-green")
    blue_minutes = {t for w in blue.windows for t in range(w.start, w.end)}
    green_minutes = {t for w in green.windows for t in range(w.start, w.end)}
    assert not blue_minutes & green_minutes and blue_minutes | green_minutes == set(range(SMALL.minutes))
    first = blue.windows[0]
    values = [int(blue.value(t, first)) for t in range(first.start, first.end)]
    assert values[0] == 0 and values == sorted(values)


def test_block_windows_are_aligned_and_cover_the_history() -> None:
    windows = block_windows(START + 3600, 3 * 1440, 60, block_hours=18)
    assert windows[0][0] == 0 and windows[-1][1] == 3 * 1440
    assert all(a < b for a, b in windows) and all(w[1] == n[0] for w, n in zip(windows, windows[1:]))
    assert all((START + 3600 + b * 60) % (18 * 3600) == 0 for _, b in windows[:-1])


def test_plan_detector_flags_a_seq_scan_over_a_ledger_partition() -> None:
    plan_json = {
        "Node Type": "Aggregate",
        "Plans": [
            {
                "Node Type": "Append",
                "Plans": [
                    {
                        "Node Type": "Seq Scan",
                        "Relation Name": "api_costs_2026_01",
                        "Actual Rows": 10,
                        "Actual Loops": 1,
                        "Rows Removed by Filter": 999_990,
                    },
                    {
                        "Node Type": "Index Scan",
                        "Relation Name": "api_costs_2026_02",
                        "Index Name": "api_costs_2026_02_created_at_idx",
                        "Actual Rows": 5,
                        "Actual Loops": 1,
                    },
                    {
                        "Node Type": "Index Only Scan",
                        "Relation Name": "api_costs_2026_03",
                        "Index Name": "api_costs_2026_03_created_at_session_id_provider_total_cost_idx",
                        "Actual Rows": 5,
                        "Actual Loops": 1,
                    },
                    {"Node Type": "Seq Scan", "Relation Name": "users", "Actual Rows": 50, "Actual Loops": 1},
                ],
            }
        ],
    }
    report = PlanReport(execution_ms=1.0, planning_ms=0.1, wall_ms=1.2, scans=scans_of(plan_json))
    assert report.seq_scanned_partitions() == ["api_costs_2026_01"]
    assert "api_costs_2026_02: Index Scan api_costs_2026_02_created_at_idx" in report.ledger_access()
    assert any(a.startswith("api_costs_2026_03: Index Only Scan") for a in report.ledger_access())


@pytest.mark.live
def test_plan_detector_on_a_real_postgres(tmp_path: Path) -> None:
    """A crafted case: a filter no index serves makes PostgreSQL read the whole partition."""
    from bo1dash.bench.ledger import load_ledger, vacuum_ledger
    from bo1dash.bench.plans import explain
    from bo1dash.bench.scale import history_end
    from bo1dash.stack.binaries import INITDB, POSTGRES, MissingBinaryError, find_binaries
    from bo1dash.stack.postgres import start_postgres
    from bo1dash.stack.process import stop
    from bo1dash.workload.schema import apply_schema

    try:
        binaries = find_binaries((INITDB, POSTGRES))
    except MissingBinaryError as exc:
        pytest.skip(str(exc))
    root = Path(__import__("tempfile").mkdtemp(prefix="bo1bench-test-"))
    root.chmod(0o755)
    info = start_postgres(binaries, root, apply_schema=apply_schema, timeout=120)
    try:
        end = history_end()
        stats = load_ledger(info.database_url, replace(PRESETS["small"], days=2), end)
        assert stats.api_costs == 2_000
        # bo1 appends each call's row as it completes: in every partition, heap order is time order (what the
        # planner reads as the correlation of created_at; rows generated session by session would be near 0).
        with psycopg.connect(info.database_url) as conn:
            correlation = conn.execute(
                "SELECT tablename, correlation FROM pg_stats WHERE tablename LIKE 'api_costs\\_%'"
                " AND attname = 'created_at' AND NOT inherited"
            ).fetchall()
        assert correlation and all(c > 0.95 for _, c in correlation), correlation
        # As the owner: grafana_ro reads only the columns the dashboards read (no latency_ms).
        seq = explain(info.database_url, "SELECT sum(total_cost) FROM api_costs WHERE latency_ms > 20000")
        assert seq.seq_scanned_partitions() and all(p.startswith("api_costs_") for p in seq.seq_scanned_partitions())
        assert seq.execution_ms > 0
        vacuum = vacuum_ledger(info.database_url)
        assert vacuum.visibility and all(visible == pages for pages, visible in vacuum.visibility.values())
    finally:
        stop(info.service)
        shutil.rmtree(root, ignore_errors=True)


def test_expand_recorded_replaces_records_by_their_raw_expression() -> None:
    rules = [
        RecordingRule(
            "handler:http_requests:rate5m",
            'sum by (job, handler, method, status) (rate(http_requests_total{job=~"bo1-.*"}[5m]))',
        )
    ]
    expr = 'sum by (status) (handler:http_requests:rate5m{handler=~"/api/v1/sessions"})'
    assert uses_records(expr, rules)
    expanded = expand_recorded(expr, rules)
    assert "handler:http_requests:rate5m" not in expanded
    assert 'http_requests_total{job=~"bo1-.*", handler=~"/api/v1/sessions"}' in expanded
    assert validate(expanded) is None


def test_expand_recorded_turns_a_range_over_a_record_into_a_subquery_at_its_interval() -> None:
    rules = [
        RecordingRule(
            "handler:http_requests:rate1m",
            'sum by (job, handler, status) (rate(http_requests_total{job=~"bo1-.*"}[1m]))',
            interval="1m",
        )
    ]
    expr = 'sum by (status) (avg_over_time(handler:http_requests:rate1m{handler=~"$handler"}[$__rate_interval]))'
    expanded = expand_recorded(expr, rules)
    assert expanded.endswith("[1m])))[$__rate_interval:1m]))")
    assert validate(expanded.replace("$__rate_interval", "4m").replace("$handler", ".*")) is None


def _exprs(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [str(node["expr"])] if isinstance(node.get("expr"), str) and node["expr"] else []
        return own + [e for v in node.values() for e in _exprs(v)]
    if isinstance(node, list):
        return [e for v in node for e in _exprs(v)]
    return []


def test_widen_windows_gives_every_rate_two_samples_of_the_history() -> None:
    expr = 'sum(rate(a[1m])) / sum(rate(b{le="0.5"}[5m])) + sum_over_time(c[$__range])'
    assert widen_windows(expr, 120) == 'sum(rate(a[2m])) / sum(rate(b{le="0.5"}[5m])) + sum_over_time(c[$__range])'
    assert widen_windows(expr, 0) == expr


def _built_rules(repo_root: Path) -> list[RecordingRule]:
    path = repo_root / "infra" / "prometheus" / "rules" / "bo1-rules.yml"
    if not path.is_file():
        pytest.skip("no built rule file yet")
    return load_rules(path)


def test_every_record_the_dashboards_read_is_in_the_rule_file_and_expands(repo_root: Path) -> None:
    rules = _built_rules(repo_root)
    exprs = [
        e
        for d in (repo_root / "infra" / "grafana" / "dashboards").glob("*.json")
        for e in _exprs(json.loads(d.read_text()))
    ]
    read = {n for e in exprs for n in records_read(e, rules)}
    assert {
        "handler:http_requests:rate1m",
        "handler:http_request_duration_seconds_bucket:rate5m",
        "handler:http_requests_inprogress:sum",
    } <= read
    for expr in exprs:
        expanded = expand_recorded(expr, rules)
        assert not records_read(expanded, rules), expanded
        assert (
            validate(
                expanded.replace("$__rate_interval", "4m")
                .replace("$__range", "1d")
                .replace("$job", ".*")
                .replace("$handler", ".*")
            )
            is None
        ), expanded


def test_candidates_read_records_of_the_rule_file_or_declared_proposals(repo_root: Path) -> None:
    records = {r.record for r in _built_rules(repo_root)}
    proposed = {r.record for r in PROPOSED_RULES}
    for candidate in CANDIDATES:
        assert set(candidate.needs) <= (proposed if candidate.proposed else records), candidate
        assert (
            validate(
                candidate.expr.replace("$__rate_interval", "5m")
                .replace("$__range", "1d")
                .replace("$job", ".*")
                .replace("$handler", ".*")
            )
            is None
        )


def test_backfill_rule_file_is_valid_for_promtool(tmp_path: Path, repo_root: Path) -> None:
    """Rules on rules are written expanded (promtool backfills them in one run), groups keep their interval."""
    rules = _built_rules(repo_root)
    needs = {
        "job:http_request_duration_seconds_bucket:rate1m",
        "token_type:llm_tokens:rate1m",
        "handler:http_request_duration_seconds_bucket:rate5m",
        *(n for c in CANDIDATES for n in c.needs),
    }
    written = backfill_rule_file(rules, needs, tmp_path / "rules.yml")
    assert set(written) == needs
    import yaml

    doc = yaml.safe_load((tmp_path / "rules.yml").read_text())
    recorded = {r.record for r in [*rules, *PROPOSED_RULES]}
    for group in doc["groups"]:
        for rule in group["rules"]:
            assert not records_read(rule["expr"], [*rules, *PROPOSED_RULES]), rule
    assert {g["interval"] for g in doc["groups"]} == {"1m", "5m"}
    assert recorded
    promtool = shutil.which("promtool")
    if promtool is not None:
        out = subprocess.run([promtool, "check", "rules", str(tmp_path / "rules.yml")], capture_output=True, text=True)
        assert out.returncode == 0, out.stdout + out.stderr


def test_report_has_its_fields(tmp_path: Path) -> None:
    target = TargetFigures(
        "A",
        "prometheus",
        "rule",
        0.05,
        samples=50,
        series=1,
        step=60,
        records=["r"],
        raw_query="raw",
        raw_seconds=0.5,
        raw_samples=1000,
    )
    sql = TargetFigures(
        "A",
        "postgres",
        "SELECT 1",
        0.2,
        sql_execution_ms=150.0,
        ledger_access=["api_costs_2026_01: Seq Scan"],
        seq_scanned_partitions=["api_costs_2026_01"],
    )
    fixable = TargetFigures(
        "A",
        "prometheus",
        "raw counters",
        0.3,
        samples=600,
        series=1,
        fix_query="coarse rule",
        fix_seconds=0.01,
        fix_samples=6,
    )
    run = DashboardRun(
        uid="bo1-api",
        range="7d",
        seconds=0.55,
        samples=650,
        sql_ms=150.0,
        panels=[
            PanelFigures("Latency", "timeseries", 0.05, 50, [target]),
            PanelFigures("Spend", "stat", 0.2, 0, [sql]),
            PanelFigures("Status codes", "piechart", 0.3, 600, [fixable]),
        ],
    )
    report = {
        "machine": rpt.machine(None, None),
        "scale": PRESETS["small"].to_json(),
        "ranges": ["7d"],
        "dashboards": [rpt.dashboard_summary(run)],
        "panels": rpt.panel_rows(run),
        "ledger_before_vacuum": rpt.panel_rows(
            DashboardRun(uid="bo1-api", range="7d", panels=[PanelFigures("Spend", "stat", 0.4, 0, [sql])])
        ),
    }
    path = tmp_path / "bench.json"
    rpt.write_json(path, report)
    loaded = json.loads(path.read_text())
    summary = loaded["dashboards"][0]
    assert {
        "uid",
        "range",
        "seconds",
        "samples",
        "sql_execution_ms",
        "raw_samples",
        "samples_ratio",
        "with_fixes_seconds",
        "meets_target_with_fixes",
    } <= set(summary)
    assert summary["raw_samples"] == 1600 and summary["with_fixes_samples"] == 56
    assert summary["samples_ratio"] == pytest.approx(1600 / 650)
    assert summary["meets_target"] is True and summary["with_fixes_seconds"] == pytest.approx(0.26)
    assert loaded["machine"]["cores"] >= 1
    latency, spend, codes = loaded["panels"]
    assert latency["samples_ratio"] == pytest.approx(20.0) and latency["meets_rule_ratio"] is True
    assert spend["flag_seq_scan_24h"] is False and spend["ledger_access"] == ["api_costs_2026_01: Seq Scan"]
    assert codes["raw_samples"] is None and codes["with_fixes_samples"] == 6
    text = rpt.table(loaded)
    assert "bo1-api" in text and "before -> after VACUUM" in text


def test_a_live_panel_is_timed_over_its_own_relative_time() -> None:
    """Grafana queries a panel with `timeFrom` over that range, whatever the dashboard shows (the bench once
    timed the 1h live panels over 30 days)."""
    end = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    live = panel_window({"timeFrom": "1h"}, "30d", end)
    assert (live.start, live.end) == (end - timedelta(hours=1), end)
    whole = panel_window({}, "7d", end)
    assert (whole.start, whole.end) == (end - timedelta(days=7), end)
    shifted = panel_window({"timeShift": "1d"}, "24h", end)
    assert (shifted.start, shifted.end) == (end - timedelta(days=2), end - timedelta(days=1))
