"""Grafana's interpolation, as plain functions: what a panel query becomes before it reaches the datasource.

What Grafana does, in order, for one panel target (Grafana 11):

1. The time range: the dashboard's `time` (date math like `now-6h`, `now/d`), replaced by the panel's relative
   time (`timeFrom`) and moved by its `timeShift` (`time_range_for`).
2. The frontend interval (`frontend_interval_ms`): range / maxDataPoints rounded by Grafana's table
   (`round_interval_ms`), floored at the panel's min interval or else the datasource's `timeInterval`
   (Prometheus default 15s, SQL datasources default 1m). It fills `$__interval` / `$__interval_ms`.
3. Template variables (`replace_variables`): `$var`, `${var}`, `${var:format}`, `[[var]]`. Without an
   explicit format a datasource formats the value: Prometheus regex-escapes multi-value / All values and joins
   them as `(a|b)`; SQL datasources quote each value as a literal (`'a','b'`). An "All" with a custom
   `allValue` is inserted verbatim.
4. Prometheus backend (`prometheus_step_ms`, `rate_interval_ms`, `interpolate_promql`): the step is the
   frontend interval recomputed with maxDataPoints, floored at a safe resolution of 11000 points;
   `$__rate_interval` = max(frontend interval + scrape interval, 4 * scrape interval); `$__interval` is the
   step; `$__range` is the range in whole seconds.
5. SQL backend (`interpolate_sql`): `$__unixEpochFrom()`/`$__unixEpochTo()`, then the PostgreSQL macros
   (`$__timeFilter`, `$__timeGroup`, ...), producing text identical to Grafana's Go `fmt` output.

All durations are integer milliseconds internally, as in Grafana, so rounding matches to the millisecond.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

__all__ = [
    "ALL_VALUE",
    "InterpolationError",
    "QueryContext",
    "TimeRange",
    "VariableValue",
    "default_max_data_points",
    "format_interval",
    "frontend_interval_ms",
    "go_duration_string",
    "interpolate_promql",
    "interpolate_sql",
    "interval_for",
    "parse_date_math",
    "parse_interval_ms",
    "prometheus_step_ms",
    "prometheus_query_window",
    "rate_interval",
    "rate_interval_ms",
    "replace_variables",
    "round_interval_ms",
    "seconds_to_hms",
    "time_range_for",
    "variable_values",
]

ALL_VALUE = "$__all"
SAFE_RESOLUTION = 11000  # Prometheus backend: never more than 11000 points per series
PROMETHEUS_DEFAULT_INTERVAL = "15s"
SQL_DEFAULT_INTERVAL = "1m"
SQL_TYPES = frozenset({"grafana-postgresql-datasource", "postgres", "mysql", "mssql", "grafana-mysql-datasource"})


class InterpolationError(ValueError):
    """A query Grafana itself would reject (bad interval, unknown macro, missing macro argument)."""


# --------------------------------------------------------------------------------------- durations

_UNIT_MS = {
    "ms": 1,
    "s": 1000,
    "m": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
    "w": 604_800_000,
    "M": 2_592_000_000,  # Grafana's month: 30 days
    "y": 31_536_000_000,  # Grafana's year: 365 days
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|M|y)")


def parse_interval_ms(text: str) -> int:
    """Milliseconds of a Grafana interval: `15s`, `1m30s`, `2h`, `1d`, `1w`, `>30s` (min-interval form),
    a bare number (seconds). Raises InterpolationError on anything else."""
    value = text.strip().lstrip("<>").strip()
    if not value:
        raise InterpolationError(f"empty interval {text!r}")
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return int(round(float(value) * 1000))
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(value):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_MS[match.group(2)]
        pos = match.end()
    if pos != len(value):
        raise InterpolationError(f"invalid interval {text!r}: use e.g. 15s, 1m, 1h30m, 1d")
    return int(round(total))


# Grafana's roundInterval table (ms): an interval below the bound becomes the value.
_ROUND_TABLE: tuple[tuple[int, int], ...] = (
    (15, 10),
    (35, 20),
    (75, 50),
    (150, 100),
    (350, 200),
    (750, 500),
    (1_500, 1_000),
    (3_500, 2_000),
    (7_500, 5_000),
    (12_500, 10_000),
    (17_500, 15_000),
    (25_000, 20_000),
    (45_000, 30_000),
    (90_000, 60_000),
    (180_000, 120_000),
    (450_000, 300_000),
    (750_000, 600_000),
    (1_050_000, 900_000),
    (1_500_000, 1_200_000),
    (2_700_000, 1_800_000),
    (5_400_000, 3_600_000),
    (9_000_000, 7_200_000),
    (16_200_000, 10_800_000),
    (32_400_000, 21_600_000),
    (86_400_000, 43_200_000),
    (604_800_000, 86_400_000),
    (1_814_400_000, 604_800_000),
    (3_628_800_000, 2_592_000_000),
)


def round_interval_ms(interval_ms: float) -> int:
    """Grafana's roundInterval: snap an interval to the nearest "nice" one (10ms ... 1y)."""
    for bound, value in _ROUND_TABLE:
        if interval_ms < bound:
            return value
    return 31_536_000_000


def format_interval(ms: int) -> str:
    """Grafana backend's gtime.FormatInterval: the largest whole unit, truncated (`90s` -> `1m`)."""
    for unit, size in (("y", 31_536_000_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms >= size:
            return f"{ms // size}{unit}"
    return f"{ms}ms" if ms >= 1 else "1ms"


def seconds_to_hms(seconds: float) -> str:
    """Grafana frontend's kbn.secondsToHms (the text of `$__interval` in frontend-interpolated queries)."""
    years = math.floor(seconds / 31_536_000)
    if years:
        return f"{years}y"
    days = math.floor((seconds % 31_536_000) / 86_400)
    if days:
        return f"{days}d"
    hours = math.floor((seconds % 31_536_000 % 86_400) / 3600)
    if hours:
        return f"{hours}h"
    minutes = math.floor((seconds % 31_536_000 % 86_400 % 3600) / 60)
    if minutes:
        return f"{minutes}m"
    secs = math.floor(seconds % 31_536_000 % 86_400 % 3600 % 60)
    if secs:
        return f"{secs}s"
    millis = math.floor(seconds * 1000)
    if millis:
        return f"{millis}ms"
    return "less than a millisecond"


def go_duration_string(ms: int) -> str:
    """Go's time.Duration.String() for whole milliseconds: `2m0s`, `1h0m0s`, `1m15s`, `500ms`."""
    if ms == 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    sec_text = f"{secs}.{millis:03d}".rstrip("0") if millis else str(secs)
    if hours:
        return f"{hours}h{minutes}m{sec_text}s"
    if minutes:
        return f"{minutes}m{sec_text}s"
    return f"{sec_text}s"


def _go_float(value: float) -> str:
    """Go's fmt `%v` of a float64: `%g` with the shortest digits, exponent form when the decimal exponent
    is < -4 or >= 6 (Go prints 86400.0 as `86400` and 2592000.0 as `2.592e+06`)."""
    if value == 0:
        return "0"
    dec = Decimal(repr(float(value))).normalize()
    sign = "-" if dec < 0 else ""
    digits = "".join(str(d) for d in dec.as_tuple().digits)
    exp = dec.adjusted()
    if exp < -4 or exp >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if exp >= len(digits) - 1:
        return sign + digits + "0" * (exp - len(digits) + 1)
    if exp >= 0:
        return sign + digits[: exp + 1] + "." + digits[exp + 1 :]
    return sign + "0." + "0" * (-exp - 1) + digits


def _rfc3339nano(moment: datetime) -> str:
    """Go's time.RFC3339Nano in UTC: fraction without trailing zeros, `Z` suffix."""
    utc = moment.astimezone(UTC)
    base = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        base += "." + f"{utc.microsecond:06d}".rstrip("0")
    return base + "Z"


# --------------------------------------------------------------------------------------- time range


@dataclass(frozen=True)
class TimeRange:
    """An absolute time range (timezone-aware datetimes)."""

    start: datetime
    end: datetime

    @property
    def range_ms(self) -> int:
        return _epoch_ms(self.end) - _epoch_ms(self.start)

    @property
    def from_ms(self) -> int:
        return _epoch_ms(self.start)

    @property
    def to_ms(self) -> int:
        return _epoch_ms(self.end)


def _epoch_ms(moment: datetime) -> int:
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
            moment = moment + timedelta(milliseconds=amount * _UNIT_MS[unit])
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


def default_max_data_points(panel: Mapping[str, Any], *, screen_width_px: int = 1920) -> int:
    """maxDataPoints of a panel: its `maxDataPoints`, else its width in pixels as Grafana uses it.

    Grafana takes the rendered panel width; without a browser we take the panel's share of the 24-column grid
    on a `screen_width_px` wide screen, minus the panel's 2 x 8 px padding.
    """
    explicit = panel.get("maxDataPoints")
    if isinstance(explicit, (int, float)) and explicit > 0:
        return int(explicit)
    width_cols = (panel.get("gridPos") or {}).get("w", 12)
    return max(1, int(screen_width_px * width_cols / 24) - 16)


# --------------------------------------------------------------------------------------- intervals


@dataclass(frozen=True)
class QueryContext:
    """Everything besides variables that decides a query's text and step.

    datasource_interval: the datasource's `jsonData.timeInterval` from provisioning (Prometheus: the scrape
    interval; Grafana defaults to 15s for Prometheus and 1m for SQL datasources when unset).
    min_interval: the panel's `interval` ("Min interval" in query options).
    target_interval: the Prometheus target's `interval` ("Min step").
    """

    time_range: TimeRange
    max_data_points: int = 1000
    datasource_type: str = "prometheus"
    datasource_interval: str | None = None
    min_interval: str | None = None
    target_interval: str | None = None
    interval_factor: int = 1
    dashboard_uid: str = ""
    dashboard_title: str = ""

    @property
    def is_sql(self) -> bool:
        return self.datasource_type in SQL_TYPES

    @property
    def scrape_interval_ms(self) -> int:
        return parse_interval_ms(self.datasource_interval or PROMETHEUS_DEFAULT_INTERVAL)


def frontend_interval_ms(ctx: QueryContext) -> int:
    """The interval Grafana's panel query runner computes (rangeutil.calculateInterval): range/maxDataPoints,
    rounded, floored at the panel's min interval or the datasource's interval."""
    default = SQL_DEFAULT_INTERVAL if ctx.is_sql else PROMETHEUS_DEFAULT_INTERVAL
    low_text = ctx.min_interval or ctx.datasource_interval or default
    low_ms = parse_interval_ms(low_text)
    interval = round_interval_ms(ctx.time_range.range_ms / max(1, ctx.max_data_points))
    return max(low_ms, interval)


_INTERVAL_VARS = frozenset({"$__interval", "$__interval_ms", "${__interval}", "${__interval_ms}"})
_RATE_VARS = frozenset({"$__rate_interval", "${__rate_interval}"})
_VARIABLE_INTERVALS = _INTERVAL_VARS | _RATE_VARS | {"$__rate_interval_ms", "${__rate_interval_ms}"}


def _rate_from(query_interval_ms: int, scrape_text: str | None) -> int:
    scrape = parse_interval_ms(scrape_text or PROMETHEUS_DEFAULT_INTERVAL)
    return max(query_interval_ms + scrape, 4 * scrape)


def prometheus_step_ms(ctx: QueryContext) -> int:
    """The step Grafana's Prometheus backend sends to query_range (calculatePrometheusInterval)."""
    requested = (ctx.target_interval or "").strip()
    query_interval = "" if requested in _VARIABLE_INTERVALS or requested == "0s" else requested
    intervals_ms = frontend_interval_ms(ctx)
    if query_interval:
        min_ms = parse_interval_ms(query_interval)
    elif intervals_ms:
        min_ms = intervals_ms
    elif ctx.datasource_interval:
        min_ms = parse_interval_ms(ctx.datasource_interval)
    else:
        min_ms = 15_000
    range_ms = ctx.time_range.range_ms
    raw = range_ms // max(1, ctx.max_data_points)
    calculated = min_ms if raw < min_ms else round_interval_ms(raw)
    safe = round_interval_ms(range_ms // SAFE_RESOLUTION)
    adjusted = calculated if calculated > safe else safe
    if requested in _RATE_VARS:
        return _rate_from(adjusted, ctx.datasource_interval)
    return adjusted * (ctx.interval_factor or 1)


def rate_interval_ms(ctx: QueryContext) -> int:
    """`$__rate_interval` in ms: max(frontend interval + scrape interval, 4 * scrape interval), the scrape
    interval being the target's min step when set, else the datasource's timeInterval (default 15s)."""
    requested = (ctx.target_interval or "").strip()
    step = prometheus_step_ms(ctx)
    if requested in _RATE_VARS:
        return step
    if requested in _INTERVAL_VARS:
        scrape_text: str | None = format_interval(step)
    elif requested:
        scrape_text = requested
    else:
        scrape_text = ctx.datasource_interval
    return _rate_from(frontend_interval_ms(ctx), scrape_text)


def rate_interval(ctx: QueryContext) -> float:
    """`$__rate_interval` in seconds."""
    return rate_interval_ms(ctx) / 1000


def interval_for(ctx: QueryContext) -> float:
    """`$__interval` in seconds as the datasource sees it: Prometheus' step, or the frontend interval (SQL)."""
    return (frontend_interval_ms(ctx) if ctx.is_sql else prometheus_step_ms(ctx)) / 1000


def prometheus_query_window(ctx: QueryContext) -> tuple[float, float, float]:
    """(start, end, step) in epoch seconds of Grafana's query_range: start and end aligned down to the step."""
    step = prometheus_step_ms(ctx)
    start = math.floor(ctx.time_range.from_ms / step) * step
    end = math.floor(ctx.time_range.to_ms / step) * step
    return start / 1000, end / 1000, step / 1000


# --------------------------------------------------------------------------------------- variables


@dataclass(frozen=True)
class VariableValue:
    """The value a template variable has when the dashboard loads.

    values/texts: the selected values (for All without a custom allValue: every option's value).
    all_value: the variable's custom `allValue` when All is selected (inserted verbatim by Grafana).
    """

    name: str
    values: tuple[str, ...]
    texts: tuple[str, ...] = ()
    multi: bool = False
    include_all: bool = False
    is_all: bool = False
    all_value: str | None = None
    type: str = "custom"

    @property
    def text(self) -> str:
        return " + ".join(self.texts or self.values)


QueryRunner = Callable[[Mapping[str, Any]], Sequence[str]]


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def _custom_options(query: str) -> list[tuple[str, str]]:
    """Options of a custom variable: comma-separated, `text : value` pairs allowed (Grafana's syntax)."""
    options: list[tuple[str, str]] = []
    for part in re.split(r"(?<!\\),", query):
        part = part.strip().replace("\\,", ",")
        if not part:
            continue
        text, sep, value = part.partition(" : ")
        options.append((text.strip(), value.strip()) if sep else (part, part))
    return options


def _apply_regex(values: Sequence[str], pattern: str | None) -> list[str]:
    if not pattern:
        return list(values)
    body = pattern
    match = re.fullmatch(r"/(.*)/([gimsuy]*)", pattern, flags=re.S)
    flags = 0
    if match:
        body = match.group(1)
        flags = re.I if "i" in match.group(2) else 0
    regex = re.compile(body, flags)
    kept: list[str] = []
    for value in values:
        found = regex.search(value)
        if not found:
            continue
        captured = found.groupdict().get("value") if regex.groupindex else None
        if captured is None and found.groups():
            captured = next((g for g in found.groups() if g is not None), None)
        kept.append(captured if captured else value)  # Grafana keeps the whole value for an empty capture
    return list(dict.fromkeys(kept))


def _options_of(variable: Mapping[str, Any], query_runner: QueryRunner | None) -> list[tuple[str, str]]:
    kind = variable.get("type", "custom")
    stored = [
        (str(o.get("text", o.get("value", ""))), str(o.get("value", "")))
        for o in variable.get("options") or []
        if o.get("value") != ALL_VALUE
    ]
    if kind == "custom":
        return _custom_options(str(variable.get("query", ""))) or stored
    if kind == "interval":
        return [(v, v) for v in (s.strip() for s in str(variable.get("query", "")).split(",")) if v]
    if kind in ("constant", "textbox"):
        value = str(variable.get("query", ""))
        return [(value, value)]
    if kind == "query" and query_runner is not None:
        values = _apply_regex([str(v) for v in query_runner(variable)], variable.get("regex"))
        sort = int(variable.get("sort") or 0)
        if sort in (1, 2):
            values.sort(reverse=sort == 2)
        elif sort in (3, 4):
            values.sort(key=_numeric_key, reverse=sort == 4)
        elif sort in (5, 6):
            values.sort(key=str.lower, reverse=sort == 6)
        return [(v, v) for v in values]
    return stored


def _numeric_key(value: str) -> float:
    match = re.search(r"-?\d+(\.\d+)?", value)
    return float(match.group(0)) if match else math.inf


def variable_values(
    dashboard: Mapping[str, Any],
    overrides: Mapping[str, Sequence[str]] | None = None,
    *,
    query_runner: QueryRunner | None = None,
) -> dict[str, VariableValue]:
    """Each templating variable's value at dashboard load, by name.

    The value is the saved `current` (or an override: a list of values, `["$__all"]` for All); a query
    variable's options come from `query_runner(variable)` (e.g. label_values against Prometheus) filtered by its
    `regex`; when the current value is not among the options Grafana selects the first option (All when the
    variable includes All). All resolves to `allValue` when set, else to every option's value.
    """
    result: dict[str, VariableValue] = {}
    for variable in (dashboard.get("templating") or {}).get("list") or []:
        name = str(variable.get("name", ""))
        if not name or variable.get("type") == "adhoc":
            continue
        multi = bool(variable.get("multi"))
        include_all = bool(variable.get("includeAll"))
        options = _options_of(variable, query_runner)
        current = variable.get("current") or {}
        if overrides and name in overrides:
            selected = [str(v) for v in overrides[name]]
        else:
            selected = _as_list(current.get("value"))
        if variable.get("type") in ("constant", "textbox") and not (overrides and name in overrides):
            selected = (
                [str(variable.get("query", ""))] if not selected or variable.get("type") == "constant" else selected
            )
        option_values = [value for _, value in options]
        is_all = ALL_VALUE in selected or (selected == ["All"] and include_all)
        if not is_all and options and variable.get("type") == "query":
            selected = [v for v in selected if v in option_values]
        if not is_all and not selected:
            if include_all:
                is_all = True
            elif options:
                selected = [option_values[0]]
        if is_all:
            all_value = variable.get("allValue")
            all_value = str(all_value) if all_value not in (None, "") else None
            result[name] = VariableValue(
                name=name,
                values=tuple(option_values),
                texts=("All",),
                multi=multi,
                include_all=include_all,
                is_all=True,
                all_value=all_value,
                type=str(variable.get("type", "custom")),
            )
            continue
        text_of = {value: text for text, value in options}
        result[name] = VariableValue(
            name=name,
            values=tuple(selected),
            texts=tuple(text_of.get(v, v) for v in selected),
            multi=multi,
            include_all=include_all,
            type=str(variable.get("type", "custom")),
        )
    return result


# --------------------------------------------------------------------------------------- formatting

# Grafana's templateSrv variable syntax: $var, [[var:fmt]], ${var.field:fmt}
VARIABLE_PATTERN = re.compile(r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^\}]+))?(?::([^\}]+))?\}")

_REGEX_META = re.compile(r"[\\^$*+?.()|\[\]{}/]")
_PROM_REGEX_META = re.compile(r"[$^*{}\[\]+?.()|]")


def _regex_escape(value: str) -> str:
    return _REGEX_META.sub(lambda m: "\\" + m.group(0), value)


def prometheus_regular_escape(value: str) -> str:
    """Grafana's prometheusRegularEscape (classic): a single value of a non-multi variable."""
    return value.replace("\\", "\\\\").replace("'", "\\\\'")


def prometheus_regex_escape(value: str) -> str:
    """Grafana's prometheusSpecialRegexEscape (classic): a value inside a regex inside a PromQL string, so
    `.` becomes `\\\\.` in the query text (the PromQL string unescapes it to the regex `\\.`)."""
    value = value.replace("\\", "\\\\\\\\")
    return _PROM_REGEX_META.sub(lambda m: "\\\\" + m.group(0), value)


def _prometheus_default(var: VariableValue, values: Sequence[str]) -> str:
    if not var.multi and not var.include_all:
        return prometheus_regular_escape(values[0] if values else "")
    escaped = [prometheus_regex_escape(v) for v in values]
    if len(escaped) == 1:
        return escaped[0]
    return "(" + "|".join(escaped) + ")"


def _sql_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_default(var: VariableValue, values: Sequence[str]) -> str:
    if not var.multi and not var.include_all and len(values) == 1:
        return values[0]
    return ",".join(_sql_quote(v) for v in values)


def _format(values: Sequence[str], fmt: str, var: VariableValue | None = None) -> str:
    """Grafana's format registry (`${var:fmt}`)."""
    name = fmt.split(":", 1)[0]
    single = len(values) == 1
    if name == "raw":
        return ",".join(values)
    if name == "regex":
        escaped = [_regex_escape(v) for v in values]
        return escaped[0] if single else "(" + "|".join(escaped) + ")"
    if name == "pipe":
        return "|".join(values)
    if name == "csv":
        return ",".join(values)
    if name == "distributed":
        first, *rest = list(values) or [""]
        key = var.name if var else ""
        return ",".join([first, *[f"{key}={v}" for v in rest]])
    if name == "json":
        return json.dumps(values[0] if single else list(values), separators=(",", ":"))
    if name == "lucene":

        def lucene(v: str) -> str:
            return re.sub(r'([+\-=&|><!(){}\[\]^"~*?:\\/ ])', r"\\\1", v)

        return lucene(values[0]) if single else "(" + " OR ".join(f'"{lucene(v)}"' for v in values) + ")"
    if name == "percentencode":
        return quote(",".join(values), safe="-_.!~*'()")
    if name == "queryparam":
        key = var.name if var else ""
        return "&".join(f"var-{key}={quote(v, safe='-_.!~*()')}" for v in values)
    if name == "singlequote":
        return ",".join("'" + v.replace("'", "\\'") + "'" for v in values)
    if name == "doublequote":
        return ",".join('"' + v.replace('"', '\\"') + '"' for v in values)
    if name == "sqlstring":
        return ",".join(_sql_quote(v) for v in values)
    if name == "glob":
        return values[0] if single else "{" + ",".join(values) + "}"
    if name == "text":
        return " + ".join(values)
    if name == "date":
        return ",".join(values)
    raise InterpolationError(f"unknown variable format {fmt!r}")


def _format_date(ms: int, fmt: str) -> str:
    """`${__from:date:iso}`, `${__from:date:seconds}`, `${__from:date}` (ISO) as Grafana formats them."""
    parts = fmt.split(":", 1)
    kind = parts[1] if len(parts) > 1 else "iso"
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    if kind == "seconds":
        return str(ms // 1000)
    if kind == "iso":
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    raise InterpolationError(f"unsupported date format {fmt!r}: use date, date:iso or date:seconds")


Formatter = Callable[[VariableValue, Sequence[str]], str]


def replace_variables(
    text: str,
    variables: Mapping[str, VariableValue],
    *,
    formatter: Formatter | None = None,
    scoped: Mapping[str, str] | None = None,
    time_range: TimeRange | None = None,
    _depth: int = 0,
) -> str:
    """Grafana's templateSrv.replace: substitute dashboard variables, `$__from`/`$__to` and scoped built-ins.

    `formatter` formats a value when the reference names no format (the datasource's own; default: values
    joined by commas). Unknown variables are left as written, as Grafana does.
    """
    scoped = scoped or {}

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(4)
        fmt = match.group(3) or match.group(6)
        if name in ("__from", "__to") and time_range is not None:
            ms = time_range.from_ms if name == "__from" else time_range.to_ms
            if fmt and fmt.startswith("date"):
                return _format_date(ms, fmt)
            return str(ms)
        if name in scoped:
            return scoped[name]
        var = variables.get(name)
        if var is None:
            return match.group(0)
        if var.is_all and var.all_value is not None and fmt not in ("text", "percentencode", "queryparam"):
            if _depth > 5:
                return var.all_value
            return replace_variables(var.all_value, variables, scoped=scoped, time_range=time_range, _depth=_depth + 1)
        if fmt == "text":
            return var.text
        values = list(var.values)
        if fmt:
            return _format(values, fmt, var)
        if formatter is not None:
            return formatter(var, values)
        return ",".join(values)

    return VARIABLE_PATTERN.sub(substitute, text)


# --------------------------------------------------------------------------------------- PromQL


def _prometheus_builtins(expr: str, ctx: QueryContext) -> str:
    """Grafana's Prometheus backend interpolateVariables (plain string replacement, same order)."""
    step = prometheus_step_ms(ctx)
    rate = rate_interval_ms(ctx)
    range_ms = ctx.time_range.range_ms
    range_s = int(math.floor(range_ms / 1000 + 0.5))
    for suffix in ("", "alt"):

        def v(name: str, suffix: str = suffix) -> str:
            return "${" + name + "}" if suffix else "$" + name

        expr = expr.replace(v("__interval_ms"), str(step))
        expr = expr.replace(v("__interval"), format_interval(step))
        expr = expr.replace(v("__range_ms"), str(range_ms))
        expr = expr.replace(v("__range_s"), str(range_s))
        expr = expr.replace(v("__range"), f"{range_s}s")
        expr = expr.replace(v("__rate_interval_ms"), str(rate))
        expr = expr.replace(v("__rate_interval"), go_duration_string(rate))
    return expr


_PROM_BUILTINS = (
    "__interval",
    "__interval_ms",
    "__range",
    "__range_s",
    "__range_ms",
    "__rate_interval",
    "__rate_interval_ms",
)


def interpolate_promql(expr: str, variables: Mapping[str, VariableValue], ctx: QueryContext) -> str:
    """A Prometheus target's expr as Grafana sends it: dashboard variables formatted by the Prometheus
    datasource (regex-escaped alternation for multi/All), then the backend's built-ins."""
    keep = {name: "${" + name + "}" for name in _PROM_BUILTINS}
    replaced = replace_variables(
        expr,
        variables,
        formatter=_prometheus_default,
        scoped={**keep, "__dashboard": ctx.dashboard_title},
        time_range=ctx.time_range,
    )
    return _prometheus_builtins(replaced, ctx)


# --------------------------------------------------------------------------------------- SQL

_MACRO = re.compile(r"\$([_a-zA-Z0-9]+)\(([^\)]*)\)")


@dataclass(frozen=True)
class SqlFill:
    """A `$__timeGroup(col, interval, fill)` fill mode: Grafana inserts rows for missing intervals."""

    interval_ms: int
    mode: str  # "null", "previous" or "value"
    value: float | None = None


def _sql_group_interval_s(arg: str) -> float:
    ms = parse_interval_ms(arg.strip("'"))
    return ms / 1000


def _fill_of(arg: str, interval_ms: int) -> SqlFill:
    mode = arg.strip()
    if mode in ("NULL", "null"):
        return SqlFill(interval_ms, "null")
    if mode in ("previous",):
        return SqlFill(interval_ms, "previous")
    try:
        return SqlFill(interval_ms, "value", float(mode))
    except ValueError as exc:
        raise InterpolationError(f"error parsing fill value {arg!r}: use NULL, previous or a number") from exc


def _evaluate_macro(name: str, args: list[str], tr: TimeRange, fills: list[SqlFill]) -> str:
    def need_column() -> str:
        if not args or not args[0]:
            raise InterpolationError(f"missing time column argument for macro {name}")
        return args[0]

    if name == "__time":
        return f'{need_column()} AS "time"'
    if name == "__timeEpoch":
        return f'extract(epoch from {need_column()}) as "time"'
    if name == "__timeFilter":
        return f"{need_column()} BETWEEN '{_rfc3339nano(tr.start)}' AND '{_rfc3339nano(tr.end)}'"
    if name == "__timeFrom":
        return f"'{_rfc3339nano(tr.start)}'"
    if name == "__timeTo":
        return f"'{_rfc3339nano(tr.end)}'"
    if name in ("__timeGroup", "__unixEpochGroup"):
        if len(args) < 2:
            raise InterpolationError(f"macro {name} needs time column and interval and optional fill value")
        try:
            seconds = _sql_group_interval_s(args[1])
        except InterpolationError as exc:
            raise InterpolationError(f"error parsing interval {args[1]}") from exc
        if len(args) == 3:
            fills.append(_fill_of(args[2], int(round(seconds * 1000))))
        s = _go_float(seconds)
        if name == "__timeGroup":
            return f"floor(extract(epoch from {args[0]})/{s})*{s}"
        return f"floor(({args[0]})/{s})*{s}"
    if name in ("__timeGroupAlias", "__unixEpochGroupAlias"):
        return _evaluate_macro(name[: -len("Alias")], args, tr, fills) + ' AS "time"'
    if name == "__unixEpochFilter":
        col = need_column()
        return f"{col} >= {tr.from_ms // 1000} AND {col} <= {tr.to_ms // 1000}"
    if name == "__unixEpochNanoFilter":
        col = need_column()
        return f"{col} >= {tr.from_ms * 1_000_000} AND {col} <= {tr.to_ms * 1_000_000}"
    if name == "__unixEpochNanoFrom":
        return str(tr.from_ms * 1_000_000)
    if name == "__unixEpochNanoTo":
        return str(tr.to_ms * 1_000_000)
    raise InterpolationError(f"unknown macro {name!r}")


def sql_macros(sql: str, tr: TimeRange) -> tuple[str, list[SqlFill]]:
    """Grafana's PostgreSQL macro engine; returns the SQL and the fill modes its `$__timeGroup`s asked for."""
    fills: list[SqlFill] = []
    out: list[str] = []
    pos = 0
    for match in _MACRO.finditer(sql):
        name = match.group(1)
        after = sql[match.end() : match.end() + 1]
        # Grafana's pre-5.3 compatibility: `$__timeGroup(...)` followed by a comma gets `AS "time"`.
        if name == "__timeGroup" and after == ",":
            name = "__timeGroupAlias"
        args = [arg.strip(" ") for arg in match.group(2).split(",")]
        out.append(sql[pos : match.start()])
        out.append(_evaluate_macro(name, args, tr, fills))
        pos = match.end()
    out.append(sql[pos:])
    return "".join(out), fills


def interpolate_sql(sql: str, variables: Mapping[str, VariableValue], ctx: QueryContext) -> str:
    """A PostgreSQL target's rawSql as Grafana runs it: variables quoted as SQL literals (multi/All), the
    frontend's `$__interval`/`$__interval_ms`/`$__range*`, `$__unixEpochFrom()`/`To()`, then the macros."""
    interval_ms = frontend_interval_ms(ctx)
    range_ms = ctx.time_range.range_ms
    range_s = int(math.floor(range_ms / 1000 + 0.5))
    scoped = {
        "__interval": seconds_to_hms(interval_ms / 1000),
        "__interval_ms": str(interval_ms),
        "__range": f"{range_s}s",
        "__range_s": str(range_s),
        "__range_ms": str(range_ms),
        "__dashboard": ctx.dashboard_title,
    }
    text = replace_variables(sql, variables, formatter=_sql_default, scoped=scoped, time_range=ctx.time_range)
    text = text.replace("$__interval_ms", str(interval_ms)).replace("$__interval", format_interval(interval_ms))
    text = text.replace("$__unixEpochFrom()", str(ctx.time_range.from_ms // 1000))
    text = text.replace("$__unixEpochTo()", str(ctx.time_range.to_ms // 1000))
    expanded, _ = sql_macros(text, ctx.time_range)
    return expanded
