"""Grafana variable substitution as far as the lint needs it (one place, to swap for
`bo1dash.interpolate` once that module exists).

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
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Iterable, Iterator, Mapping

# Grafana's variable syntax (public/app/features/variables/utils.ts, variableRegex).
VARIABLE_RE = re.compile(r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}")
MARKER_PREFIX = "__bo1var_"

# Global variables Grafana defines for every dashboard (docs: variables, global variables).
GLOBAL_VARIABLES = frozenset({
    "__interval", "__interval_ms", "__rate_interval", "__rate_interval_ms", "__range", "__range_s",
    "__range_ms", "__from", "__to", "__now", "__dashboard", "__org", "__user", "__name", "__timezone",
    "__auto", "__all", "__series", "__field", "__value", "__data", "__cell", "__url", "__url_time_range",
    "timeFilter", "__timeFilter",
})
# SQL macros of Grafana's SQL datasources (docs: PostgreSQL query editor, macros).
SQL_MACROS = frozenset({
    "__time", "__timeEpoch", "__timeFilter", "__timeFrom", "__timeTo", "__timeGroup", "__timeGroupAlias",
    "__unixEpochFilter", "__unixEpochFrom", "__unixEpochTo", "__unixEpochNanoFilter", "__unixEpochNanoFrom",
    "__unixEpochNanoTo", "__unixEpochGroup", "__unixEpochGroupAlias", "__schema", "__table", "__column",
})
# Macros whose presence bounds a SQL query in time (a $__timeGroup alone does not).
SQL_TIME_BOUNDING_MACROS = frozenset({
    "__timeFilter", "__timeFrom", "__timeTo", "__unixEpochFilter", "__unixEpochFrom", "__unixEpochTo",
    "__unixEpochNanoFilter", "__unixEpochNanoFrom", "__unixEpochNanoTo",
})

# Marker durations for window variables: unlikely to be written by hand, distinct, below any retention.
_WINDOW_MARKERS = {"__rate_interval": 7001001, "__interval": 7002002, "__range": 7003003}


@dataclass(frozen=True)
class VariableUse:
    name: str
    start: int
    end: int
    fmt: str | None


def variable_uses(text: str) -> Iterator[VariableUse]:
    for m in VARIABLE_RE.finditer(text):
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
        out.append(expr[last:use.start])
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


def _split_args(text: str) -> list[str]:
    args, depth, buf, quote = [], 0, [], None
    for ch in text:
        if quote:
            buf.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            args.append("".join(buf).strip())
            buf = []
            continue
        buf.append(ch)
    if buf or args:
        args.append("".join(buf).strip())
    return args


def _macro_sql(name: str, args: list[str]) -> str:
    frm, to = "'2024-01-01T00:00:00Z'::timestamptz", "'2024-01-01T06:00:00Z'::timestamptz"
    col = args[0] if args else "time"
    seconds = "3600"
    if name == "__timeFilter":
        return f"{col} BETWEEN {frm} AND {to}"
    if name == "__timeFrom":
        return frm
    if name == "__timeTo":
        return to
    if name in ("__unixEpochFilter", "__unixEpochNanoFilter"):
        return f"{col} >= 1704067200 AND {col} <= 1704088800"
    if name in ("__unixEpochFrom", "__unixEpochNanoFrom"):
        return "1704067200"
    if name in ("__unixEpochTo", "__unixEpochNanoTo"):
        return "1704088800"
    if name == "__time":
        return f'{col} AS "time"'
    if name == "__timeEpoch":
        return f'extract(epoch from {col}) AS "time"'
    if name == "__timeGroup":
        return f"floor(extract(epoch from {col})/{seconds})*{seconds}"
    if name == "__timeGroupAlias":
        return f'floor(extract(epoch from {col})/{seconds})*{seconds} AS "time"'
    if name == "__unixEpochGroup":
        return f"floor({col}/{seconds})*{seconds}"
    if name == "__unixEpochGroupAlias":
        return f'floor({col}/{seconds})*{seconds} AS "time"'
    return "public" if name == "__schema" else "unknown_macro"


def sql_macros_used(sql: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"\$(__\w+)\s*\(", sql) if m.group(1) in SQL_MACROS}


def interpolate_sql(sql: str, variables: Iterable[Mapping[str, Any]]) -> str:
    """`sql` with Grafana's SQL macros expanded (a fixed 6h range) and variables replaced by markers."""
    out: list[str] = []
    i = 0
    macro_re = re.compile(r"\$(__\w+)\s*\(")
    while True:
        m = macro_re.search(sql, i)
        if not m or m.group(1) not in SQL_MACROS:
            if m:  # not a macro: keep text up to after the match and continue
                out.append(sql[i:m.end()])
                i = m.end()
                continue
            out.append(sql[i:])
            break
        out.append(sql[i:m.start()])
        depth, j = 1, m.end()
        while j < len(sql) and depth:
            depth += {"(": 1, ")": -1}.get(sql[j], 0)
            j += 1
        args = _split_args(sql[m.end():j - 1]) if sql[m.end():j - 1].strip() else []
        out.append(_macro_sql(m.group(1), args))
        i = j
    expanded = "".join(out)
    result: list[str] = []
    last = 0
    for use in variable_uses(expanded):
        result.append(expanded[last:use.start])
        last = use.end
        marker = f"{MARKER_PREFIX}{use.name}__"
        result.append(marker if _in_quotes(expanded, use.start, "'\"") else f"'{marker}'")
    result.append(expanded[last:])
    return "".join(result)
