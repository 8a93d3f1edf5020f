"""Truth: what a panel must show, computed from the scenario's expectations file, and how close is close enough.

One table, `TRUTH`, maps (dashboard uid, panel title as in docs/PANELS.md) to a function of the
expectations and the panel's time range. Each function returns an `Expected` (value + tolerance + why) or
a `NoTruth` (why this panel cannot be checked). An expectations file may also pin a panel directly:
`{"panels": {"<uid>/<title>": {"value": 12.5, "abs": 0.01, "why": "..."}}}` wins over the table.

Tolerances:
- money from the `api_costs` ledger (SQL): exact to the cent (abs 0.005 USD), the ledger is the truth;
- counts from SQL: exact;
- Prometheus gauges read at the last scrape after the scenario settled (live SSE streams): exact;
- Prometheus ratios of `increase()` over `$__range`: within 0.02 absolute. Numerator and denominator are
  extrapolated to the window edges by nearly the same factor, but a counter series that first appears in the
  window loses (part of) its first increment and scrape timing shifts by one scrape interval; with the
  scenario's tens of requests one lost request moves the ratio by about 0.01.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bo1dash.interpolate import TimeRange


@dataclass(frozen=True)
class Expected:
    value: float
    abs_tolerance: float
    why: str
    money: bool = False


@dataclass(frozen=True)
class NoTruth:
    reason: str


@dataclass(frozen=True)
class Check:
    ok: bool | None  # None: nothing to compare
    expected: str
    note: str  # "checked", "no truth: ...", or the mismatch


Rule = Callable[[Mapping[str, Any], TimeRange], Expected | NoTruth]


def _ts(text: Any) -> datetime:
    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _in(moment: Any, tr: TimeRange) -> bool:
    return moment is not None and tr.start <= _ts(moment) <= tr.end


def _rows(exp: Mapping[str, Any], key: str) -> list[Mapping[str, Any]] | NoTruth:
    """Fact rows of the expectations file: `sessions.facts` (dicts) or `cost.facts` (lists, `cost.fact_columns`)."""
    section = exp.get(key)
    if not isinstance(section, Mapping) or not isinstance(section.get("facts"), list):
        return NoTruth(f"expectations have no `{key}.facts`")
    facts = section["facts"]
    columns = section.get("fact_columns")
    if columns:
        return [dict(zip(columns, row)) for row in facts]
    return facts


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
    total = sum((Decimal(str(r.get("total_cost", "0"))) for r in rows if start <= _ts(r.get("created_at")) <= end), Decimal(0))
    return total


def _month_start(moment: datetime) -> datetime:
    utc = moment.astimezone(timezone.utc)
    return utc.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _month_to_date(exp: Mapping[str, Any], tr: TimeRange) -> Expected | NoTruth:
    total = _costs_between(exp, _month_start(tr.end), tr.end)
    if isinstance(total, NoTruth):
        return total
    return Expected(float(total), 0.005, "sum(api_costs.total_cost) since the start of the month of the range end", money=True)


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
    return Expected(float(total / sessions), 0.005, "sum(total_cost) / distinct sessions, session calls in range", money=True)


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


NOT_CHECKABLE = "no rule in verify/truth.py: a rate, latency, host resource or a many-valued display, not one ledger number"

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


def _pinned(exp: Mapping[str, Any], uid: str, title: str) -> Expected | None:
    entry = (exp.get("panels") or {}).get(f"{uid}/{title}")
    if not isinstance(entry, Mapping) or "value" not in entry:
        return None
    money = bool(entry.get("money"))
    return Expected(float(entry["value"]), float(entry.get("abs", 0.005 if money else 0)), str(entry.get("why", "pinned")), money)


def _cents(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def expected_for(uid: str, title: str, expectations: Mapping[str, Any] | None, tr: TimeRange) -> Expected | NoTruth:
    if expectations is None:
        return NoTruth("no expectations file")
    pinned = _pinned(expectations, uid, title)
    if pinned is not None:
        return pinned
    rule = TRUTH.get((uid, title))
    if rule is None:
        return NoTruth(NOT_CHECKABLE)
    return rule(expectations, tr)


def check(uid: str, title: str, verdict: Any, expectations: Mapping[str, Any] | None, tr: TimeRange) -> Check:
    """Compare the panel's number with the truth: money to the cent, others within the stated tolerance."""
    expected = expected_for(uid, title, expectations, tr)
    if isinstance(expected, NoTruth):
        return Check(None, "", f"no truth: {expected.reason}")
    got = verdict.number
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
