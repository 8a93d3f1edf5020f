"""The intervals Grafana computes for a query: the frontend interval (`$__interval`), the Prometheus backend's
step and `$__rate_interval`, and the window of the query_range it sends.

- frontend interval: range / maxDataPoints rounded by Grafana's table, floored at the panel's min interval or
  else the datasource's `timeInterval` (Prometheus default 15s, SQL datasources default 1m);
- Prometheus step: the frontend interval recomputed with maxDataPoints, floored at a safe resolution of 11000
  points; `$__rate_interval` = max(frontend interval + scrape interval, 4 * scrape interval).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bo1dash.grafana.durations import format_interval, parse_interval_ms, round_interval_ms
from bo1dash.grafana.time_range import TimeRange

SAFE_RESOLUTION = 11000  # Prometheus backend: never more than 11000 points per series
PROMETHEUS_DEFAULT_INTERVAL = "15s"
SQL_DEFAULT_INTERVAL = "1m"
SQL_TYPES = frozenset({"grafana-postgresql-datasource", "postgres", "mysql", "mssql", "grafana-mysql-datasource"})


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


def panel_query_context(
    dashboard: Mapping[str, Any],
    panel: Mapping[str, Any],
    datasource_type: str,
    datasource_interval: str | None,
    time_range: TimeRange,
) -> QueryContext:
    """The context Grafana queries a panel's targets in: the range, the panel's max data points and min interval,
    the datasource's type and interval, and the dashboard the panel belongs to."""
    return QueryContext(
        time_range=time_range,
        max_data_points=default_max_data_points(panel),
        datasource_type=datasource_type,
        datasource_interval=datasource_interval,
        min_interval=str(panel.get("interval") or "") or None,
        dashboard_uid=str(dashboard.get("uid", "")),
        dashboard_title=str(dashboard.get("title", "")),
    )


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


def prometheus_query_window(ctx: QueryContext) -> tuple[float, float, float]:
    """(start, end, step) in epoch seconds of Grafana's query_range: start and end aligned down to the step."""
    step = prometheus_step_ms(ctx)
    start = math.floor(ctx.time_range.from_ms / step) * step
    end = math.floor(ctx.time_range.to_ms / step) * step
    return start / 1000, end / 1000, step / 1000
