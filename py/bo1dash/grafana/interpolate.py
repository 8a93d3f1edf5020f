"""What a panel target's query becomes before the datasource sees it (Grafana 11), in order:

1. the time range (`time_range.time_range_for`) and the intervals (`intervals`);
2. template variables (`variables.replace_variables`), formatted as the datasource formats them;
3. Prometheus: the backend's built-ins (`$__interval`, `$__rate_interval`, `$__range`, ...) by plain string
   replacement; SQL: the frontend's `$__interval`/`$__range*`, `$__unixEpochFrom()`/`To()`, then the macros.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from bo1dash.grafana.durations import InterpolationError, format_interval, go_duration_string, seconds_to_hms
from bo1dash.grafana.intervals import QueryContext, frontend_interval_ms, prometheus_step_ms, rate_interval_ms
from bo1dash.grafana.sql_macros import sql_macros
from bo1dash.grafana.variables import VariableValue, prometheus_format, replace_variables, sql_format

__all__ = ["InterpolationError", "interpolate_promql", "interpolate_sql"]


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
        formatter=prometheus_format,
        scoped={**keep, "__dashboard": ctx.dashboard_title},
        time_range=ctx.time_range,
    )
    return _prometheus_builtins(replaced, ctx)


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
    text = replace_variables(sql, variables, formatter=sql_format, scoped=scoped, time_range=ctx.time_range)
    text = text.replace("$__interval_ms", str(interval_ms)).replace("$__interval", format_interval(interval_ms))
    text = text.replace("$__unixEpochFrom()", str(ctx.time_range.from_ms // 1000))
    text = text.replace("$__unixEpochTo()", str(ctx.time_range.to_ms // 1000))
    expanded, _ = sql_macros(text, ctx.time_range)
    return expanded
