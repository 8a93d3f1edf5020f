"""Judge query results as a person looking at the panel would.

- time series / bar chart / state timeline: at least one series with at least two points (a bars-style
  time series needs one bar: a single bar is a visible answer);
- stat / gauge / bar gauge: the panel's reduceOptions.calcs (default lastNotNull) give a finite number;
- table: at least one row;
- pie chart: at least one slice, i.e. a reduced value > 0 (a zero slice is not drawn);
- heatmap: at least two buckets and a count > 0 in one of them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bo1dash.grafana.frames import QueryResult, Series
from bo1dash.grafana.reducers import reduce_options, reduce_values

TIME_SERIES_TYPES = frozenset(
    {"timeseries", "graph", "barchart", "state-timeline", "status-history", "trend", "xychart"}
)
STAT_TYPES = frozenset({"stat", "gauge", "bargauge", "singlestat"})


@dataclass(frozen=True)
class Verdict:
    ok: bool
    shown: str  # what the person sees, in words: "12.5", "3 series, 240 points", "7 rows"
    reason: str = ""
    number: float | None = None  # the single number a stat/gauge shows (first field), for truth checks
    numbers: tuple[float, ...] = ()  # every reduced number (one per field/series)


def _fields(results: Sequence[QueryResult]) -> list[Series]:
    """Every numeric field the panel reduces: series (Prometheus) or numeric columns (SQL tables)."""
    fields: list[Series] = []
    for result in results:
        if result.table is not None:
            table = result.table
            time_cols = {i for i, c in enumerate(table.columns) if c.lower() == "time"}
            fields.extend(table.column_series(i) for i in table.numeric_columns() if i not in time_cols)
        else:
            fields.extend(result.series)
    return fields


def _fmt(value: float | None) -> str:
    if value is None:
        return "no data"
    if math.isnan(value):
        return "NaN"
    return f"{value:.6g}"


def _judge_stat(panel: Mapping[str, Any], results: Sequence[QueryResult]) -> Verdict:
    calc, all_values = reduce_options(panel)
    fields = _fields(results)
    if not fields:
        return Verdict(False, "No data", "no data: the query returned no series/rows")
    if all_values:
        numbers = [v for f in fields for v in f.values() if v is not None]
    else:
        numbers = [n for n in (reduce_values(f.values(), calc) for f in fields) if n is not None]
    finite = [n for n in numbers if math.isfinite(n)]
    shown = ", ".join(_fmt(n) for n in numbers[:4]) or "No data"
    if not numbers:
        return Verdict(False, "No data", f"no data: every field reduces ({calc}) to nothing")
    if not finite:
        return Verdict(False, shown, f"not a finite number: {calc} gives {shown} (e.g. 0/0 or an empty division)")
    return Verdict(True, shown, number=finite[0], numbers=tuple(finite))


def _draw_style(panel: Mapping[str, Any]) -> str:
    custom = ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("custom") or {}
    return str(custom.get("drawStyle") or "line")


def _time_fields(results: Sequence[QueryResult], fill_points: int | None) -> list[Series]:
    fields = _fields(results)
    if fill_points is not None:
        # Grafana's SQL fill mode inserts a point per interval of the range into every series with data.
        fields = [
            Series(
                name=f.name,
                labels=f.labels,
                points=tuple((float(i), 0.0) for i in range(max(fill_points, len(f.points)))),
            )
            if f.finite()
            else f
            for f in fields
        ]
    return fields


def _judge_timeseries(panel: Mapping[str, Any], results: Sequence[QueryResult], fill_points: int | None) -> Verdict:
    fields = _time_fields(results, fill_points)
    needed = 1 if _draw_style(panel) in ("bars", "points") or panel.get("type") == "barchart" else 2
    best = max((len(f.finite()) for f in fields), default=0)
    total = sum(len(f.finite()) for f in fields)
    shown = f"{len(fields)} series, {total} points"
    if not fields or total == 0:
        return Verdict(False, "No data", "no data: the query returned no series")
    if best < needed:
        return Verdict(False, shown, f"no series has {needed} points to draw (at most {best})")
    last = next((f.finite()[-1] for f in fields if f.finite()), None)
    return Verdict(True, shown, number=last)


def _judge_table(results: Sequence[QueryResult]) -> Verdict:
    rows = 0
    for result in results:
        rows += len(result.table.rows) if result.table is not None else sum(1 for s in result.series if s.points)
    if rows == 0:
        return Verdict(False, "0 rows", "no data: the table has no rows")
    first = _fields(results)
    number = next((f.finite()[-1] for f in first if f.finite()), None)
    return Verdict(True, f"{rows} rows", number=number)


def _judge_piechart(panel: Mapping[str, Any], results: Sequence[QueryResult]) -> Verdict:
    calc, all_values = reduce_options(panel)
    fields = _fields(results)
    if all_values:
        slices = [v for f in fields for v in f.finite()]
    else:
        slices = [n for n in (reduce_values(f.values(), calc) for f in fields) if n is not None and math.isfinite(n)]
    drawn = [s for s in slices if s > 0]
    if not fields:
        return Verdict(False, "No data", "no data: the query returned no series/rows")
    if not drawn:
        return Verdict(False, f"{len(slices)} slices, all 0", "no slice to draw: every value is 0 or missing")
    return Verdict(True, f"{len(drawn)} slices", number=sum(drawn), numbers=tuple(drawn))


def _judge_heatmap(results: Sequence[QueryResult]) -> Verdict:
    fields = _fields(results)
    buckets = [f for f in fields if f.points]
    counted = sum(v for f in buckets for v in f.finite() if v > 0)
    if not buckets:
        return Verdict(False, "No data", "no data: no buckets")
    if len(buckets) < 2:
        return Verdict(False, f"{len(buckets)} bucket", "a heatmap needs at least two buckets (le values)")
    if counted <= 0:
        return Verdict(False, f"{len(buckets)} buckets, all empty", "every bucket count is 0")
    return Verdict(True, f"{len(buckets)} buckets, {counted:.6g} counts", number=counted)


def judge_panel(panel: Mapping[str, Any], results: Sequence[QueryResult], *, fill_points: int | None = None) -> Verdict:
    """The verdict on a panel from the results of its visible targets."""
    kind = str(panel.get("type", ""))
    if kind in STAT_TYPES:
        return _judge_stat(panel, results)
    if kind == "table":
        return _judge_table(results)
    if kind == "piechart":
        return _judge_piechart(panel, results)
    if kind == "heatmap":
        return _judge_heatmap(results)
    if kind in TIME_SERIES_TYPES:
        return _judge_timeseries(panel, results, fill_points)
    # anything else: data must be there
    empty = all(r.is_empty() for r in results)
    return Verdict(not empty, "No data" if empty else "data", "no data" if empty else "")
