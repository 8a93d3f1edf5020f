"""Every panel target of a dashboard run as the verifier runs it (same interpolation, step, instant vs range),
timed, with Prometheus' samples touched and PostgreSQL's plan; plus, side by side, the raw variant of each
target that reads recording rules and the bench's proposed fix (`rules.CANDIDATES`) where one exists."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from bo1dash.bench.plans import explain
from bo1dash.bench.prom import Measured, measure
from bo1dash.bench.rules import RecordingRule, candidates_for, expand_recorded, records_read
from bo1dash.grafana.datasources import Datasource, DatasourceError, resolve_datasource
from bo1dash.grafana.durations import InterpolationError
from bo1dash.grafana.interpolate import interpolate_promql, interpolate_sql
from bo1dash.grafana.intervals import (
    QueryContext,
    panel_query_context,
    prometheus_query_window,
)
from bo1dash.grafana.panels import iter_panels, visible_targets
from bo1dash.grafana.prometheus import PrometheusClient
from bo1dash.grafana.sql import SqlError, SqlRunner
from bo1dash.grafana.time_range import TimeRange, time_range_for
from bo1dash.grafana.variables import VariableValue, variable_values

# The ledger fix measured beside each api_costs query: bo1's PostgreSQL runs on SSD, where random reads cost
# about what sequential ones do; with the default 4.0 the planner reads a month partition whole even when the
# covering index (created_at DESC, session_id, provider, total_cost) is all-visible after VACUUM.
SQL_FIX_SETTINGS = ("random_page_cost = 1.1",)

# The dashboard ranges timed; each is Grafana date math (`now-7d`), see panel_window.
RANGES: tuple[str, ...] = ("1h", "24h", "7d", "30d")


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
    records: list[str] = field(default_factory=list)  # recorded series the target reads
    raw_query: str | None = None  # every recorded series replaced by its rule's expression (no rules)
    raw_seconds: float | None = None
    raw_samples: int | None = None
    raw_error: str | None = None
    fix_query: str | None = None  # the bench's proposed variant (rules.CANDIDATES), on bench-only rules
    fix_seconds: float | None = None
    fix_samples: int | None = None
    fix_error: str | None = None
    fix_note: str | None = None


def _sum_variant(targets: list[TargetFigures], kind: str, what: str) -> float | None:
    """The panel's total with each target that has a `kind` variant (raw/fix) on it, the others as they are."""
    if not any(getattr(t, f"{kind}_query") for t in targets):
        return None
    return sum(
        (getattr(t, f"{kind}_{what}") if getattr(t, f"{kind}_query") else getattr(t, what)) or 0 for t in targets
    )


@dataclass
class PanelFigures:
    title: str
    type: str
    seconds: float = 0.0
    samples: int = 0
    targets: list[TargetFigures] = field(default_factory=list)

    @property
    def raw_seconds(self) -> float | None:
        """The panel without recording rules (each recorded series expanded to its rule's expression)."""
        return _sum_variant(self.targets, "raw", "seconds")

    @property
    def raw_samples(self) -> int | None:
        value = _sum_variant(self.targets, "raw", "samples")
        return None if value is None else int(value)

    @property
    def fix_seconds(self) -> float | None:
        """The panel with the bench's proposed fix for its targets that have one."""
        return _sum_variant(self.targets, "fix", "seconds")

    @property
    def fix_samples(self) -> int | None:
        value = _sum_variant(self.targets, "fix", "samples")
        return None if value is None else int(value)


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
    return panel_query_context(dashboard, panel, ds.type, ds.time_interval, window)


def _run_promql(env: Env, expr: str, target: Mapping[str, Any], ctx: QueryContext) -> tuple[Measured, float | None]:
    instant = bool(target.get("instant")) and not bool(target.get("range"))
    if instant:
        return measure(env.prometheus, expr, instant_at=ctx.time_range.to_ms / 1000), None
    window = prometheus_query_window(ctx)
    return measure(env.prometheus, expr, window=window), window[2]


def _prometheus_target(
    env: Env, target: Mapping[str, Any], ctx: QueryContext, variables: Mapping[str, VariableValue], uid: str, title: str
) -> TargetFigures:
    ref = str(target.get("refId", "?"))
    ctx = replace(
        ctx,
        target_interval=str(target.get("interval") or "") or None,
        interval_factor=int(target.get("intervalFactor") or 1),
    )
    raw = str(target.get("expr") or "")
    expr = interpolate_promql(raw, variables, ctx)
    got, step = _run_promql(env, expr, target, ctx)
    out = TargetFigures(
        ref, "prometheus", expr, got.seconds, got.samples, got.series, step, instant=step is None, error=got.error
    )
    out.records = sorted(records_read(raw, env.rules))
    if out.records:
        out.raw_query = interpolate_promql(expand_recorded(raw, env.rules), variables, ctx)
        alt, _ = _run_promql(env, out.raw_query, target, ctx)
        out.raw_seconds, out.raw_samples, out.raw_error = alt.seconds, alt.samples, alt.error
    candidate = candidates_for(uid, title, ref)
    if candidate and all(n in env.available_records for n in candidate.needs):
        out.fix_query, out.fix_note = interpolate_promql(candidate.expr, variables, ctx), candidate.note
        alt, _ = _run_promql(env, out.fix_query, target, ctx)
        out.fix_seconds, out.fix_samples, out.fix_error = alt.seconds, alt.samples, alt.error
    return out


def _sql_target(
    env: Env, target: Mapping[str, Any], ctx: QueryContext, variables: Mapping[str, VariableValue]
) -> TargetFigures:
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
    out = TargetFigures(
        ref,
        "postgres",
        sql,
        seconds,
        sql_execution_ms=plan.execution_ms,
        ledger_access=plan.ledger_access(),
        seq_scanned_partitions=plan.seq_scanned_partitions(),
    )
    if plan.ledger_access():
        fixed = explain(env.sql_dsn, sql, settings=SQL_FIX_SETTINGS)
        out.fix_query = "SET LOCAL " + "; SET LOCAL ".join(SQL_FIX_SETTINGS) + ";\n" + sql
        # the panel's wall time with the variant's execution time in place of the query's own
        out.fix_seconds = max(0.0, seconds + (fixed.execution_ms - plan.execution_ms) / 1000)
        out.fix_note = (
            "; ".join(fixed.ledger_access()) + f" ({fixed.execution_ms:.0f} ms vs {plan.execution_ms:.0f} ms)"
        )
    return out


def panel_window(panel: Mapping[str, Any], range_name: str, end: datetime) -> TimeRange:
    """The range a panel queries when the dashboard shows `range_name` up to `end`: Grafana's, i.e. the
    panel's own relative time (`timeFrom`, the live panels' `_config.liveRange`) and `timeShift` if any."""
    return time_range_for({"time": {"from": f"now-{range_name}", "to": "now"}}, panel, end)


def run_dashboard(
    env: Env, dashboard: Mapping[str, Any], range_name: str, end: datetime, sql_only: bool = False
) -> DashboardRun:
    """Every panel of `dashboard` over the `range_name` ending at `end`, one query after the other
    (`sql_only`: its PostgreSQL targets only)."""
    uid = str(dashboard.get("uid", ""))
    run = DashboardRun(uid=uid, range=range_name)
    variables = variable_values(dashboard)
    for panel in iter_panels(dashboard):
        targets = visible_targets(panel)
        if not targets:
            continue
        figures = PanelFigures(title=str(panel.get("title", "")), type=str(panel.get("type", "")))
        for target in targets:
            try:
                ds = resolve_datasource(target, panel, env.datasources, variables)
            except DatasourceError as exc:
                figures.targets.append(TargetFigures(str(target.get("refId")), "?", "", 0.0, error=str(exc)))
                continue
            if sql_only and ds.kind == "prometheus":
                continue
            ctx = _context(panel, dashboard, ds, panel_window(panel, range_name, end))
            try:
                if ds.kind == "prometheus":
                    found = _prometheus_target(env, target, ctx, variables, uid, figures.title)
                else:
                    found = _sql_target(env, target, ctx, variables)
                    run.sql_ms += found.sql_execution_ms or 0.0
            except Exception as exc:  # one broken target must not lose the whole run's figures
                found = TargetFigures(str(target.get("refId")), ds.kind, "", 0.0, error=f"{type(exc).__name__}: {exc}")
            figures.targets.append(found)
        if not figures.targets:
            continue
        figures.seconds = sum(t.seconds for t in figures.targets)
        figures.samples = sum(t.samples or 0 for t in figures.targets)
        run.panels.append(figures)
    run.seconds = sum(p.seconds for p in run.panels)
    run.samples = sum(p.samples for p in run.panels)
    return run
