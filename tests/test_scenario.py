"""A small scenario against a real workload, Postgres and Redis; its truth is checked against the database."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from prometheus_client import CollectorRegistry

pytest.importorskip("prometheus_fastapi_instrumentator")

from bo1dash.scenario import SMALL, run_scenario  # noqa: E402
from bo1dash.workload import Settings, apply_schema, create_app  # noqa: E402
from test_workload_servers import postgres_url, redis_url, serve  # noqa: E402,F401


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
    [(count, total)] = _db(postgres_url, "SELECT count(*), sum(total_cost) FROM api_costs WHERE user_id = ANY(%s)", users)
    summary = truth.data["cost"]["all_history"]
    assert summary["calls"] == count
    assert Decimal(summary["total"]) == total
    by_model = dict(_db(postgres_url, "SELECT coalesce(model_name, '(none)'), sum(total_cost) FROM api_costs "
                                      "WHERE user_id = ANY(%s) GROUP BY 1", users))
    assert {k: Decimal(v) for k, v in summary["by_model"].items()} == by_model
    per_day = dict(_db(postgres_url, "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), sum(total_cost) "
                                     "FROM api_costs WHERE user_id = ANY(%s) GROUP BY 1", users))
    assert {k: Decimal(v) for k, v in summary["per_day_utc"].items()} == per_day
    [(avg,)] = _db(postgres_url, "SELECT sum(total_cost) / count(DISTINCT session_id) FROM api_costs "
                                 "WHERE user_id = ANY(%s) AND session_id IS NOT NULL", users)
    assert Decimal(summary["avg_cost_per_session"]) == avg.quantize(Decimal("0.00000001"))
    top = _db(postgres_url, "SELECT u.email, sum(c.total_cost) AS s FROM api_costs c JOIN users u ON u.id = c.user_id "
                            "WHERE c.user_id = ANY(%s) GROUP BY u.email ORDER BY s DESC, u.email LIMIT 10", users)
    assert [(t["email"], Decimal(t["amount"])) for t in summary["top10_users"]] == top


def test_session_truth_equals_the_sessions_table(scenario, postgres_url: str) -> None:  # noqa: F811
    truth, _, _ = scenario
    users = sorted(truth.data["cost"]["users"])
    by_status = dict(_db(postgres_url, "SELECT status, count(*) FROM sessions WHERE user_id = ANY(%s) GROUP BY 1", users))
    assert truth.data["sessions"]["by_status_all"] == by_status
    assert by_status["running"] >= 2 and truth.data["sessions"]["running_now"] == by_status["running"]
    assert _db(postgres_url, "SELECT count(*) FROM sessions WHERE completed_at IS NOT NULL") == [(0,)]
    [(avg_rounds, avg_duration)] = _db(
        postgres_url, "SELECT avg(round_number), avg(extract(epoch FROM updated_at - created_at)) FROM sessions "
                      "WHERE status = 'completed' AND user_id = ANY(%s)", users)
    summary = truth.data["sessions"]["all_history"]
    assert summary["avg_rounds_completed"] == pytest.approx(float(avg_rounds))
    assert summary["avg_duration_completed_s"] == pytest.approx(float(avg_duration), abs=1e-3)
    live = truth.data["sessions"]["live"]
    assert live["completion_rate"] == pytest.approx(
        live["completed_finished_in_window"]
        / (live["completed_finished_in_window"] + live["failed_finished_in_window"] + live["killed_finished_in_window"])
    )
    [(terminated_without_time,)] = _db(
        postgres_url, "SELECT count(*) FROM sessions WHERE status = 'terminated' AND terminated_at IS NULL")
    assert terminated_without_time == 0


def test_http_truth_equals_the_workload_counters(scenario) -> None:
    truth, _, url = scenario
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    counted = {
        (s.labels["handler"], s.labels["method"], s.labels["status"]): s.value
        for family in text_string_to_metric_families(httpx.get(f"{url}/metrics").text)
        for s in family.samples if s.name == "http_requests_total"
    }
    expected = {(r["handler"], r["method"], r["status"]): r["count"] for r in truth.data["http"]["requests"]}
    assert counted == expected
    http = truth.data["http"]
    assert http["open_sse_streams_at_end"] == 2
    assert http["error_ratio_5xx_by_handler"]["/api/v1/context"] == pytest.approx(3 / 7)  # warm-up: one of each
    assert http["status_class_totals"]["4xx"] >= 3
    inprogress = [
        s.value for family in text_string_to_metric_families(httpx.get(f"{url}/metrics").text)
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
