"""Summaries of the scenario's facts: what each panel should show for a given window."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from bo1dash.scenario.backfill import SessionFact

FINISHED = ("completed", "failed", "killed")
NO_MODEL = "(none)"


@dataclass(frozen=True)
class CostFact:
    created_at: datetime
    user_id: str | None
    session_id: str | None
    provider: str
    model_name: str | None
    total_cost: Decimal
    input_tokens: int
    output_tokens: int
    source: str

    def as_row(self) -> list[object]:
        return [
            iso(self.created_at),
            self.user_id,
            self.session_id,
            self.provider,
            self.model_name,
            str(self.total_cost),
            self.input_tokens,
            self.output_tokens,
            self.source,
        ]


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.00000001")))


def hour_floor(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def session_summary(sessions: list[SessionFact], start: datetime, end: datetime) -> dict[str, object]:
    """Counts and averages of sessions whose relevant time falls in [start, end]."""
    created = [s for s in sessions if start <= s.created_at <= end]
    finished = [s for s in sessions if s.status in FINISHED and start <= s.updated_at <= end]
    completed = [s for s in finished if s.status == "completed"]
    by_status = Counter(s.status for s in created)
    denominator = len(finished)
    return {
        "started": len(created),
        "by_status_created_in_window": dict(sorted(by_status.items())),
        "completed_finished_in_window": len(completed),
        "failed_finished_in_window": sum(1 for s in finished if s.status == "failed"),
        "killed_finished_in_window": sum(1 for s in finished if s.status == "killed"),
        "completion_rate": (len(completed) / denominator) if denominator else None,
        "avg_rounds_completed": (sum(s.round_number for s in completed) / len(completed)) if completed else None,
        "avg_duration_completed_s": (
            sum((s.updated_at - s.created_at).total_seconds() for s in completed) / len(completed)
            if completed
            else None
        ),
    }


def sessions_per_hour(sessions: list[SessionFact], start: datetime, end: datetime) -> list[dict[str, object]]:
    buckets: dict[tuple[datetime, str], int] = Counter()
    for s in sessions:
        if start <= s.created_at <= end:
            buckets[(hour_floor(s.created_at), s.status)] += 1
    return [{"hour": iso(h), "status": st, "count": n} for (h, st), n in sorted(buckets.items())]


def cost_summary(rows: list[CostFact], emails: dict[str, str], start: datetime, end: datetime) -> dict[str, object]:
    """Ledger figures over [start, end] (api_costs.created_at)."""
    window = [r for r in rows if start <= r.created_at <= end]
    total = sum((r.total_cost for r in window), Decimal(0))
    by_model: dict[str, Decimal] = defaultdict(Decimal)
    by_user: dict[str, Decimal] = defaultdict(Decimal)
    by_day: dict[str, Decimal] = defaultdict(Decimal)
    by_provider: dict[str, Decimal] = defaultdict(Decimal)
    for r in window:
        by_model[r.model_name or NO_MODEL] += r.total_cost
        by_provider[r.provider] += r.total_cost
        by_day[r.created_at.date().isoformat()] += r.total_cost
        if r.user_id is not None:
            by_user[r.user_id] += r.total_cost
    top = sorted(by_user.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    session_rows = [r for r in window if r.session_id is not None]
    sessions = {r.session_id for r in session_rows}
    session_total = sum((r.total_cost for r in session_rows), Decimal(0))
    return {
        "total": money(total),
        "calls": len(window),
        "by_model": {k: money(v) for k, v in sorted(by_model.items())},
        "by_provider": {k: money(v) for k, v in sorted(by_provider.items())},
        "per_day_utc": {k: money(v) for k, v in sorted(by_day.items())},
        "top10_users": [{"user_id": u, "email": emails.get(u), "amount": money(a)} for u, a in top],
        "avg_cost_per_session": money(session_total / len(sessions)) if sessions else None,
        "session_linked_total": money(session_total),
        "distinct_sessions": len(sessions),
    }


def month_to_date(rows: list[CostFact], end: datetime) -> dict[str, object]:
    first = end.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    days = sorted({r.created_at.date() for r in rows if first <= r.created_at <= end})
    cumulative: list[dict[str, str]] = []
    running = Decimal(0)
    for day in days:
        running += sum((r.total_cost for r in rows if r.created_at.date() == day and r.created_at <= end), Decimal(0))
        cumulative.append({"day": day.isoformat(), "cumulative": money(running)})
    return {
        "month_start": iso(first),
        "amount": money(sum((r.total_cost for r in rows if first <= r.created_at <= end), Decimal(0))),
        "days_with_data_before_today": sum(1 for d in days if d < end.date()),
        "today_is_first_of_month": end.day == 1,
        "cumulative_by_day": cumulative,
    }


def last_24h(end: datetime) -> datetime:
    return end - timedelta(hours=24)
