"""Every panel target of a dashboard run as the verifier runs it (same interpolation, step, instant vs range),
timed, with Prometheus' samples touched and PostgreSQL's plan; plus the rule / raw variant of each target."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from bo1dash.bench.plans import explain
from bo1dash.bench.prom import Measured, measure
from bo1dash.bench.rules import RecordingRule, candidates_for, expand_recorded, uses_records
from bo1dash.interpolate import (
    InterpolationError,
    QueryContext,
    TimeRange,
    VariableValue,
    default_max_data_points,
    interpolate_promql,
    interpolate_sql,
    prometheus_query_window,
    variable_values,
)
from bo1dash.verify.datasources import Datasource, DatasourceError, resolve_datasource
from bo1dash.verify.prometheus import PrometheusClient
from bo1dash.verify.runner import NO_QUERY_TYPES, iter_panels
from bo1dash.verify.sql import SqlError, SqlRunner

RANGES: dict[str, timedelta] = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7),
                                "30d": timedelta(days=30)}


@dataclass
class TargetFigures:
    ref_id: str
    kind: str  # prometheus | postgres
    query: str
    seconds: float
    samples: int | None = None
    series: int | None = None
    step: float | None = None
    instant: bool = False
    error: str | None = None
    sql_execution_ms: float | None = None
    ledger_access: list[str] = field(default_factory=list)
    seq_scanned_partitions: list[str] = field(default_factory=list)
    alt_query: str | None = None  # the rule variant (or the raw expansion when the target reads rules)
    alt_seconds: float | None = None
    alt_samples: int | None = None
    alt_error: str | None = None
    alt_is_rules: bool = True


@dataclass
class PanelFigures:
    title: str
    type: str
    seconds: float = 0.0
    samples: int = 0
    targets: list[TargetFigures] = field(default_factory=list)

    @property
    def rules_seconds(self) -> float | None:
        """The panel's time with every target that has a rule variant on its rule variant."""
        if not any(t.alt_query for t in self.targets):
            return None
        return sum((t.alt_seconds if t.alt_query and t.alt_is_rules else t.seconds) or 0.0 for t in self.targets)

    @property
    def rules_samples(self) -> int | None:
        if not any(t.alt_query for t in self.targets):
            return None
        return sum(((t.alt_samples if t.alt_query and t.alt_is_rules else t.samples) or 0) for t in self.targets)


@dataclass
class DashboardRun:
    uid: str
    range: str
    seconds: float = 0.0
    samples: int = 0
    sql_ms: float = 0.0
    panels: list[PanelFigures] = field(default_factory=list)


@dataclass
class Env:
    datasources: Mapping[str, Datasource]
    prometheus: PrometheusClient
    sql_dsn: str
    rules: list[RecordingRule]
    available_records: set[str]


def _context(panel: Mapping[str, Any], dashboard: Mapping[str, Any], ds: Datasource, window: TimeRange) -> QueryContext:
    return QueryContext(
        time_range=window, max_data_points=default_max_data_points(panel), datasource_type=ds.type,
        datasource_interval=ds.time_interval, min_interval=str(panel.get("interval") or "") or None,
        dashboard_uid=str(dashboard.get("uid", "")), dashboard_title=str(dashboard.get("title", "")),
    )


def _run_promql(env: Env, expr: str, target: Mapping[str, Any], ctx: QueryContext) -> tuple[Measured, float | None]:
    instant = bool(target.get("instant")) and not bool(target.get("range"))
    if instant:
        return measure(env.prometheus, expr, instant_at=ctx.time_range.to_ms / 1000), None
    window = prometheus_query_window(ctx)
    return measure(env.prometheus, expr, window=window), window[2]


def _prometheus_target(env: Env, target: Mapping[str, Any], ctx: QueryContext,
                       variables: Mapping[str, VariableValue], uid: str, title: str) -> TargetFigures:
    ref = str(target.get("refId", "?"))
    ctx = replace(ctx, target_interval=str(target.get("interval") or "") or None,
                  interval_factor=int(target.get("intervalFactor") or 1))
    raw = str(target.get("expr") or "")
    expr = interpolate_promql(raw, variables, ctx)
    got, step = _run_promql(env, expr, target, ctx)
    out = TargetFigures(ref, "prometheus", expr, got.seconds, got.samples, got.series, step,
                        instant=step is None, error=got.error)
    alt_raw: str | None = None
    if uses_records(raw, env.rules):
        alt_raw, out.alt_is_rules = expand_recorded(raw, env.rules), False
    else:
        candidate = candidates_for(uid, title, ref)
        if candidate and all(n in env.available_records for n in candidate.needs):
            alt_raw = candidate.expr
    if alt_raw is not None:
        out.alt_query = interpolate_promql(alt_raw, variables, ctx)
        alt, _ = _run_promql(env, out.alt_query, target, ctx)
        out.alt_seconds, out.alt_samples, out.alt_error = alt.seconds, alt.samples, alt.error
    return out


def _sql_target(env: Env, target: Mapping[str, Any], ctx: QueryContext,
                variables: Mapping[str, VariableValue]) -> TargetFigures:
    ref = str(target.get("refId", "?"))
    try:
        sql = interpolate_sql(str(target.get("rawSql") or ""), variables, ctx)
    except InterpolationError as exc:
        return TargetFigures(ref, "postgres", str(target.get("rawSql")), 0.0, error=str(exc))
    started = time.perf_counter()
    try:
        SqlRunner(env.sql_dsn, statement_timeout_ms=60_000).run(sql)
    except SqlError as exc:
        return TargetFigures(ref, "postgres", sql, time.perf_counter() - started, error=str(exc))
    seconds = time.perf_counter() - started
    plan = explain(env.sql_dsn, sql)
    return TargetFigures(ref, "postgres", sql, seconds, sql_execution_ms=plan.execution_ms,
                         ledger_access=plan.ledger_access(), seq_scanned_partitions=plan.seq_scanned_partitions())


def run_dashboard(env: Env, dashboard: Mapping[str, Any], range_name: str, end: datetime) -> DashboardRun:
    """Every panel of `dashboard` over the `range_name` ending at `end`, one query after the other."""
    uid = str(dashboard.get("uid", ""))
    run = DashboardRun(uid=uid, range=range_name)
    window = TimeRange(start=end - RANGES[range_name], end=end)
    variables = variable_values(dashboard)
    for panel in iter_panels(dashboard.get("panels") or []):
        targets = [t for t in panel.get("targets") or [] if not t.get("hide")]
        if panel.get("type") in NO_QUERY_TYPES and not targets or not targets:
            continue
        figures = PanelFigures(title=str(panel.get("title", "")), type=str(panel.get("type", "")))
        for target in targets:
            try:
                ds = resolve_datasource(target, panel, env.datasources, variables)
            except DatasourceError as exc:
                figures.targets.append(TargetFigures(str(target.get("refId")), "?", "", 0.0, error=str(exc)))
                continue
            ctx = _context(panel, dashboard, ds, window)
            try:
                if ds.kind == "prometheus":
                    found = _prometheus_target(env, target, ctx, variables, uid, figures.title)
                else:
                    found = _sql_target(env, target, ctx, variables)
                    run.sql_ms += found.sql_execution_ms or 0.0
            except Exception as exc:  # one broken target must not lose the whole run's figures
                found = TargetFigures(str(target.get("refId")), ds.kind, "", 0.0, error=f"{type(exc).__name__}: {exc}")
            figures.targets.append(found)
        figures.seconds = sum(t.seconds for t in figures.targets)
        figures.samples = sum(t.samples or 0 for t in figures.targets)
        run.panels.append(figures)
    run.seconds = sum(p.seconds for p in run.panels)
    run.samples = sum(p.samples for p in run.panels)
    return run
