"""Run every panel of the dashboards as Grafana would, judge what a person would see, compare with truth."""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bo1dash.grafana.datasources import Datasource, DatasourceError, load_datasources, resolve_datasource
from bo1dash.grafana.durations import InterpolationError, parse_interval_ms
from bo1dash.grafana.frames import QueryResult
from bo1dash.grafana.interpolate import interpolate_promql, interpolate_sql
from bo1dash.grafana.intervals import (
    QueryContext,
    frontend_interval_ms,
    panel_query_context,
    prometheus_query_window,
)
from bo1dash.grafana.panels import NO_QUERY_TYPES, iter_panels, visible_targets
from bo1dash.grafana.prometheus import PrometheusClient, PrometheusError, variable_query_runner
from bo1dash.grafana.sql import SqlError, SqlRunner
from bo1dash.grafana.time_range import TimeRange, time_range_for
from bo1dash.grafana.variables import VariableValue, variable_values
from bo1dash.promql_tree import selectors, unmasked_parts
from bo1dash.verify import truth, truth_range
from bo1dash.verify.diagnose import diagnose_empty
from bo1dash.verify.judge import judge_panel
from bo1dash.verify.model import Endpoints, PanelResult, Status, TargetFinding, VerifyReport
from bo1dash.verify.stack_facts import increments_probe, unseen_probe


@dataclass
class _Env:
    datasources: Mapping[str, Datasource]
    prometheus: PrometheusClient | None
    sql: SqlRunner | None
    now: datetime
    known_jobs: set[str] | None = None
    expectations: Mapping[str, Any] | None = None
    facts: truth.StackFacts | None = None
    config: Mapping[str, Any] | None = None
    history: truth_range.HistoryTruth | None = None

    def jobs(self) -> set[str]:
        if self.known_jobs is None:
            self.known_jobs = self.prometheus.jobs() if self.prometheus else set()
        return self.known_jobs


def _fill_points(raw_sql: str, ctx: QueryContext) -> int | None:
    match = re.search(r"\$__(?:timeGroup|timeGroupAlias|unixEpochGroup|unixEpochGroupAlias)\(([^)]*)\)", raw_sql)
    if not match:
        return None
    args = [a.strip() for a in match.group(1).split(",")]
    if len(args) < 3:
        return None
    interval_text = args[1].strip("'")
    if "$__interval" in interval_text:
        interval = frontend_interval_ms(ctx)
    else:
        interval = parse_interval_ms(interval_text)
    return max(1, math.ceil(ctx.time_range.range_ms / interval))


def _unprovable_job(env: _Env, expr: str) -> str | None:
    """The job the query asks for when this Prometheus has no such scrape job at all (e.g. no cAdvisor)."""
    if env.prometheus is None:
        return None
    known = env.jobs()
    try:
        parsed = selectors(expr)
    except ValueError:
        return None
    for sel in parsed:
        for label, op, value in sel.matchers:
            if label != "job" or op not in ("=", "=~"):
                continue
            if op == "=" and value not in known or op == "=~" and not any(re.fullmatch(value, j) for j in known):
                # configured nowhere; make sure no series of that job exists in the retention either
                end = env.now.timestamp()
                if not env.prometheus.series(f'up{{job{op}"{value}"}}', end - env.prometheus.retention_seconds(), end):
                    return value
    return None


def _run_prometheus(env: _Env, target: Mapping[str, Any], expr: str, ctx: QueryContext) -> QueryResult:
    assert env.prometheus is not None
    if _instant(target):
        return env.prometheus.query(expr, ctx.time_range.to_ms / 1000)
    start, end, step = prometheus_query_window(ctx)
    return env.prometheus.query_range(expr, start, end, step)


def _check_prometheus(
    env: _Env,
    target: Mapping[str, Any],
    ds: Datasource,
    panel: Mapping[str, Any],
    ctx: QueryContext,
    variables: Mapping[str, VariableValue],
) -> tuple[TargetFinding, QueryResult | None]:
    ref = str(target.get("refId", "?"))
    raw = str(target.get("expr") or "")
    if env.prometheus is None:
        return TargetFinding(ref, ds.uid, raw, False, "no Prometheus URL given for datasource " + ds.uid), None
    ctx = replace(
        ctx,
        target_interval=str(target.get("interval") or "") or None,
        interval_factor=int(target.get("intervalFactor") or 1),
    )
    expr = interpolate_promql(raw, variables, ctx)
    window = ctx.time_range.from_ms / 1000, ctx.time_range.to_ms / 1000
    try:
        result = _run_prometheus(env, target, expr, ctx)
        for part in unmasked_parts(expr):
            if _run_prometheus(env, target, part, ctx).is_empty():
                diagnosis = diagnose_empty(env.prometheus, part, *window)
                job = _unprovable_job(env, part)
                return TargetFinding(
                    ref,
                    ds.uid,
                    expr,
                    False,
                    f"masked fallback: `{part}` returns nothing, the panel would only show the `or` constant; "
                    + diagnosis.reason,
                    unprovable_job=job,
                ), result
    except PrometheusError as exc:
        return TargetFinding(ref, ds.uid, expr, False, f"Prometheus rejected the query: {exc}"), None
    if result.is_empty():
        diagnosis = diagnose_empty(env.prometheus, expr, *window)
        return TargetFinding(
            ref, ds.uid, expr, False, diagnosis.reason, unprovable_job=_unprovable_job(env, expr)
        ), result
    return TargetFinding(ref, ds.uid, expr, True), result


def _check_sql(
    env: _Env, target: Mapping[str, Any], ds: Datasource, ctx: QueryContext, variables: Mapping[str, VariableValue]
) -> tuple[TargetFinding, QueryResult | None]:
    ref = str(target.get("refId", "?"))
    raw = str(target.get("rawSql") or "")
    if env.sql is None:
        return TargetFinding(ref, ds.uid, raw, False, "no PostgreSQL DSN given for datasource " + ds.uid), None
    try:
        sql = interpolate_sql(raw, variables, ctx)
    except InterpolationError as exc:
        return TargetFinding(ref, ds.uid, raw, False, f"Grafana would reject the SQL: {exc}"), None
    try:
        result = env.sql.run(sql)
    except SqlError as exc:
        return TargetFinding(ref, ds.uid, sql, False, str(exc)), None
    if result.is_empty():
        return TargetFinding(ref, ds.uid, sql, False, "no data: the SQL returned no rows"), result
    return TargetFinding(ref, ds.uid, sql, True), result


def _instant(target: Mapping[str, Any]) -> bool:
    return bool(target.get("instant")) and not bool(target.get("range"))


def _nothing_shown(finding: TargetFinding, ds: Datasource | None, target: Mapping[str, Any]) -> QueryResult:
    """What a target that returned no frames (rejected, unreachable, no datasource) adds to its panel: nothing."""
    kind = "sql" if ds is not None and ds.kind == "postgres" else "instant" if _instant(target) else "range"
    return QueryResult(finding.query, kind=kind)


def _query_target(
    env: _Env,
    dashboard: Mapping[str, Any],
    panel: Mapping[str, Any],
    target: Mapping[str, Any],
    time_range: TimeRange,
    variables: Mapping[str, VariableValue],
) -> tuple[TargetFinding, QueryResult, int | None]:
    """One visible target run as Grafana runs it: its finding, the result the panel shows, SQL fill points."""
    try:
        ds = resolve_datasource(target, panel, env.datasources, variables)
    except DatasourceError as exc:
        kind = _foreign_type(target, panel)
        finding = TargetFinding(
            str(target.get("refId", "?")),
            "",
            "",
            False,
            f"datasource missing: {exc}" + (f" (a {kind} datasource: this stack runs none)" if kind else ""),
            unprovable_job=kind,
        )
        return finding, _nothing_shown(finding, None, target), None
    ctx = panel_query_context(dashboard, panel, ds.type, ds.time_interval, time_range)
    fill: int | None = None
    if ds.kind == "prometheus":
        finding, result = _check_prometheus(env, target, ds, panel, ctx, variables)
    elif ds.kind == "postgres":
        finding, result = _check_sql(env, target, ds, ctx, variables)
        fill = _fill_points(str(target.get("rawSql") or ""), ctx)
    else:
        finding, result = (
            TargetFinding(
                str(target.get("refId", "?")),
                ds.uid,
                "",
                False,
                f"datasource type {ds.type!r} cannot be verified here (this stack runs Prometheus and PostgreSQL only)",
                unprovable_job=ds.type,
            ),
            None,
        )
    return finding, result if result is not None else _nothing_shown(finding, ds, target), fill


def _foreign_type(target: Mapping[str, Any], panel: Mapping[str, Any]) -> str | None:
    """The datasource type a reference names when it is neither Prometheus nor SQL (e.g. loki), else None."""
    for ref in (target.get("datasource"), panel.get("datasource")):
        kind = str(ref.get("type") or "") if isinstance(ref, Mapping) else ""
        if kind and kind not in ("prometheus", "datasource") and "postgres" not in kind and "sql" not in kind:
            return kind
    return None


def _fail_targets(out: PanelResult, failed: list[TargetFinding]) -> PanelResult:
    """A panel with a failed target fails, or is unprovable when every failure is the same missing scrape job or
    datasource type this stack does not run (e.g. Loki)."""
    jobs = {t.unprovable_job for t in failed}
    out.reason = "; ".join(f"{t.ref_id}: {t.reason}" for t in failed)
    if None not in jobs and len(jobs) == 1:
        out.unprovable_job = jobs.pop()
        out.status = Status.UNPROVABLE
        what = "datasource" if all(t.reason.startswith("datasource") for t in failed) else "scrape job"
        out.reason = f"unprovable here: no `{out.unprovable_job}` {what} in this stack ({out.reason})"
    return out


def _verify_panel(
    env: _Env, dashboard: Mapping[str, Any], panel: Mapping[str, Any], variables: Mapping[str, VariableValue]
) -> PanelResult:
    started = time.monotonic()
    uid = str(dashboard.get("uid", ""))
    title = str(panel.get("title", ""))
    pid = panel.get("id")
    out = PanelResult(
        dashboard_uid=uid,
        panel_title=title,
        panel_type=str(panel.get("type", "")),
        status=Status.FAILED,
        panel_id=pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
    )
    targets = visible_targets(panel)
    if not targets:
        out.status, out.reason = Status.SKIPPED, "no query"
        return out
    time_range = time_range_for(dashboard, panel, env.now)
    results: list[QueryResult] = []
    fill: int | None = None
    for target in targets:
        finding, result, target_fill = _query_target(env, dashboard, panel, target, time_range, variables)
        out.targets.append(finding)
        results.append(result)
        fill = fill or target_fill
    out.results = tuple(results)
    failed = [t for t in out.targets if not t.ok]
    verdict = judge_panel(panel, out.results, fill_points=fill)
    out.shown = verdict.shown
    out.seconds = time.monotonic() - started
    if failed:
        return _fail_targets(out, failed)
    if not verdict.ok:
        out.reason = verdict.reason
        return out
    if env.history is not None and any(r.kind != "sql" for r in out.results):
        check, out.judged = _check_with_history(env, dashboard, panel, targets, variables, time_range, out.results)
    else:
        check = truth.check(uid, title, verdict, env.expectations, time_range, out.results, env.facts, env.config)
        out.judged = (time_range.start, time_range.end) if check.ok is not None else None
    out.expected, out.truth = check.expected, check.note
    if check.ok is False:
        out.reason = check.note
        return out
    out.status = Status.PASSED
    return out


def _uses_range(target: Mapping[str, Any]) -> bool:
    return "$__range" in str(target.get("expr") or "") or "${__range" in str(target.get("expr") or "")


def _live_part(
    env: _Env,
    dashboard: Mapping[str, Any],
    panel: Mapping[str, Any],
    targets: Sequence[Mapping[str, Any]],
    variables: Mapping[str, VariableValue],
    live: TimeRange,
    results: Sequence[QueryResult],
) -> tuple[QueryResult, ...]:
    """What the panel shows of the live part: range results cut at its start, range-wide instant queries
    ($__range) run again over it, other instant queries (the state at the end) as they are."""
    start = live.from_ms / 1000
    out = []
    for target, result in zip(targets, results):
        if result.kind == "range":
            series = tuple(replace(s, points=tuple(p for p in s.points if p[0] >= start)) for s in result.series)
            out.append(replace(result, series=tuple(s for s in series if s.points)))
        elif result.kind == "instant" and _uses_range(target):
            out.append(_query_target(env, dashboard, panel, target, live, variables)[1])
        else:
            out.append(result)
    return tuple(out)


def _check_with_history(
    env: _Env,
    dashboard: Mapping[str, Any],
    panel: Mapping[str, Any],
    targets: Sequence[Mapping[str, Any]],
    variables: Mapping[str, VariableValue],
    time_range: TimeRange,
    results: tuple[QueryResult, ...],
) -> tuple[truth.Check, tuple[datetime, datetime] | None]:
    """A Prometheus panel over a backfilled history: the live part against the scenario's truth (verify/truth.py),
    the history part point by point against the history's (verify/truth_range.py)."""
    assert env.history is not None
    uid, title = str(dashboard.get("uid", "")), str(panel.get("title", ""))
    live_start = datetime.fromtimestamp(max(time_range.from_ms / 1000, env.history.live_from), UTC)
    live = TimeRange(min(live_start, time_range.end), time_range.end)
    live_results = _live_part(env, dashboard, panel, targets, variables, live, results)
    live_check = truth.check(
        uid, title, judge_panel(panel, live_results), env.expectations, live, live_results, env.facts, env.config
    )
    # the history part: range results as they are (the rule judges points before the live part only),
    # range-wide instant queries ($__range) run again over the history part
    history = TimeRange(time_range.start, live.start)
    history_results = tuple(
        _query_target(env, dashboard, panel, t, history, variables)[1]
        if r.kind == "instant" and _uses_range(t) and live.start < time_range.end
        else r
        for t, r in zip(targets, results)
    )
    outcome = truth_range.check_range(uid, title, history_results, time_range, env.history)
    whole = truth.summarize(outcome)
    checks = [c for c in (live_check, whole) if c.ok is not None]
    wrong = [c for c in checks if c.ok is False]
    parts = [f"live part: {live_check.expected or live_check.note}", f"whole range: {whole.expected or whole.note}"]
    if wrong:
        note = "; ".join(c.note for c in wrong)
    elif checks:
        note = "checked"
    else:
        note = f"no truth: live part: {live_check.note}; whole range: {whole.note}"
    ok = False if wrong else (True if checks else None)
    check = truth.Check(ok, " | ".join(parts), note)
    instant_at_end = all(r.kind == "instant" for r in results) and not any(_uses_range(t) for t in targets)
    if whole.ok is not None or (instant_at_end and live_check.ok is not None):
        return check, (time_range.start, time_range.end)
    if live_check.ok is not None:
        return check, (live.start, live.end)
    return check, None


def verify_dashboards(
    paths: list[Path],
    *,
    endpoints: Endpoints,
    provisioning_dir: Path,
    expectations: Path | None,
    now: datetime | None = None,
    allow_unprovable: frozenset[str] = frozenset(),
    facts: truth.StackFacts | None = None,
    config: Mapping[str, Any] | None = None,
) -> VerifyReport:
    """Verify every panel of the dashboard JSON files against the endpoints; see the package docstring.

    `facts`: what only the caller knows about the stack (its jobs, maxmemory, ...) for the truth checks;
    `config`: the mixin's `_config`, whose selectors the truth checks read Prometheus with."""
    started = time.monotonic()
    prometheus = PrometheusClient(endpoints.prometheus_url) if endpoints.prometheus_url else None
    if prometheus is not None:
        facts = replace(
            facts or truth.StackFacts(), unseen=unseen_probe(prometheus), increments=increments_probe(prometheus)
        )
    env = _Env(
        datasources=load_datasources(provisioning_dir),
        prometheus=prometheus,
        sql=SqlRunner(endpoints.postgres_dsn) if endpoints.postgres_dsn else None,
        now=now or datetime.now(UTC),
        expectations=json.loads(expectations.read_text()) if expectations else None,
        facts=facts,
        config=config,
    )
    env.history = truth_range.history_of(env.expectations)
    report = VerifyReport(allowed_unprovable=frozenset(allow_unprovable), now=env.now)
    for path in paths:
        dashboard = json.loads(path.read_text())
        runner = variable_query_runner(env.prometheus, dashboard, env.now) if env.prometheus else None
        variables = variable_values(dashboard, query_runner=runner)
        for panel in iter_panels(dashboard):
            if panel.get("type") in NO_QUERY_TYPES and not panel.get("targets"):
                continue
            report.panels.append(_verify_panel(env, dashboard, panel, variables))
    report.seconds = time.monotonic() - started
    return report


__all__ = ["verify_dashboards"]
