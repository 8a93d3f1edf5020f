"""Queries made parseable for the lint: Grafana's variables replaced by markers. SQL macros are expanded by
`bo1dash.grafana.sql_macros` (as the verifier runs them); variables get markers instead of values.

Grafana replaces `$x`, `${x}`, `${x:fmt}` and `[[x]]` before a query reaches the datasource. The
lint needs a query that *parses* and keeps track of where a value came from, so:
- a variable inside a quoted string becomes a marker (`__bo1var_<name>__`, valid as a label value
  and as a regex) that the rules recognise and skip;
- window variables (`$__rate_interval`, `$__interval`, `$__range`) become marker durations that
  `window_variable()` maps back to the variable name;
- other variables outside quotes take their current value (numbers, intervals) or a marker.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bo1dash.grafana.sql_macros import sql_macros
from bo1dash.grafana.time_range import TimeRange
from bo1dash.grafana.variables import VARIABLE_PATTERN

MARKER_PREFIX = "__bo1var_"

# Global variables Grafana defines for every dashboard (docs: variables, global variables).
GLOBAL_VARIABLES = frozenset(
    {
        "__interval",
        "__interval_ms",
        "__rate_interval",
        "__rate_interval_ms",
        "__range",
        "__range_s",
        "__range_ms",
        "__from",
        "__to",
        "__now",
        "__dashboard",
        "__org",
        "__user",
        "__name",
        "__timezone",
        "__auto",
        "__all",
        "__series",
        "__field",
        "__value",
        "__data",
        "__cell",
        "__url",
        "__url_time_range",
        "timeFilter",
        "__timeFilter",
    }
)
# SQL macros of Grafana's SQL datasources (docs: PostgreSQL query editor, macros).
SQL_MACROS = frozenset(
    {
        "__time",
        "__timeEpoch",
        "__timeFilter",
        "__timeFrom",
        "__timeTo",
        "__timeGroup",
        "__timeGroupAlias",
        "__unixEpochFilter",
        "__unixEpochFrom",
        "__unixEpochTo",
        "__unixEpochNanoFilter",
        "__unixEpochNanoFrom",
        "__unixEpochNanoTo",
        "__unixEpochGroup",
        "__unixEpochGroupAlias",
        "__schema",
        "__table",
        "__column",
    }
)
# Macros whose presence bounds a SQL query in time (a $__timeGroup alone does not).
SQL_TIME_BOUNDING_MACROS = frozenset(
    {
        "__timeFilter",
        "__timeFrom",
        "__timeTo",
        "__unixEpochFilter",
        "__unixEpochFrom",
        "__unixEpochTo",
        "__unixEpochNanoFilter",
        "__unixEpochNanoFrom",
        "__unixEpochNanoTo",
    }
)

# Marker durations for window variables: unlikely to be written by hand, distinct, below any retention.
_WINDOW_MARKERS = {"__rate_interval": 7001001, "__interval": 7002002, "__range": 7003003}


@dataclass(frozen=True)
class VariableUse:
    name: str
    start: int
    end: int
    fmt: str | None


def variable_uses(text: str) -> Iterator[VariableUse]:
    for m in VARIABLE_PATTERN.finditer(text):
        name = m.group(1) or m.group(2) or m.group(4)
        fmt = m.group(3) or m.group(6)
        yield VariableUse(name, m.start(), m.end(), fmt)


def window_variable(window: timedelta) -> str | None:
    """The window variable a marker duration stands for, or None for a literal window."""
    ms = round(window.total_seconds() * 1000)
    for name, marker in _WINDOW_MARKERS.items():
        if ms == marker:
            return name
    return None


def is_marker(value: str) -> bool:
    return MARKER_PREFIX in value


def _in_quotes(text: str, pos: int, quotes: str) -> bool:
    open_quote: str | None = None
    i = 0
    while i < pos:
        ch = text[i]
        if open_quote:
            if ch == "\\":
                i += 2
                continue
            if ch == open_quote:
                open_quote = None
        elif ch in quotes:
            open_quote = ch
        i += 1
    return open_quote is not None


def _current_value(variable: Mapping[str, Any] | None) -> str | None:
    if not variable:
        return None
    current = variable.get("current") or {}
    value = current.get("value") if isinstance(current, dict) else None
    if isinstance(value, list):
        value = value[0] if len(value) == 1 else None
    if value in (None, "", "$__all", "$__auto_interval", "$__auto"):
        if variable.get("type") == "constant":
            return str(variable.get("query", "")) or None
        return None
    return str(value)


def interpolate_promql(expr: str, variables: Iterable[Mapping[str, Any]], scrape_interval_seconds: float) -> str:
    """`expr` with Grafana's variables replaced so that promql-parser can read it."""
    by_name = {str(v.get("name")): v for v in variables}
    out: list[str] = []
    last = 0
    for use in variable_uses(expr):
        out.append(expr[last : use.start])
        last = use.end
        if _in_quotes(expr, use.start, "\"'`"):
            out.append(f"{MARKER_PREFIX}{use.name}__")
        elif use.name in _WINDOW_MARKERS:
            out.append(f"{_WINDOW_MARKERS[use.name]}ms")
        elif use.name in ("__interval_ms", "__rate_interval_ms"):
            out.append(str(int(scrape_interval_seconds * 4000)))
        elif use.name in ("__range_s", "__range_ms"):
            out.append("3600" if use.name == "__range_s" else "3600000")
        else:
            value = _current_value(by_name.get(use.name))
            out.append(value if value is not None else f"{MARKER_PREFIX}{use.name}__")
    out.append(expr[last:])
    return "".join(out)


# Macros expand over a fixed range: the lint parses the SQL, it does not run it.
_LINT_RANGE = TimeRange(datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, 6, tzinfo=UTC))


def sql_macros_used(sql: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"\$(__\w+)\s*\(", sql) if m.group(1) in SQL_MACROS}


def interpolate_sql(sql: str, variables: Iterable[Mapping[str, Any]]) -> str:
    """`sql` with Grafana's SQL macros expanded (a fixed 6h range) and variables replaced by markers."""
    expanded, _ = sql_macros(sql, _LINT_RANGE)
    result: list[str] = []
    last = 0
    for use in variable_uses(expanded):
        result.append(expanded[last : use.start])
        last = use.end
        marker = f"{MARKER_PREFIX}{use.name}__"
        result.append(marker if _in_quotes(expanded, use.start, "'\"") else f"'{marker}'")
    result.append(expanded[last:])
    return "".join(result)
