"""Template variables as Grafana resolves and substitutes them.

`variable_values`: each variable's value at dashboard load. `replace_variables` (Grafana's templateSrv.replace):
`$var`, `${var}`, `${var:format}`, `[[var]]`. Without an explicit format a datasource formats the value:
Prometheus regex-escapes multi-value / All values and joins them as `(a|b)` (`prometheus_format`); SQL
datasources quote each value as a literal (`sql_format`). An "All" with a custom `allValue` is inserted verbatim.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from bo1dash.grafana.durations import InterpolationError
from bo1dash.grafana.time_range import TimeRange

ALL_VALUE = "$__all"


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


def prometheus_format(var: VariableValue, values: Sequence[str]) -> str:
    if not var.multi and not var.include_all:
        return prometheus_regular_escape(values[0] if values else "")
    escaped = [prometheus_regex_escape(v) for v in values]
    if len(escaped) == 1:
        return escaped[0]
    return "(" + "|".join(escaped) + ")"


def _sql_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sql_format(var: VariableValue, values: Sequence[str]) -> str:
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
