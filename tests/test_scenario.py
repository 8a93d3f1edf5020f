"""A small scenario against a real workload, Postgres and Redis; its truth is checked against the database."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from prometheus_client import CollectorRegistry

pytest.importorskip("prometheus_fastapi_instrumentator")

from servers import serve  # noqa: E402

from bo1dash.scenario import SMALL, run_scenario  # noqa: E402
from bo1dash.workload import Settings, apply_schema, create_app  # noqa: E402


@pytest.fixture(scope="module")
def scenario(postgres_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory):  # noqa: F811
    apply_schema(postgres_url)
    app = create_app(Settings(postgres_url, redis_url, registry=CollectorRegistry(), time_scale=0.01))
    out = tmp_path_factory.mktemp("scenario") / "expectations.json"
    with serve(app) as url:
        with run_scenario(url, postgres_url, seed=7, out=out, config=SMALL) as truth:
            yield truth, out, url


def _db(url: str, query: str, *params: object) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def test_expectations_file_is_the_returned_truth(scenario) -> None:
    truth, out, _ = scenario
    assert json.loads(Path(out).read_text()) == json.loads(json.dumps(truth.data))


def test_cost_totals_equal_the_ledger(scenario, postgres_url: str) -> None:  # noqa: F811
    truth, _, _ = scenario
    users = sorted(truth.data["cost"]["users"])
    [(count, total)] = _db(
        postgres_url, "SELECT count(*), sum(total_cost) FROM api_costs WHERE user_id = ANY(%s)", users
    )
    summary = truth.data["cost"]["all_history"]
    assert summary["calls"] == count
    assert Decimal(summary["total"]) == total
    by_model = dict(
        _db(
            postgres_url,
            "SELECT coalesce(model_name, '(none)'), sum(total_cost) FROM api_costs WHERE user_id = ANY(%s) GROUP BY 1",
            users,
        )
    )
    assert {k: Decimal(v) for k, v in summary["by_model"].items()} == by_model
    per_day = dict(
        _db(
            postgres_url,
            "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), sum(total_cost) "
            "FROM api_costs WHERE user_id = ANY(%s) GROUP BY 1",
            users,
        )
    )
    assert {k: Decimal(v) for k, v in summary["per_day_utc"].items()} == per_day
    [(avg,)] = _db(
        postgres_url,
        "SELECT sum(total_cost) / count(DISTINCT session_id) FROM api_costs "
        "WHERE user_id = ANY(%s) AND session_id IS NOT NULL",
        users,
    )
    assert Decimal(summary["avg_cost_per_session"]) == avg.quantize(Decimal("0.00000001"))
    top = _db(
        postgres_url,
        "SELECT u.email, sum(c.total_cost) AS s FROM api_costs c JOIN users u ON u.id = c.user_id "
        "WHERE c.user_id = ANY(%s) GROUP BY u.email ORDER BY s DESC, u.email LIMIT 10",
        users,
    )
    assert [(t["email"], Decimal(t["amount"])) for t in summary["top10_users"]] == top


def test_session_truth_equals_the_sessions_table(scenario, postgres_url: str) -> None:  # noqa: F811
    truth, _, _ = scenario
    users = sorted(truth.data["cost"]["users"])
    by_status = dict(
        _db(postgres_url, "SELECT status, count(*) FROM sessions WHERE user_id = ANY(%s) GROUP BY 1", users)
    )
    assert truth.data["sessions"]["by_status_all"] == by_status
    assert by_status["running"] >= 2 and truth.data["sessions"]["running_now"] == by_status["running"]
    assert _db(postgres_url, "SELECT count(*) FROM sessions WHERE completed_at IS NOT NULL") == [(0,)]
    [(avg_rounds, avg_duration)] = _db(
        postgres_url,
        "SELECT avg(round_number), avg(extract(epoch FROM updated_at - created_at)) FROM sessions "
        "WHERE status = 'completed' AND user_id = ANY(%s)",
        users,
    )
    summary = truth.data["sessions"]["all_history"]
    assert summary["avg_rounds_completed"] == pytest.approx(float(avg_rounds))
    assert summary["avg_duration_completed_s"] == pytest.approx(float(avg_duration), abs=1e-3)
    live = truth.data["sessions"]["live"]
    assert live["completion_rate"] == pytest.approx(
        live["completed_finished_in_window"]
        / (live["completed_finished_in_window"] + live["failed_finished_in_window"] + live["killed_finished_in_window"])
    )
    [(terminated_without_time,)] = _db(
        postgres_url, "SELECT count(*) FROM sessions WHERE status = 'terminated' AND terminated_at IS NULL"
    )
    assert terminated_without_time == 0


def test_http_truth_equals_the_workload_counters(scenario) -> None:
    truth, _, url = scenario
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    counted = {
        (s.labels["handler"], s.labels["method"], s.labels["status"]): s.value
        for family in text_string_to_metric_families(httpx.get(f"{url}/metrics").text)
        for s in family.samples
        if s.name == "http_requests_total"
    }
    expected = {(r["handler"], r["method"], r["status"]): r["count"] for r in truth.data["http"]["requests"]}
    assert counted == expected
    http = truth.data["http"]
    assert http["open_sse_streams_at_end"] == 2
    assert http["error_ratio_5xx_by_handler"]["/api/v1/context"] == pytest.approx(3 / 7)  # warm-up: one of each
    assert http["status_class_totals"]["4xx"] >= 3
    inprogress = [
        s.value
        for family in text_string_to_metric_families(httpx.get(f"{url}/metrics").text)
        for s in family.samples
        if s.name == "http_requests_inprogress" and s.labels["handler"] == "/api/v1/sessions/{session_id}/stream"
    ]
    assert inprogress == [2.0]


def test_live_ledger_matches_live_cost_counter_for_ledger_providers(scenario) -> None:
    truth, _, _ = scenario
    ledger = {k: float(v) for k, v in truth.data["cost"]["live"]["by_provider"].items()}
    live = truth.data["llm"]["cost_usd_by_provider"]
    for provider, amount in ledger.items():
        assert live[provider] == pytest.approx(amount, rel=1e-9)
    assert "openai" not in ledger


def test_month_to_date_counts_only_this_month(scenario) -> None:
    truth, _, _ = scenario
    mtd = truth.data["cost"]["month_to_date"]
    start = mtd["month_start"]
    rows = [Decimal(r[5]) for r in truth.data["cost"]["facts"] if r[0] >= start]
    assert Decimal(mtd["amount"]) == sum(rows, Decimal(0))


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_warmup_happened_before_the_main_traffic(scenario, postgres_url: str) -> None:  # noqa: F811
    truth, _, _ = scenario
    data = truth.data
    warmup_end, main_start = _ts(data["window"]["warmup_end"]), _ts(data["window"]["main_start"])
    assert _ts(data["window"]["live_start"]) < warmup_end < main_start == _ts(data["main"]["start"])
    warm_ids = [s["id"] for s in data["warmup"]["sessions"]]
    main_ids = [s["id"] for w in data["main"]["waves"] for s in w["sessions"]]
    # the database: every warm-up session began and ended (and spent) before the warm-up's end, every main one after
    rows = dict(
        (r[0], r[1:])
        for r in _db(
            postgres_url,
            "SELECT id, created_at, updated_at, status FROM sessions WHERE id = ANY(%s)",
            warm_ids + main_ids,
        )
    )
    assert sorted(rows) == sorted(warm_ids + main_ids)
    assert all(rows[i][0] < warmup_end and rows[i][1] <= warmup_end for i in warm_ids)
    assert {rows[i][2] for i in warm_ids} >= {"completed", "failed", "killed", "terminated"}
    assert all(rows[i][0] >= main_start for i in main_ids)
    users = sorted(data["cost"]["users"])
    [(between,)] = _db(
        postgres_url,
        "SELECT count(*) FROM api_costs WHERE user_id = ANY(%s) AND created_at > %s AND created_at < %s",
        users,
        warmup_end,
        main_start,
    )
    [(warm_calls,)] = _db(
        postgres_url,
        "SELECT count(*) FROM api_costs WHERE session_id = ANY(%s) AND created_at <= %s",
        warm_ids,
        warmup_end,
    )
    assert between == 0 and warm_calls > 0
    # every node the main traffic fails failed once in the warm-up; every label set was touched in the warm-up
    main_fails = {s["fail_node"] for w in data["main"]["waves"] for s in w["sessions"] if s["final"] == "failed"}
    assert main_fails and main_fails <= {s["fail_node"] for s in data["warmup"]["sessions"] if s["final"] == "failed"}
    warm_http = {(r["handler"], r["method"], r["status"]) for r in data["warmup"]["http"]["requests"]}
    assert {(r["handler"], r["method"], r["status"]) for r in data["http"]["requests"]} == warm_http
    for key in ("tokens_by_type", "cost_usd_by_provider", "sessions_total_by_status"):
        assert set(data["llm"][key]) == set(data["warmup"]["llm"][key]), key
    assert all(
        data["warmup"]["llm"]["sessions_total_by_status"][k] < v
        for k, v in data["llm"]["sessions_total_by_status"].items()
    )
    for node, counts in data["llm"]["graph_nodes_by_node_status"].items():
        assert set(counts) == set(data["warmup"]["llm"]["graph_nodes_by_node_status"][node]), node
    # 4xx and 5xx answers: some in the warm-up, more in the main traffic, none in the quiet gap
    errors = [(_ts(e["at"]), e["handler"], e["status"]) for e in data["http"]["error_requests"]]
    assert not [e for e in errors if warmup_end < e[0] < main_start]
    for status in ("4xx", "5xx"):
        assert any(at <= warmup_end for at, _, s in errors if s == status)
        assert any(at >= main_start for at, _, s in errors if s == status)


def test_main_traffic_comes_in_waves(scenario, postgres_url: str) -> None:  # noqa: F811
    truth, _, _ = scenario
    waves = truth.data["main"]["waves"]
    assert len(waves) == 2
    created = {
        w["index"]: [
            r[0]
            for r in _db(
                postgres_url, "SELECT created_at FROM sessions WHERE id = ANY(%s)", [s["id"] for s in w["sessions"]]
            )
        ]
        for w in waves
    }
    assert all(created[w["index"]] for w in waves)  # sessions created in every wave
    assert max(created[0]) < min(created[1])
    failed = [{s["fail_node"] for s in w["sessions"] if s["final"] == "failed"} for w in waves]
    assert failed[0] & failed[1]  # the same node fails in both waves
    fives = [_ts(e["at"]) for e in truth.data["http"]["error_requests"] if e["status"] == "5xx"]
    assert len([t for t in fives if t >= _ts(truth.data["window"]["main_start"])]) == 2


def test_default_plan_spreads_failures_and_errors_over_waves_ten_seconds_apart() -> None:
    import random

    from bo1dash.scenario import ScenarioConfig
    from bo1dash.scenario.run import _plan, _wave_extras

    cfg = ScenarioConfig()
    assert cfg.wave_interval_s >= 10 and cfg.warmup_seconds >= 2 * 5
    plan = _plan(cfg, random.Random("live:1"), ["u1", "u2", "u3"])
    for node in cfg.fail_nodes:
        assert len({p.wave for p in plan if p.final == "failed" and p.sim["fail_node"] == node}) >= 2, node
    assert len({p.wave for p in plan}) == cfg.waves
    assert len({p.wave for p in plan if p.final == "terminated"}) >= 2
    extras = _wave_extras(cfg, random.Random("live:1"))
    assert sum(1 for wave in extras if any("about" in str(e[3]) for e in wave)) >= 2  # 5xx in several waves
