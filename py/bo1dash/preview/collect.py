"""The query results of every panel, fetched live the way the verifier runs them (same datasources, variables,
time range, step and macros), kept as frames for drawing.

The verifier's `verify_dashboards` returns verdicts but not the frames it judged; until it does, this runs the
same queries with the same public building blocks (`bo1dash.interpolate`, the verifier's Prometheus and SQL
clients), once per visible target, in target order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bo1dash.interpolate import (
    InterpolationError,
    QueryContext,
    VariableValue,
    default_max_data_points,
    interpolate_promql,
    interpolate_sql,
    prometheus_query_window,
    time_range_for,
    variable_values,
)
from bo1dash.preview.layout import visible_panels
from bo1dash.verify.datasources import Datasource, DatasourceError, resolve_datasource
from bo1dash.verify.frames import QueryResult
from bo1dash.verify.prometheus import PrometheusClient, PrometheusError
from bo1dash.verify.sql import SqlError, SqlRunner


@dataclass(frozen=True)
class Sources:
    datasources: Mapping[str, Datasource]
    prometheus: PrometheusClient | None
    sql: SqlRunner | None


@dataclass
class Collected:
    """Per panel id: the frames of its visible targets, and why a target gave none."""

    results: dict[int, list[QueryResult]]
    errors: dict[int, list[str]]


def _label_values(sources: Sources, dashboard: Mapping[str, Any], now: datetime) -> Callable[[Mapping[str, Any]], list[str]]:
    """A query variable's options as Grafana's Prometheus variable support lists them (label_values)."""

    def run(variable: Mapping[str, Any]) -> list[str]:
        query = variable.get("query")
        text = str((query.get("query") if isinstance(query, Mapping) else query) or "")
        match = re.fullmatch(r"\s*label_values\((?:(.*),)?\s*(\w+)\s*\)\s*", text)
        if sources.prometheus is None or not match:
            return []
        label, selector = match.group(2), (match.group(1) or "").strip()
        window = time_range_for(dashboard, None, now)
        found = sources.prometheus.series(selector or f'{{{label}!=""}}', window.from_ms / 1000, window.to_ms / 1000)
        return sorted({s[label] for s in found if label in s})

    return run


def _run_target(sources: Sources, target: Mapping[str, Any], ds: Datasource, ctx: QueryContext,
                variables: Mapping[str, VariableValue]) -> QueryResult:
    if ds.kind == "prometheus":
        if sources.prometheus is None:
            raise LookupError(f"no Prometheus URL given for datasource {ds.uid}")
        ctx = replace(ctx, target_interval=str(target.get("interval") or "") or None,
                      interval_factor=int(target.get("intervalFactor") or 1))
        expr = interpolate_promql(str(target.get("expr") or ""), variables, ctx)
        if target.get("instant") and not target.get("range"):
            return sources.prometheus.query(expr, ctx.time_range.to_ms / 1000)
        start, end, step = prometheus_query_window(ctx)
        return sources.prometheus.query_range(expr, start, end, step)
    if ds.kind == "postgres":
        if sources.sql is None:
            raise LookupError(f"no PostgreSQL DSN given for datasource {ds.uid}")
        return sources.sql.run(interpolate_sql(str(target.get("rawSql") or ""), variables, ctx))
    raise LookupError(f"datasource type {ds.type!r} cannot be queried here")


def collect_results(dashboard: Mapping[str, Any], sources: Sources, now: datetime) -> Collected:
    """Run every visible target of every drawn panel at `now`."""
    out = Collected({}, {})
    variables = variable_values(dashboard, query_runner=_label_values(sources, dashboard, now))
    for panel in visible_panels(dashboard.get("panels") or []):
        pid = panel.get("id")
        targets = [t for t in panel.get("targets") or [] if not t.get("hide")]
        if not isinstance(pid, int) or not targets:
            continue
        time_range = time_range_for(dashboard, panel, now)
        for target in targets:
            try:
                ds = resolve_datasource(target, panel, sources.datasources, variables)
                ctx = QueryContext(
                    time_range=time_range,
                    max_data_points=default_max_data_points(panel),
                    datasource_type=ds.type,
                    datasource_interval=ds.time_interval,
                    min_interval=str(panel.get("interval") or "") or None,
                    dashboard_uid=str(dashboard.get("uid", "")),
                    dashboard_title=str(dashboard.get("title", "")),
                )
                out.results.setdefault(pid, []).append(_run_target(sources, target, ds, ctx, variables))
            except (DatasourceError, InterpolationError, PrometheusError, SqlError, LookupError) as exc:
                out.errors.setdefault(pid, []).append(f"{target.get('refId', '?')}: {exc}")
    return out


def verdicts_by_panel_id(dashboard: Mapping[str, Any], panel_results: Sequence[Any]) -> dict[int, Any]:
    """The verifier's PanelResults of this dashboard keyed by panel id (they name panels by uid and title)."""
    uid = str(dashboard.get("uid", ""))
    by_title = {p.panel_title: p for p in panel_results if getattr(p, "dashboard_uid", None) == uid}
    return {
        int(panel["id"]): by_title[str(panel.get("title", ""))]
        for panel in visible_panels(dashboard.get("panels") or [])
        if isinstance(panel.get("id"), int) and str(panel.get("title", "")) in by_title
    }
