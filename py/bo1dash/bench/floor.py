"""The floor of a dashboard run: the same number of trivial queries, of the same kinds, against the same
servers, timed right after the dashboard in the same run.

Each Prometheus target is replayed as `vector(1)`: an instant query at the panel's range end, or a range
query over the panel's window at the step the target used; each SQL target as `SELECT 1` through the
verifier's `SqlRunner` (a connection and a read-only transaction per query, as the panel's SQL ran). What a
dashboard costs above that floor is what its queries cost; the floor itself is the machine and the day
(HTTP, connection set-up, scheduling on a busy host), so `seconds / floor` compares from one run to the next
where absolute seconds do not.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from bo1dash.bench.panels import DashboardRun, Env, PanelFigures, TargetFigures, panel_window, run_dashboard
from bo1dash.bench.prom import measure
from bo1dash.grafana.panels import iter_panels, visible_targets
from bo1dash.grafana.sql import SqlError, SqlRunner

PROMETHEUS_FLOOR = "vector(1)"
SQL_FLOOR = "SELECT 1"

# A dashboard's seconds over its floor's, per range (issue 14); ranges not listed have no target.
FLOOR_RATIO_TARGET: dict[str, float] = {"7d": 1.5, "30d": 2.0}


@dataclass(frozen=True)
class FloorQuery:
    """One trivial query standing in for one target: its kind (`prometheus-instant`, `prometheus-range`,
    `postgres`), its wall time, and the error if the server refused it."""

    ref_id: str
    kind: str
    seconds: float
    error: str | None = None


@dataclass
class FloorPanel:
    title: str
    queries: list[FloorQuery] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(q.seconds for q in self.queries)


@dataclass
class FloorRun:
    uid: str
    range: str
    panels: list[FloorPanel] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(p.seconds for p in self.panels)

    @property
    def queries(self) -> int:
        return sum(len(p.queries) for p in self.panels)


def floor_ratio(seconds: float, floor: float) -> float | None:
    """`seconds / floor`; None when there is no floor to divide by."""
    return seconds / floor if floor > 0 else None


def _dashboard_panels(
    dashboard: Mapping[str, Any], run: DashboardRun
) -> Iterator[tuple[Mapping[str, Any], PanelFigures]]:
    """Each timed panel of `run` with the dashboard panel it was timed from (same title, same number of
    shown targets, in dashboard order)."""
    candidates = iter(iter_panels(dashboard))
    for figures in run.panels:
        for panel in candidates:
            shown = visible_targets(panel)
            if str(panel.get("title", "")) == figures.title and len(shown) == len(figures.targets):
                yield panel, figures
                break
        else:
            raise ValueError(f"{run.uid}: panel {figures.title!r} of the run is not in the dashboard")


def _prometheus_floor(
    env: Env, target: TargetFigures, panel: Mapping[str, Any], range_name: str, end: datetime
) -> FloorQuery:
    window = panel_window(panel, range_name, end)
    if target.instant or not target.step:
        got = measure(env.prometheus, PROMETHEUS_FLOOR, instant_at=window.to_ms / 1000)
        return FloorQuery(target.ref_id, "prometheus-instant", got.seconds, got.error)
    # Grafana's query_range window: start and end aligned down to the step (interpolate.prometheus_query_window).
    step_ms = target.step * 1000
    start = math.floor(window.from_ms / step_ms) * step_ms / 1000
    stop = math.floor(window.to_ms / step_ms) * step_ms / 1000
    got = measure(env.prometheus, PROMETHEUS_FLOOR, window=(start, stop, target.step))
    return FloorQuery(target.ref_id, "prometheus-range", got.seconds, got.error)


def _sql_floor(env: Env, target: TargetFigures) -> FloorQuery:
    started = time.perf_counter()
    try:
        SqlRunner(env.sql_dsn, statement_timeout_ms=60_000).run(SQL_FLOOR)
    except SqlError as exc:
        return FloorQuery(target.ref_id, "postgres", time.perf_counter() - started, str(exc))
    return FloorQuery(target.ref_id, "postgres", time.perf_counter() - started)


def measure_floor(env: Env, dashboard: Mapping[str, Any], run: DashboardRun, end: datetime) -> FloorRun:
    """One trivial query per target `run` timed, one after the other as `run_dashboard` ran them. A target
    whose datasource did not resolve (kind `?`) ran no query: its floor is 0 (kind `none`)."""
    floor = FloorRun(uid=run.uid, range=run.range)
    for panel, figures in _dashboard_panels(dashboard, run):
        out = FloorPanel(figures.title)
        for target in figures.targets:
            if target.kind == "prometheus":
                out.queries.append(_prometheus_floor(env, target, panel, run.range, end))
            elif target.kind == "postgres":
                out.queries.append(_sql_floor(env, target))
            else:
                out.queries.append(FloorQuery(target.ref_id, "none", 0.0))
        floor.panels.append(out)
    return floor


@dataclass
class Passes:
    """A dashboard at one range timed `len(runs)` times, each run followed by its floor. The first run is the
    bench's full one (raw and fix variants beside the targets); the others time the targets alone."""

    runs: list[DashboardRun]
    floors: list[FloorRun]

    @property
    def seconds(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def floor_seconds(self) -> float:
        return statistics.median(f.seconds for f in self.floors)

    def panel_seconds(self, index: int) -> float:
        return statistics.median(r.panels[index].seconds for r in self.runs)

    def panel_floor_seconds(self, index: int) -> float:
        return statistics.median(f.panels[index].seconds for f in self.floors)


def time_against_floor(
    env: Env, dashboard: Mapping[str, Any], first: DashboardRun, end: datetime, passes: int
) -> Passes:
    """`first` (the bench's run of `dashboard`) and its floor, then `passes - 1` more runs of the dashboard's
    targets alone (no raw or fix variants), each followed by its floor: run and floor alternate, so both see
    the machine as it is at that moment, and the medians leave out a pass a busy neighbour slowed down."""
    out = Passes([first], [measure_floor(env, dashboard, first, end)])
    targets_only = replace(env, rules=[], available_records=set())
    for _ in range(passes - 1):
        run = run_dashboard(targets_only, dashboard, first.range, end)
        out.runs.append(run)
        out.floors.append(measure_floor(env, dashboard, run, end))
    return out


def summary_with_floor(summary: dict[str, Any], passes: Passes) -> dict[str, Any]:
    """`report.dashboard_summary(run)` (the first pass) with the floor: `floor_ratio` = median seconds over the
    passes / median floor, the floor target and whether it is met."""
    target = FLOOR_RATIO_TARGET.get(passes.runs[0].range)
    ratio = floor_ratio(passes.seconds, passes.floor_seconds)
    return {
        **summary,
        "passes": len(passes.runs),
        "seconds_per_pass": [r.seconds for r in passes.runs],
        "median_seconds": passes.seconds,
        "floor_seconds": passes.floor_seconds,
        "floor_seconds_per_pass": [f.seconds for f in passes.floors],
        "floor_queries": passes.floors[0].queries,
        "floor_ratio": ratio,
        "floor_ratio_target": target,
        "meets_floor_target": None if target is None or ratio is None else ratio <= target,
    }


def rows_with_floor(rows: list[dict[str, Any]], passes: Passes) -> list[dict[str, Any]]:
    """`report.panel_rows(run)` of the first pass (one row per panel, in the run's order) with each panel's
    median seconds, median floor and their ratio, and each target's floor in the first pass."""
    first = passes.floors[0]
    if len(rows) != len(first.panels) or any(len(r.panels) != len(rows) for r in passes.runs):
        raise ValueError(f"{first.uid} {first.range}: {len(rows)} panel rows but {len(first.panels)} floor panels")
    out = []
    for index, (row, panel) in enumerate(zip(rows, first.panels, strict=True)):
        targets = [
            {**target, "floor_seconds": query.seconds, "floor_kind": query.kind, "floor_error": query.error}
            for target, query in zip(row.get("targets") or [], panel.queries, strict=True)
        ]
        seconds, floor = passes.panel_seconds(index), passes.panel_floor_seconds(index)
        out.append(
            {
                **row,
                "targets": targets,
                "median_seconds": seconds,
                "floor_seconds": floor,
                "floor_ratio": floor_ratio(seconds, floor),
            }
        )
    return out


def machine_floor(all_passes: list[Passes]) -> dict[str, Any]:
    """The machine's floor over the whole run: per query kind, how many trivial queries ran and their median
    and slowest wall time."""
    by_kind: dict[str, list[float]] = {}
    for passes in all_passes:
        for floor in passes.floors:
            for panel in floor.panels:
                for query in panel.queries:
                    if query.error is None and query.kind != "none":
                        by_kind.setdefault(query.kind, []).append(query.seconds)
    return {
        kind: {"queries": len(times), "median_seconds": statistics.median(times), "max_seconds": max(times)}
        for kind, times in sorted(by_kind.items())
    }


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def floor_table(report: dict[str, Any]) -> str:
    """Median seconds, floor and their ratio per dashboard and range, with the machine's per-query floor."""
    lines = [f"{'dashboard':<18} {'range':>5} {'median s':>8} {'floor s':>8} {'x floor':>8} {'target':>6}"]
    for d in report.get("dashboards") or []:
        if "floor_seconds" not in d:
            continue
        met = d.get("meets_floor_target")
        mark = "" if met is None else (" ok" if met else " MISS")
        lines.append(
            f"{d['uid']:<18} {d['range']:>5} {d['median_seconds']:>8.3f} {d['floor_seconds']:>8.3f}"
            f" {_fmt(d['floor_ratio'], '.2f'):>8} {_fmt(d['floor_ratio_target'], '.1f'):>6}{mark}"
        )
    for kind, figures in sorted((report.get("floor") or {}).items()):
        lines.append(
            f"floor per query, {kind}: median {figures['median_seconds'] * 1000:.1f} ms over {figures['queries']}"
            f" queries (max {figures['max_seconds'] * 1000:.1f} ms)"
        )
    load = report.get("load_average") or {}
    if load:
        before, after = load.get("before_timing") or [], load.get("after_timing") or []
        lines.append(
            "load average (1, 5, 15 min) before timing: "
            + ", ".join(f"{v:.2f}" for v in before)
            + "; after: "
            + ", ".join(f"{v:.2f}" for v in after)
        )
    return "\n".join(lines)
