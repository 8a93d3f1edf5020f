"""Truth comparisons of many-valued panels, on small real query results (shapes and numbers from a verify run)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from bo1dash.compile import compile_mixin
from bo1dash.grafana.frames import QueryResult, Series, Table
from bo1dash.grafana.time_range import TimeRange
from bo1dash.scenario.expectations import FACT_COLUMNS
from bo1dash.verify import truth
from bo1dash.verify.stack_facts import disk_used_ratio
from bo1dash.verify.truth_base import StackFacts

ROOT = Path(__file__).resolve().parent.parent
# The mixin's _config: the truth reads Prometheus with the dashboards' own selectors.
CONFIG = compile_mixin(ROOT / "jsonnet" / "mixin.libsonnet", root=ROOT).config
WEEK = TimeRange(datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 5, 8, tzinfo=UTC))
COLUMNS = list(FACT_COLUMNS)
LEDGER = [
    ["2024-05-02T10:00:00Z", "u1", "s1", "anthropic", "claude-sonnet-4-5", "1.10000000", 10, 5, "backfill"],
    ["2024-05-02T11:00:00Z", "u2", "s2", "openai", "gpt-5.1", "0.25000000", 10, 5, "backfill"],
    ["2024-05-03T09:00:00Z", "u1", None, "tavily", None, "0.00800000", 0, 0, "backfill"],
    ["2024-05-07T23:59:00Z", "u3", "s3", "anthropic", "claude-sonnet-4-5", "2.00000000", 10, 5, "live"],
]
EXP: dict[str, Any] = {
    "cost": {"fact_columns": COLUMNS, "facts": LEDGER, "users": {"u1": "a@x", "u2": "b@x", "u3": "c@x"}},
    "http": {
        "status_class_totals": {"2xx": 223, "4xx": 7, "5xx": 6},
        "error_ratio_5xx_by_handler": {"/api/v1/context": 0.25, "/api/v1/sessions": 0.0},
        "slow_handler": "/api/v1/costs/summary",
        "slow_handler_seconds": [0.6, 1.4],
    },
    "llm": {"cost_usd_by_provider": {"anthropic": 2.3372331, "openai": 0.754025}},
}


def _sql(columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> tuple[QueryResult, ...]:
    return (QueryResult(query="SELECT ...", table=Table(columns=columns, rows=tuple(rows)), kind="sql"),)


def _check(
    uid: str,
    title: str,
    results: tuple[QueryResult, ...],
    exp: Mapping[str, Any] = EXP,
    tr: TimeRange = WEEK,
    facts: StackFacts | None = None,
) -> truth.Check:
    return truth.check(uid, title, None, exp, tr, results, facts, CONFIG)


def test_spend_by_model_matches_the_ledger_to_the_cent() -> None:
    good = _sql(("model", "spend"), [("claude-sonnet-4-5", 3.1), ("gpt-5.1", 0.25), ("tavily", 0.008)])
    assert _check("bo1-cost", "Spend by model", good).ok is True


def test_spend_by_model_missing_a_model_is_a_mismatch_with_both_numbers() -> None:
    # a query that drops NULL model names (searches) loses the tavily slice
    missing = _sql(("model", "spend"), [("claude-sonnet-4-5", 3.1), ("gpt-5.1", 0.25)])
    result = _check("bo1-cost", "Spend by model", missing)
    assert result.ok is False
    assert "tavily: panel nothing != truth 0.01 USD" in result.note


def test_daily_spend_summing_the_wrong_column_is_caught() -> None:
    day = 86400
    start = int(datetime(2024, 5, 2, tzinfo=UTC).timestamp())
    right = [(start, 1.35), (start + day, 0.008), (start + 5 * day, 2.0)]
    assert _check("bo1-cost", "Daily LLM spend", _sql(("time", "spend"), right)).ok is True
    # sum(input_tokens) instead of sum(total_cost)
    wrong = [(start, 20.0), (start + day, 0.0), (start + 5 * day, 10.0)]
    result = _check("bo1-cost", "Daily LLM spend", _sql(("time", "spend"), wrong))
    assert result.ok is False
    assert "2024-05-02T00:00Z: panel 20.00 != truth 1.35 USD" in result.note


def test_cumulative_month_is_a_running_sum_ending_at_month_to_date() -> None:
    days = [datetime(2024, 5, d, tzinfo=UTC) for d in (2, 3, 7)]
    good = [(days[0], 1.35), (days[1], 1.358), (days[2], 3.358)]
    assert _check("bo1-cost", "Cumulative monthly spend", _sql(("time", "month-to-date spend"), good)).ok is True
    daily_not_running = [(days[0], 1.35), (days[1], 0.008), (days[2], 2.0)]
    result = _check("bo1-cost", "Cumulative monthly spend", _sql(("time", "month-to-date spend"), daily_not_running))
    assert result.ok is False and "panel 0.01 != truth 1.36 USD" in result.note


def test_top_users_same_order_and_amounts() -> None:
    good = [("c@x", 2.0), ("a@x", 1.108), ("b@x", 0.25)]
    assert _check("bo1-cost", "Top 10 users by spend", _sql(("user", "spend"), good)).ok is True
    swapped = [("a@x", 1.108), ("c@x", 2.0), ("b@x", 0.25)]
    result = _check("bo1-cost", "Top 10 users by spend", _sql(("user", "spend"), swapped))
    assert result.ok is False and "row 1" in result.note and "c@x" in result.note


def _range(
    label: str, values: dict[str, list[float | None]], start: float = 1_700_000_000, step: float = 15
) -> tuple[QueryResult, ...]:
    return (
        QueryResult(
            query="sum by (...) (rate(...))",
            kind="range",
            series=tuple(
                Series(name="", labels={label: key}, points=tuple((start + i * step, v) for i, v in enumerate(points)))
                for key, points in values.items()
            ),
        ),
    )


def _facts(unseen: Mapping[str, float]) -> StackFacts:
    return StackFacts(unseen=lambda selector, label, tr: unseen)


# the Live spend rate panel of a real run: USD/h every 15 s (anthropic's first scrape already held 1.5 USD)
SPEND = {
    "anthropic": [157.6525, 138.109, 129.4818, 100.7653, 0.0, 0.0],
    "openai": [11.7038, 8.7315, 7.9885, 7.3636, 0.0, 0.0],
}
SPEND_UNSEEN = {"anthropic": 1.5, "openai": 0.6}


def test_live_spend_rate_integral_is_within_the_stated_bounds() -> None:
    result = _check("bo1-cost", "Live spend rate", _range("provider", SPEND), facts=_facts(SPEND_UNSEEN))
    assert result.ok is True, result.note
    assert "10%" in result.expected


def test_live_spend_rate_without_the_hourly_scale_is_a_mismatch() -> None:
    per_second = {k: [v / 3600 if v else v for v in vs] for k, vs in SPEND.items()}  # forgot "* 3600" -> integral /3600
    scaled = {k: [v * 60 if v else v for v in vs] for k, vs in SPEND.items()}  # "* 60": a per-minute panel titled USD/h
    for wrong in (per_second, scaled):
        result = _check("bo1-cost", "Live spend rate", _range("provider", wrong), facts=_facts(SPEND_UNSEEN))
        assert result.ok is False and "anthropic: panel" in result.note and "truth 2.33723" in result.note


def test_counter_without_unseen_increments_must_be_close() -> None:
    # every increment after the first scrape: the panel must show the truth within 10% + 1
    status = _range("status", {"2xx": [1.0] * 10, "4xx": [0.05] * 10, "5xx": [0.04] * 10})  # 150, 7.5, 6 requests
    result = _check("bo1-api", "Request rate by status", status, facts=_facts({}))
    assert result.ok is False and "2xx: panel 150, truth 223" in result.note


def test_truth_reads_prometheus_with_the_selectors_of_the_config() -> None:
    asked: list[str] = []

    def unseen(selector: str, label: str, tr: TimeRange) -> Mapping[str, float]:
        asked.append(selector)
        return {}

    status = _range("status", {"2xx": [1.0] * 10})
    other = {**CONFIG, "apiSelector": 'job="my-api", cluster="eu"'}
    truth.check("bo1-api", "Request rate by status", None, EXP, WEEK, status, StackFacts(unseen=unseen), other)
    assert asked == ['http_requests_total{job="my-api", cluster="eu"}']
    # without the mixin's _config the truth says so instead of guessing a selector
    result = truth.check("bo1-api", "Request rate by status", None, EXP, WEEK, status, StackFacts(unseen=unseen))
    assert result.ok is None and "_config" in result.note


def test_error_ratio_by_endpoint_zero_for_handlers_that_never_failed() -> None:
    good = _range(
        "handler", {"/api/v1/context": [0.0, 0.2667, 0.3517, None], "/api/v1/sessions": [0.0, 0.0, None, 0.0]}
    )
    assert _check("bo1-api", "Error ratio by endpoint", good).ok is True
    wrong = _range("handler", {"/api/v1/context": [0.0, 0.2667], "/api/v1/sessions": [0.0, 0.01]})
    result = _check("bo1-api", "Error ratio by endpoint", wrong)
    assert result.ok is False and "/api/v1/sessions max: panel 0.01, truth 0" in result.note
    # An endpoint that never failed has no 5xx series: not drawn is right; a failing one must be drawn.
    only_failing = _range("handler", {"/api/v1/context": [0.0, 0.2667]})
    assert _check("bo1-api", "Error ratio by endpoint", only_failing).ok is True
    missing = _check("bo1-api", "Error ratio by endpoint", _range("handler", {"/api/v1/sessions": [0.0, 0.0]}))
    assert missing.ok is False and "/api/v1/context" in missing.note


def _instant(label: str, values: dict[str, float]) -> tuple[QueryResult, ...]:
    return (
        QueryResult(
            query="topk(...)",
            kind="instant",
            series=tuple(Series(name="", labels={label: k}, points=((1_700_000_000.0, v),)) for k, v in values.items()),
        ),
    )


def test_slowest_endpoint_first_and_within_its_buckets() -> None:
    real = _instant("handler", {"/api/v1/costs/summary": 2.4, "/api/v1/sessions/{session_id}/start": 0.0917})
    assert _check("bo1-api", "Top 10 slowest endpoints (p95)", real).ok is True
    p50_not_p95 = _instant("handler", {"/api/v1/costs/summary": 0.3, "/api/v1/sessions/{session_id}/start": 0.4})
    result = _check("bo1-api", "Top 10 slowest endpoints (p95)", p50_not_p95)
    assert result.ok is False and "first row is /api/v1/sessions/{session_id}/start" in result.note
    assert "p95: panel 0.3, truth 1.5 [0.5, 2.5]" in result.note


def test_infrastructure_from_stack_facts() -> None:
    facts = StackFacts(jobs=("redis-exporter",), redis_maxmemory_bytes=268435456.0, disk_used_ratio=disk_used_ratio)
    redis = (
        QueryResult("A", (Series("", {"instance": "r"}, ((1.0, 1.2e6), (2.0, 1.3e6))),)),
        QueryResult("B", (Series("", {"instance": "r"}, ((1.0, 268435456.0), (2.0, 268435456.0))),)),
    )
    assert _check("bo1-infrastructure", "Redis memory", redis, facts=facts).ok is True
    unlimited = (redis[0], QueryResult("B", (Series("", {"instance": "r"}, ((1.0, 0.0), (2.0, 0.0))),)))
    result = _check("bo1-infrastructure", "Redis memory", unlimited, facts=facts)
    assert result.ok is False and "maxmemory: panel 0, truth 2.68435e+08" in result.note
    up = (QueryResult('min(up{job="redis-exporter"})', (Series("", {}, ((1.0, 1.0),)),), kind="instant"),)
    assert _check("bo1-infrastructure", "Redis exporter target", up, facts=facts).ok is True
    down = (QueryResult('min(up{job="redis-exporter"})', (Series("", {}, ((1.0, 0.0),)),), kind="instant"),)
    assert _check("bo1-infrastructure", "Redis exporter target", down, facts=facts).ok is False
    now = disk_used_ratio("/")
    assert now is not None and os.path.ismount("/")
    disk = (QueryResult("1 - avail/size", (Series("", {"mountpoint": "/"}, ((1.0, now),)),)),)
    assert _check("bo1-infrastructure", "Disk usage", disk, facts=facts).ok is True
    inverted = (QueryResult("avail/size", (Series("", {"mountpoint": "/"}, ((1.0, 1 - now),)),)),)
    assert _check("bo1-infrastructure", "Disk usage", inverted, facts=facts).ok is (abs(1 - 2 * now) <= 0.01)


def test_without_facts_the_report_says_why() -> None:
    up = (QueryResult('min(up{job="redis-exporter"})', (Series("", {}, ((1.0, 1.0),)),), kind="instant"),)
    result = _check("bo1-infrastructure", "Redis exporter target", up)
    assert result.ok is None and result.note.startswith("no truth: stack facts are known only")


def test_ledger_money_is_exact_not_approximate() -> None:
    off_by_a_cent = _sql(("model", "spend"), [("claude-sonnet-4-5", 3.11), ("gpt-5.1", 0.25), ("tavily", 0.008)])
    result = _check("bo1-cost", "Spend by model", off_by_a_cent)
    assert result.ok is False and "claude-sonnet-4-5: panel 3.11 != truth 3.10 USD" in result.note
    assert Decimal("3.10") == sum(Decimal(r[5]) for r in LEDGER if r[4] == "claude-sonnet-4-5")


def test_the_last_rate_window_lowers_the_bound_by_the_last_point_times_the_window() -> None:
    # a real run's Request rate by status: the range ends 20 s after the traffic, the rate window is 1m
    points = {"2xx": [1.1011, 1.8913, 2.4583, 2.2255, 1.5273]}
    results = (
        QueryResult(
            query="sum by (status) (rate(http_requests_total[1m0s]))",
            kind="range",
            series=tuple(
                Series(
                    name="", labels={"status": k}, points=tuple((1_700_000_000 + 20 * i, v) for i, v in enumerate(vs))
                )
                for k, vs in points.items()
            ),
        ),
    )
    exp = {"http": {"status_class_totals": {"2xx": 250}}}
    # integral 184.07 requests; the last window holds up to 1.5273 * 60 = 92 more
    assert _check("bo1-api", "Request rate by status", results, exp=exp, facts=_facts({})).ok is True
    no_window = (
        QueryResult(query="sum by (status) (rate(http_requests_total[5s]))", kind="range", series=results[0].series),
    )
    result = _check("bo1-api", "Request rate by status", no_window, exp=exp, facts=_facts({}))
    assert result.ok is False and "2xx: panel 184.07, truth 250" in result.note


# a scenario with a warm-up: 12 events before the quiet gap, 48 in the main traffic (numbers of a real run's shape)
WARM_EXP: dict[str, Any] = {
    "window": {"warmup_end": "2024-05-02T00:00:00Z", "main_start": "2024-05-02T00:00:11Z"},
    "llm": {
        "sessions_total_by_status": {"created": 30, "terminated": 3},
        "graph_nodes_by_node_status": {"vote": {"error": 3, "success": 20}, "decompose": {"success": 30}},
    },
    "warmup": {
        "llm": {
            "sessions_total_by_status": {"created": 6, "terminated": 1},
            "graph_nodes_by_node_status": {"vote": {"error": 1, "success": 2}, "decompose": {"success": 6}},
        }
    },
}
LIFECYCLE = {
    "created": [0.0, 12.0, 24.0, 12.0, 24.0, 0.0],
    "terminated": [0.0, 0.0, 2.0, 2.0, 0.0, 0.0],
}  # per min, 15 s step


def test_counter_with_a_warm_up_needs_no_probe_and_bites() -> None:
    # integral: created 18 events, terminated 1: the main traffic's 24 created / 2 terminated within 10% + 1 event
    results = _range("status", LIFECYCLE)
    good = _check("bo1-deliberation", "Session lifecycle events", results, exp=WARM_EXP)
    assert good.ok is False and "created: panel 18, truth 30 [20.6" in good.note  # 18 < (30 - 6) * 0.9 - 1
    right = _range("status", {"created": [0.0, 24.0, 24.0, 24.0, 24.0, 0.0], "terminated": LIFECYCLE["terminated"]})
    result = _check("bo1-deliberation", "Session lifecycle events", right, exp=WARM_EXP)
    assert result.ok is True, result.note
    assert "= warm-up {'created': 6.0, 'terminated': 1.0}" in result.expected
    old_file = {k: v for k, v in WARM_EXP.items() if k != "warmup"}
    assert _check("bo1-deliberation", "Session lifecycle events", right, exp=old_file).ok is None  # no probe: no truth


def test_series_born_after_the_warm_up_are_a_problem() -> None:
    right = _range("status", {"created": [0.0, 24.0, 24.0, 24.0, 24.0, 0.0], "terminated": LIFECYCLE["terminated"]})
    fine = _check(
        "bo1-deliberation",
        "Session lifecycle events",
        right,
        exp=WARM_EXP,
        facts=_facts({"created": 6.0, "terminated": 1.0}),
    )
    assert fine.ok is True, fine.note
    late = _check(
        "bo1-deliberation",
        "Session lifecycle events",
        right,
        exp=WARM_EXP,
        facts=_facts({"created": 6.0, "terminated": 3.0}),
    )
    assert late.ok is False and "terminated: its series held 3 at their first scrape, the warm-up left 1" in late.note


def test_node_errors_after_the_warm_up_must_show() -> None:
    ratio = _range("node_name", {"vote": [0.0, 0.0, 0.0], "decompose": [0.0, 0.0, 0.0]})
    result = _check("bo1-deliberation", "Graph node error ratio", ratio, exp=WARM_EXP)
    assert result.ok is False and "vote max: panel 0, truth 3" in result.note  # 2 errors after the first scrape
    shown = _range("node_name", {"vote": [0.0, 0.25, 0.0], "decompose": [0.0, 0.0, 0.0]})
    assert (
        _check("bo1-deliberation", "Graph node error ratio", shown, exp=WARM_EXP, facts=_facts({"vote": 1.0})).ok
        is True
    )
    born_late = _check("bo1-deliberation", "Graph node error ratio", shown, exp=WARM_EXP, facts=_facts({"vote": 3.0}))
    assert (
        born_late.ok is False
        and "vote: its error series held 3 at its first scrape, the warm-up left 1" in born_late.note
    )


def test_a_failing_endpoint_drawn_at_zero_is_a_mismatch() -> None:
    flat = _range("handler", {"/api/v1/context": [0.0, 0.0, 0.0], "/api/v1/sessions": [0.0, 0.0, 0.0]})
    result = _check("bo1-api", "Error ratio by endpoint", flat)
    assert result.ok is False and "/api/v1/context max: panel 0, truth 0.25" in result.note
