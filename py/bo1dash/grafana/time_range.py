"""The time range a panel queries: the dashboard's `time` in Grafana's date math, the panel's relative time
(`timeFrom`) and its `timeShift`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bo1dash.grafana.durations import UNIT_MS, InterpolationError


@dataclass(frozen=True)
class TimeRange:
    """An absolute time range (timezone-aware datetimes)."""

    start: datetime
    end: datetime

    @property
    def range_ms(self) -> int:
        return epoch_ms(self.end) - epoch_ms(self.start)

    @property
    def from_ms(self) -> int:
        return epoch_ms(self.start)

    @property
    def to_ms(self) -> int:
        return epoch_ms(self.end)


def epoch_ms(moment: datetime) -> int:
    return int(round(moment.timestamp() * 1000))


_DATE_MATH_PART = re.compile(r"([+-])(\d*)([smhdwMy])|/([smhdwMy])")


def _add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    days_in_month = (datetime(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, days_in_month))


def _round_to(moment: datetime, unit: str, round_up: bool) -> datetime:
    if unit == "s":
        start = moment.replace(microsecond=0)
        step = timedelta(seconds=1)
    elif unit == "m":
        start = moment.replace(second=0, microsecond=0)
        step = timedelta(minutes=1)
    elif unit == "h":
        start = moment.replace(minute=0, second=0, microsecond=0)
        step = timedelta(hours=1)
    elif unit == "d":
        start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        step = timedelta(days=1)
    elif unit == "w":  # moment.js 'en' locale: weeks start on Sunday
        day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        start = day - timedelta(days=(day.weekday() + 1) % 7)
        step = timedelta(days=7)
    elif unit == "M":
        start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        return (_add_months(start, 1) - timedelta(milliseconds=1)) if round_up else start
    else:  # y
        start = moment.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        return start.replace(year=start.year + 1) - timedelta(milliseconds=1) if round_up else start
    return start + step - timedelta(milliseconds=1) if round_up else start


def parse_date_math(text: str, now: datetime, *, round_up: bool = False) -> datetime:
    """Grafana's dateMath.parse in UTC: `now`, `now-6h`, `now/d`, `now-1d/d`, epoch ms, or ISO 8601.

    `round_up` is True for the end of a range (`now/d` as `to` is the end of today).
    """
    value = text.strip()
    if re.fullmatch(r"\d{10,}", value):
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    if not value.startswith("now"):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise InterpolationError(f"invalid time {text!r}: use now, now-6h, now/d or an ISO date") from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    moment = now.astimezone(UTC)
    rest, pos = value[3:], 0
    for match in _DATE_MATH_PART.finditer(rest):
        if match.start() != pos:
            break
        pos = match.end()
        if match.group(4):
            moment = _round_to(moment, match.group(4), round_up)
            continue
        amount = int(match.group(2) or "1") * (1 if match.group(1) == "+" else -1)
        unit = match.group(3)
        if unit == "M":
            moment = _add_months(moment, amount)
        elif unit == "y":
            moment = _add_months(moment, 12 * amount)
        else:
            moment = moment + timedelta(milliseconds=amount * UNIT_MS[unit])
    if pos != len(rest):
        raise InterpolationError(f"invalid date math {text!r}")
    return moment


def time_range_for(dashboard: Mapping[str, Any], panel: Mapping[str, Any] | None, now: datetime) -> TimeRange:
    """The range a panel queries: the dashboard's default `time`, replaced by the panel's relative time
    (`timeFrom`, e.g. `1h` -> now-1h..now) and moved back by its `timeShift` (e.g. `1d`)."""
    time = dashboard.get("time") or {}
    start_text, end_text = str(time.get("from", "now-6h")), str(time.get("to", "now"))
    panel = panel or {}
    time_from = panel.get("timeFrom")
    if time_from:
        expr = str(time_from).strip()
        start_text = expr if "now" in expr else f"now-{expr}"
        end_text = "now"
    start = parse_date_math(start_text, now)
    end = parse_date_math(end_text, now, round_up=True)
    shift = panel.get("timeShift")
    if shift:
        shift_text = str(shift).strip()
        shift_expr = shift_text if shift_text.startswith("now") else f"now-{shift_text}"
        start = parse_date_math(shift_expr, start)
        end = parse_date_math(shift_expr, end, round_up=True)
    return TimeRange(start=start, end=end)
