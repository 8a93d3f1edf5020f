"""Truth: what a panel must show, computed from the scenario's expectations file, and how close is close enough.

Two tables map (dashboard uid, panel title as in docs/PANELS.md) to a rule. `TRUTH` (one-number panels) gives an
`Expected` (value + tolerance + why); `PANEL_TRUTH` (many-valued panels, rules in truth_ledger / truth_prom /
truth_infra) gets the panel's own query results, time range and the runner's `StackFacts` and gives a `Many`
(every slice / bucket / row / series with its bounds). Either may give `NoTruth` (why this panel cannot be
checked; the report says so). An expectations file may also pin a panel directly:
`{"panels": {"<uid>/<title>": {"value": 12.5, "abs": 0.01, "why": "..."}}}` wins over the tables.

Tolerances (also in each panel's "expected" column of the report):
- money from the `api_costs` ledger (SQL): exact to the cent, the ledger is the truth (month to date, budget,
  cost per session, every slice of Spend by model, every UTC day of Daily spend, every point of Cumulative
  monthly spend, every row of Top 10 users in the same order);
- counts and averages from SQL (sessions per hour and status, rounds per hour): exact (1e-9 for averages);
- Prometheus gauges read at the last scrape after the scenario settled (live SSE streams, in-flight 0): exact;
- Prometheus ratios of `increase()` over `$__range`: within 0.02 absolute. Numerator and denominator are
  extrapolated to the window edges by nearly the same factor, but a counter series that first appears in the
  window loses (part of) its first increment and scrape timing shifts by one scrape interval; with the
  scenario's tens of requests one lost request moves the ratio by about 0.01.
- counters shown as `rate()` (integral of the plotted points x step) or `increase()` per label: within
  [(truth - unseen) x 0.9 - slack, truth x 1.1 + slack], slack 1 event/token or 0.01 USD. 10%: rate() extrapolates
  each window's first and last sample to the window edges (up to half a scrape interval, 2.5 s of a 1 min window)
  and the 5s scrape jitters. `unseen`: Prometheus 2.42 cannot see increments made before a series' first sample
  (bo1 creates label sets on first use), so the runner reads what each series held at its first scrape in the
  range from the raw samples and lowers the bound by it; likewise by the last point's rate x the rate window:
  the plotted range ends less than one window after the last increments, which a W-window rate spreads over
  the following W seconds; the report prints both;
  with a warm-up in the expectations (`warmup`, see scenario/EXPECTATIONS.md) the first scrape must hold no more
  than the warm-up left (else the check says which series were born during the main traffic), and without the
  runner's Prometheus the warm-up figures are the `unseen` part;
- error ratio per endpoint / per graph node: > 0 in some window for what the scenario made fail (unless all its
  errors came before its error series' first scrape), exactly 0 in every window for the rest;
- histogram quantiles: within the buckets that hold the known durations (slow handler 0.6-1.4 s -> [0.5, 2.5];
  graph nodes: the buckets populated at the end), p50 <= p95 <= p99 at every time;
- infrastructure: `up` = 1 for every job the stack started, maxmemory and max_connections exact, process
  groups exactly the stack's, process RSS within 25% of /proc (read a scrape later; PostgreSQL backends come and
  go), disk fill within 0.01 of statvfs (other writers since the scrape).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bo1dash.grafana.frames import QueryResult
from bo1dash.grafana.time_range import TimeRange
from bo1dash.verify import truth_infra as infra
from bo1dash.verify import truth_ledger as ledger
from bo1dash.verify import truth_prom as prom
from bo1dash.verify.truth_base import Check, Expected, Inputs, Item, Many, NoTruth, Outcome, StackFacts, cents
from bo1dash.verify.truth_base import rows as _rows
from bo1dash.verify.truth_base import ts as _ts

Rule = Callable[[Mapping[str, Any], TimeRange], Expected | NoTruth]
PanelRule = Callable[[Inputs], Outcome]


def _in(moment: Any, tr: TimeRange) -> bool:
    return moment is not None and tr.start <= _ts(moment) <= tr.end


def _sessions_started(exp: Mapping[str, Any], tr: TimeRange) -> Expected | NoTruth:
    rows = _rows(exp, "sessions")
    if isinstance(rows, NoTruth):
        return rows
    return Expected(float(sum(1 for r in rows if _in(r.get("created_at"), tr))), 0, "sessions created in range")


def _sessions_completed(exp: Mapping[str, Any], tr: TimeRange) -> Expected | NoTruth:
    rows = _rows(exp, "sessions")
    if isinstance(rows, NoTruth):
        return rows
    n = sum(1 for r in rows if r.get("status") == "completed" and _in(r.get("updated_at"), tr))
    return Expected(float(n), 0, "sessions completed (updated_at) in range")


def _completion_rate(exp: Mapping[str, Any], tr: TimeRange) -> Expected | NoTruth:
    rows = _rows(exp, "sessions")
    if isinstance(rows, NoTruth):
        return rows
    ended = [r for r in rows if r.get("status") in ("completed", "failed", "killed") and _in(r.get("updated_at"), tr)]
    if not ended:
        return NoTruth("no session ended in range")
    done = sum(1 for r in ended if r.get("status") == "completed")
    return Expected(done / len(ended), 1e-9, "completed / (completed + failed + killed) ended in range")


def _active_sessions(exp: Mapping[str, Any], tr: TimeRange) -> Expected | NoTruth:
    rows = _rows(exp, "sessions")
    if isinstance(rows, NoTruth):
        return rows
    n = sum(1 for r in rows if r.get("status") == "running" and _ts(r.get("created_at")) <= tr.end)
    return Expected(float(n), 0, "sessions with status running")


def _costs_between(exp: Mapping[str, Any], start: datetime, end: datetime) -> Decimal | NoTruth:
    rows = _rows(exp, "cost")
    if isinstance(rows, NoTruth):
        return rows
    total = sum(
        (Decimal(str(r.get("total_cost", "0"))) for r in rows if start <= _ts(r.get("created_at")) <= end), Decimal(0)
    )
    return total


def _month_start(moment: datetime) -> datetime:
    utc = moment.astimezone(UTC)
    return utc.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _month_to_date(exp: Mapping[str, Any], tr: TimeRange) -> Expected | NoTruth:
    total = _costs_between(exp, _month_start(tr.end), tr.end)
    if isinstance(total, NoTruth):
        return total
    return Expected(
        float(total), 0.005, "sum(api_costs.total_cost) since the start of the month of the range end", money=True
    )


def _budget_used(exp: Mapping[str, Any], tr: TimeRange) -> Expected | NoTruth:
    total = _costs_between(exp, _month_start(tr.end), tr.end)
    if isinstance(total, NoTruth):
        return total
    budget = Decimal(str(exp.get("llm_monthly_budget_usd", 1000)))
    # exact to the cent of the spend: the ratio may differ by half a cent over the budget
    return Expected(float(total / budget), float(Decimal("0.005") / budget), "month-to-date spend / monthly budget")


def _avg_cost_per_session(exp: Mapping[str, Any], tr: TimeRange) -> Expected | NoTruth:
    rows = _rows(exp, "cost")
    if isinstance(rows, NoTruth):
        return rows
    picked = [r for r in rows if r.get("session_id") and _in(r.get("created_at"), tr)]
    if not picked:
        return NoTruth("no session call in range")
    total = sum((Decimal(str(r.get("total_cost", "0"))) for r in picked), Decimal(0))
    sessions = len({r["session_id"] for r in picked})
    return Expected(
        float(total / sessions), 0.005, "sum(total_cost) / distinct sessions, session calls in range", money=True
    )


def _avg_duration(exp: Mapping[str, Any], tr: TimeRange) -> Expected | NoTruth:
    rows = _rows(exp, "sessions")
    if isinstance(rows, NoTruth):
        return rows
    done = [r for r in rows if r.get("status") == "completed" and _in(r.get("updated_at"), tr)]
    if not done:
        return NoTruth("no session completed in range")
    seconds = [(_ts(r["updated_at"]) - _ts(r["created_at"])).total_seconds() for r in done]
    return Expected(sum(seconds) / len(seconds), 0.001, "avg(updated_at - created_at) of completed sessions")


def _live_streams(exp: Mapping[str, Any], tr: TimeRange) -> Expected | NoTruth:
    value = (exp.get("http") or {}).get("open_sse_streams_at_end")
    if value is None:
        return NoTruth("expectations have no `http.open_sse_streams_at_end`")
    return Expected(float(value), 0, "open SSE streams at the end of the scenario (gauge, last scrape)")


def _error_ratio(exp: Mapping[str, Any], tr: TimeRange) -> Expected | NoTruth:
    ratio = (exp.get("http") or {}).get("error_ratio_5xx_overall_non_stream")
    if ratio is None:
        return NoTruth("expectations have no `http.error_ratio_5xx_overall_non_stream`")
    # the workload's counters start with the scenario, so the range (6h) covers every counted request
    return Expected(float(ratio), 0.02, "5xx / all non-stream requests the scenario made (increase over the range)")


NOT_CHECKABLE = "no rule in verify/truth.py: nothing the scenario knows pins this panel's values"

TRUTH: dict[tuple[str, str], Rule] = {
    ("bo1-deliberation", "Sessions started"): _sessions_started,
    ("bo1-deliberation", "Sessions completed"): _sessions_completed,
    ("bo1-deliberation", "Completion rate"): _completion_rate,
    ("bo1-deliberation", "Active sessions"): _active_sessions,
    ("bo1-deliberation", "Average session duration"): _avg_duration,
    ("bo1-cost", "Month-to-date spend"): _month_to_date,
    ("bo1-cost", "Budget used (month to date)"): _budget_used,
    ("bo1-cost", "Average cost per session"): _avg_cost_per_session,
    ("bo1-api", "Live SSE streams"): _live_streams,
    ("bo1-api", "5xx error ratio"): _error_ratio,
}

_HTTP = "http_requests_total"
_TARGETS = (
    "bo1 API",
    "Redis exporter",
    "Postgres exporter",
    "node-exporter",
    "process-exporter",
    "cAdvisor",
    "Prometheus",
)

PANEL_TRUTH: dict[tuple[str, str], PanelRule] = {
    ("bo1-cost", "Spend by model"): ledger.spend_by_model,
    ("bo1-cost", "Daily LLM spend"): ledger.daily_spend,
    ("bo1-cost", "Cumulative monthly spend"): ledger.cumulative_month,
    ("bo1-cost", "Top 10 users by spend"): ledger.top_users,
    ("bo1-cost", "Live spend rate"): prom.counter_rule(
        "llm_cost_dollars_total",
        "provider",
        prom.at("llm", "cost_usd_by_provider"),
        "llm.cost_usd_by_provider",
        3600.0,
        "USD (integral of the plotted USD/h)",
        slack=0.01,
        warmup=prom.warm("llm", "cost_usd_by_provider"),
    ),
    ("bo1-cost", "Tokens by type"): prom.counter_rule(
        "llm_tokens_total",
        "token_type",
        prom.at("llm", "tokens_by_type"),
        "llm.tokens_by_type",
        1.0,
        "tokens (integral of the plotted tokens/s)",
        warmup=prom.warm("llm", "tokens_by_type"),
    ),
    ("bo1-deliberation", "Sessions by outcome"): ledger.sessions_by_outcome,
    ("bo1-deliberation", "Rounds per session"): ledger.rounds_per_session,
    ("bo1-deliberation", "Session lifecycle events"): prom.counter_rule(
        "bo1_sessions_total",
        "status",
        prom.at("llm", "sessions_total_by_status"),
        "llm.sessions_total_by_status",
        60.0,
        "events (integral of the plotted events/min)",
        warmup=prom.warm("llm", "sessions_total_by_status"),
    ),
    ("bo1-deliberation", "Graph node error ratio"): prom.node_error_ratio,
    ("bo1-deliberation", "Graph node p95 duration"): prom.node_p95,
    ("bo1-api", "Status codes"): prom.counter_rule(
        _HTTP,
        "status",
        prom.at("http", "status_class_totals"),
        "http.status_class_totals",
        1.0,
        "requests (increase over the range)",
        warmup=prom.warm("http", "status_class_totals"),
    ),
    ("bo1-api", "Request rate by status"): prom.counter_rule(
        _HTTP,
        "status",
        prom.at("http", "status_class_totals"),
        "http.status_class_totals",
        1.0,
        "requests (integral of the plotted req/s)",
        warmup=prom.warm("http", "status_class_totals"),
    ),
    ("bo1-api", "Latency distribution"): prom.latency_count,
    ("bo1-api", "Error ratio by endpoint"): prom.error_ratio_by_endpoint,
    ("bo1-api", "Top 10 slowest endpoints (p95)"): prom.slowest_endpoints,
    ("bo1-api", "Latency p50 / p95 / p99"): prom.latency_quantiles,
    ("bo1-api", "In-flight requests"): prom.inflight_zero,
    **{("bo1-infrastructure", f"{name} target"): infra.target_up for name in _TARGETS},
    ("bo1-infrastructure", "Redis memory"): infra.redis_memory,
    ("bo1-infrastructure", "Redis connections"): infra.redis_connections,
    ("bo1-infrastructure", "Postgres connections"): infra.postgres_connections,
    ("bo1-infrastructure", "Process memory"): infra.process_memory,
    ("bo1-infrastructure", "Process CPU"): infra.process_cpu,
    ("bo1-infrastructure", "Disk usage"): infra.disk_usage,
}


def _pinned(exp: Mapping[str, Any], uid: str, title: str) -> Expected | None:
    entry = (exp.get("panels") or {}).get(f"{uid}/{title}")
    if not isinstance(entry, Mapping) or "value" not in entry:
        return None
    money = bool(entry.get("money"))
    return Expected(
        float(entry["value"]), float(entry.get("abs", 0.005 if money else 0)), str(entry.get("why", "pinned")), money
    )


def _cents(value: float) -> Decimal:
    return cents(value)


def expected_for(
    uid: str,
    title: str,
    expectations: Mapping[str, Any] | None,
    tr: TimeRange,
    results: Sequence[QueryResult] = (),
    facts: StackFacts | None = None,
    config: Mapping[str, Any] | None = None,
) -> Outcome:
    if expectations is None:
        return NoTruth("no expectations file")
    pinned = _pinned(expectations, uid, title)
    if pinned is not None:
        return pinned
    rule = TRUTH.get((uid, title))
    if rule is not None:
        return rule(expectations, tr)
    panel_rule = PANEL_TRUTH.get((uid, title))
    if panel_rule is None:
        return NoTruth(NOT_CHECKABLE)
    if not config:
        return NoTruth("needs the mixin's _config (the selectors the panels use)")
    return panel_rule(Inputs(expectations, tr, tuple(results), facts, config))


def _check_one(expected: Expected, got: float | None) -> Check:
    shown = f"{expected.value:.2f}" if expected.money else f"{expected.value:.6g}"
    if got is None:
        return Check(False, shown, f"no number to compare with the truth {shown} ({expected.why})")
    if expected.money:
        ok = _cents(got) == _cents(expected.value)
        diff = f"{_cents(got)} != {_cents(expected.value)} USD"
    else:
        ok = abs(got - expected.value) <= expected.abs_tolerance
        diff = f"{got:.6g} differs from {expected.value:.6g} by more than {expected.abs_tolerance:g}"
    return Check(ok, shown, "checked" if ok else f"wrong value: {diff} ({expected.why})")


def _check_many(many: Many) -> Check:
    if not many.items and not many.problems:
        return Check(None, "", "no truth: the truth has nothing to compare on this panel")
    wrong = [i.mismatch() for i in many.items if not i.ok()] + list(many.problems)
    if wrong:
        shown = "; ".join(wrong[:6]) + (f"; ... {len(wrong) - 6} more" if len(wrong) > 6 else "")
        return Check(False, many.why, f"wrong value: {shown} (truth: {many.why})")
    return Check(True, many.why, "checked")


def summarize(outcome: Outcome, number: float | None = None) -> Check:
    """An outcome of a rule (verify/truth_range.py's too) as a check."""
    if isinstance(outcome, NoTruth):
        return Check(None, "", f"no truth: {outcome.reason}")
    if isinstance(outcome, Many):
        return _check_many(outcome)
    return _check_one(outcome, number)


def check(
    uid: str,
    title: str,
    verdict: Any,
    expectations: Mapping[str, Any] | None,
    tr: TimeRange,
    results: Sequence[QueryResult] = (),
    facts: StackFacts | None = None,
    config: Mapping[str, Any] | None = None,
) -> Check:
    """Compare the panel with the truth: money to the cent, others within the stated tolerance; `config` is
    the mixin's `_config` (the selectors the truth reads Prometheus with)."""
    expected = expected_for(uid, title, expectations, tr, results, facts, config)
    if isinstance(expected, NoTruth):
        return Check(None, "", f"no truth: {expected.reason}")
    if isinstance(expected, Many):
        return _check_many(expected)
    return _check_one(expected, verdict.number)


__all__ = [
    "Check",
    "Expected",
    "Item",
    "Many",
    "NoTruth",
    "StackFacts",
    "check",
    "expected_for",
    "TRUTH",
    "PANEL_TRUTH",
]
