"""Grafana's PostgreSQL macro engine (`$__timeFilter`, `$__timeGroup`, ...), producing text identical to
Grafana's Go `fmt` output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from bo1dash.grafana.durations import InterpolationError, parse_interval_ms
from bo1dash.grafana.time_range import TimeRange


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
