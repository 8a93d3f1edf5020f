"""Time series: lines (filled by fillOpacity), stacked areas, bars; threshold lines; a legend."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, MaxNLocator

from bo1dash.grafana.frames import QueryResult
from bo1dash.preview import colors, legend
from bo1dash.preview.canvas import (
    Canvas,
    TimeWindow,
    custom,
    defaults,
    fit_y_labels,
    message,
    no_value_text,
    style_axes,
    unit_of,
)
from bo1dash.preview.fields import Field, panel_fields
from bo1dash.preview.layout import Rect
from bo1dash.preview.units import format_value

THRESHOLD_LINE_MODES = frozenset({"line", "dashed", "line+area", "dashed+area"})
THRESHOLD_AREA_MODES = frozenset({"area", "line+area", "dashed+area"})


def _dates(times: Sequence[float]) -> np.ndarray:
    """The times as an array of UTC datetimes (what matplotlib's date axis reads)."""
    return np.array([datetime.fromtimestamp(t, tz=UTC) for t in times], dtype=object)


def _gaps(times: Sequence[float]) -> list[float]:
    """A time inside every gap longer than the step: Grafana inserts a null there (the frame's interval is the
    query step), so a line breaks where no sample is, e.g. a scrape gap, instead of bridging it."""
    steps = [b - a for a, b in pairwise(times) if b > a]
    step = min(steps) if steps else 0.0
    return [(a + b) / 2 for a, b in pairwise(times) if step and b - a > 1.5 * step]


def _points(f: Field) -> tuple[list[float], list[float]]:
    """The field's timed points, null values and gaps as NaN (a gap in the line, as Grafana draws them)."""
    pairs = [(t, v) for t, v in zip(f.times, f.values) if t is not None]
    pairs += [(t, None) for t in _gaps([t for t, _ in pairs])]
    pairs.sort(key=lambda p: p[0])
    return [t for t, _ in pairs], [math.nan if v is None else v for _, v in pairs]


def _aligned(fields: Sequence[Field]) -> tuple[list[float], list[list[float]]]:
    """Every field on the union of timestamps, missing points as 0 (for stacking), NaN where no field has one."""
    present = sorted({t for f in fields for t in f.times if t is not None})
    holes = set(_gaps(present))
    times = sorted([*present, *holes])
    rows = []
    for f in fields:
        by_time = {t: v for t, v in zip(f.times, f.values) if t is not None}
        rows.append(
            [math.nan if t in holes else (by_time.get(t) or 0.0) if not _nan(by_time.get(t)) else 0.0 for t in times]
        )
    return times, rows


def _nan(value: float | None) -> bool:
    return value is not None and not math.isfinite(value)


def _bar_width_days(times: Sequence[float], count: int) -> float:
    steps = [b - a for a, b in pairwise(times) if b > a]
    step = min(steps) if steps else 3600.0
    return step / 86400 * 0.8 / max(1, count)


def _draw_series(ax: Axes, panel: Mapping[str, Any], fields: Sequence[Field]) -> None:
    style = custom(panel)
    draw_style = str(style.get("drawStyle") or "line")
    stacked = str((style.get("stacking") or {}).get("mode") or "none") in ("normal", "percent")
    alpha = float(style.get("fillOpacity") or 0) / 100
    width = float(style.get("lineWidth") or 1) * 1.2
    if draw_style == "bars":
        times, rows = _aligned(fields)
        bottoms = [0.0] * len(times)
        width_days = _bar_width_days(times, 1 if stacked else len(fields))
        for index, row in enumerate(rows):
            shift = 0.0 if stacked else (index - (len(fields) - 1) / 2) * width_days
            xs = [mdates.date2num(d) + shift for d in _dates(times)]
            color = colors.series_color(index)
            ax.bar(
                xs,
                row,
                width=width_days,
                bottom=bottoms if stacked else None,
                color=color,
                alpha=max(alpha, 0.35),
                edgecolor=color,
                linewidth=0.8,
            )
            if stacked:
                bottoms = [b + v for b, v in zip(bottoms, row)]
        return
    if stacked:
        times, rows = _aligned(fields)
        dates = _dates(times)
        base = [0.0] * len(times)
        for index, row in enumerate(rows):
            top = [b + v for b, v in zip(base, row)]
            color = colors.series_color(index)
            ax.fill_between(dates, base, top, color=color, alpha=max(alpha, 0.1), linewidth=0)
            ax.plot(dates, top, color=color, linewidth=width)
            base = top
        return
    for index, f in enumerate(fields):
        times, values = _points(f)
        dates = _dates(times)
        color = colors.series_color(index)
        marker = "o" if draw_style == "points" or len(times) == 1 else None
        ax.plot(
            dates, values, color=color, linewidth=0 if draw_style == "points" else width, marker=marker, markersize=3
        )
        if alpha > 0:
            ax.fill_between(dates, values, 0, color=color, alpha=alpha * 0.5, linewidth=0)


def _draw_thresholds(ax: Axes, panel: Mapping[str, Any]) -> None:
    mode = str((custom(panel).get("thresholdsStyle") or {}).get("mode") or "off")
    if mode == "off":
        return
    steps = colors.threshold_steps(defaults(panel))
    if mode in THRESHOLD_AREA_MODES:
        bounds = [s.value for s in steps[1:] if s.value is not None]
        lows = [-math.inf, *bounds]
        highs = [*bounds, math.inf]
        bottom, top = ax.get_ylim()
        for step, lo, hi in zip(steps, lows, highs):
            ax.axhspan(max(lo, bottom), min(hi, top), color=step.color, alpha=0.12, linewidth=0)
    if mode in THRESHOLD_LINE_MODES:
        for step in steps:
            if step.value is not None:
                ax.axhline(
                    step.value, color=step.color, linewidth=1.2, linestyle="--" if mode.startswith("dashed") else "-"
                )


def _set_limits(ax: Axes, panel: Mapping[str, Any], fields: Sequence[Field], window: TimeWindow) -> None:
    config = defaults(panel)
    times = [t for f in fields for t in f.times if t is not None]
    start = window.start if window.start is not None else min(times, default=0.0)
    end = window.end if window.end is not None else max(times, default=1.0)
    if end > start:
        ax.set_xlim(mdates.date2num(_dates([start])[0]), mdates.date2num(_dates([end])[0]))
    low = config.get("min", config.get("custom", {}).get("axisSoftMin"))
    high = config.get("max", config.get("custom", {}).get("axisSoftMax"))
    bottom, top = ax.get_ylim()  # the data's range: like Grafana, threshold lines do not widen the axis
    ax.set_ylim(float(low) if low is not None else bottom, float(high) if high is not None else top)
    span = end - start
    fmt = "%H:%M" if span <= 86400 * 1.5 else "%m/%d"
    ax.xaxis.set_major_formatter(mdates.DateFormatter(fmt, tz=UTC))
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=7))


def draw(
    canvas: Canvas, rect: Rect, panel: Mapping[str, Any], results: Sequence[QueryResult], window: TimeWindow
) -> None:
    fields = [f for f in panel_fields(panel, results) if any(t is not None for t in f.times)]
    if not fields or not any(f.finite() for f in fields):
        message(canvas, rect, no_value_text(panel))
        return
    entries = [
        legend.Entry(f.name, colors.series_color(i), patch=custom(panel).get("drawStyle") == "bars")
        for i, f in enumerate(fields)
    ]
    room = legend.split(panel, rect, entries)
    ax = canvas.axes(room.plot, frame=True)
    style_axes(ax, canvas)
    _draw_series(ax, panel, fields)
    _set_limits(ax, panel, fields, window)
    _draw_thresholds(ax, panel)
    unit = unit_of(panel)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=max(2, (room.plot.height - 26) // 40)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_value(v, unit)))
    fit_y_labels(canvas, ax, room.plot)
    if room.legend is not None:
        legend.draw(canvas, room.legend, entries, placement=str(legend.options(panel).get("placement") or "bottom"))
