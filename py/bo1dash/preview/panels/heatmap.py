"""Heatmap of Prometheus histogram buckets (format heatmap): one row of cells per `le` bucket over time.

Grafana's heatmap format turns cumulative `le` series into per-bucket counts (each bucket minus the one
below it); cells with a zero count are not drawn.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

import matplotlib.dates as mdates
import numpy as np
from matplotlib import colormaps
from matplotlib.ticker import FixedLocator, FuncFormatter

from bo1dash.grafana.frames import QueryResult
from bo1dash.preview import colors
from bo1dash.preview.canvas import (
    Canvas,
    TimeWindow,
    fit_y_labels,
    message,
    no_value_text,
    style_axes,
    unit_of,
)
from bo1dash.preview.fields import Field, panel_fields
from bo1dash.preview.layout import Rect
from bo1dash.preview.units import format_value

_SCHEMES = {"viridis", "magma", "inferno", "plasma", "cividis", "turbo"}
_DIVERGING = {"BrBG", "PRGn", "PiYG", "PuOr", "RdBu", "RdGy", "RdYlBu", "RdYlGn", "Spectral"}


def _bound(f: Field) -> float:
    text = f.labels.get("le", f.name)
    try:
        return float(text)
    except ValueError:
        return math.inf if text.strip() in ("+Inf", "Inf") else math.nan


def buckets(fields: Sequence[Field]) -> tuple[list[float], list[float], np.ndarray]:
    """(upper bounds, times, counts[bucket, time]) de-accumulated from cumulative `le` fields."""
    ordered = sorted((f for f in fields if not math.isnan(_bound(f))), key=_bound)
    times = sorted({t for f in ordered for t in f.times if t is not None})
    index = {t: i for i, t in enumerate(times)}
    cumulative = np.zeros((len(ordered), len(times)))
    for row, f in enumerate(ordered):
        for t, v in zip(f.times, f.values):
            if t is not None and v is not None and math.isfinite(v):
                cumulative[row, index[t]] = v
    counts = np.diff(cumulative, axis=0, prepend=0.0).clip(min=0.0)
    return [_bound(f) for f in ordered], times, counts


def _colormap(panel: Mapping[str, Any]) -> str:
    """The matplotlib colormap of options.color.scheme. On the dark theme Grafana reverses its single- and
    multi-hue sequential schemes (invert: 'dark'), so that low counts are dark; options.color.reverse flips it."""
    color = (panel.get("options") or {}).get("color") or {}
    scheme = str(color.get("scheme") or "Oranges")
    if scheme.lower() in _SCHEMES:
        name, invert = scheme.lower(), False
    else:
        name, invert = (scheme if scheme in colormaps else "Oranges"), scheme not in _DIVERGING
    if bool(color.get("reverse")):
        invert = not invert
    return f"{name}_r" if invert else name


def draw(
    canvas: Canvas, rect: Rect, panel: Mapping[str, Any], results: Sequence[QueryResult], window: TimeWindow
) -> None:
    bounds, times, counts = buckets(panel_fields(panel, results))
    if len(bounds) < 1 or not times or not (counts > 0).any():
        message(canvas, rect, no_value_text(panel))
        return
    y_unit = str(((panel.get("options") or {}).get("yAxis") or {}).get("unit") or unit_of(panel))
    plot = Rect(rect.left + 62, rect.top + 4, max(10, rect.width - 62 - 6), max(10, rect.height - 22))
    ax = canvas.axes(plot, frame=True)
    style_axes(ax, canvas)
    ax.grid(False)
    step = min((b - a for a, b in pairwise(times)), default=60.0)
    edges = [datetime.fromtimestamp(t - step, tz=UTC) for t in times]
    edges.append(datetime.fromtimestamp(times[-1], tz=UTC))
    x = mdates.date2num(edges)
    y = np.arange(len(bounds) + 1)
    cmap = colormaps[_colormap(panel)].copy()
    masked = np.ma.masked_less_equal(counts, 0.0)
    ax.pcolormesh(x, y, masked, cmap=cmap, shading="flat", vmin=0)
    labels = [("+Inf" if math.isinf(b) else format_value(b, y_unit)) for b in bounds]
    every = max(1, math.ceil(len(bounds) / max(2, plot.height // 16)))
    ticks = [i + 1 for i in range(len(bounds)) if i % every == 0 or i == len(bounds) - 1]
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: labels[int(v) - 1] if 1 <= int(v) <= len(labels) else ""))
    start = window.start if window.start is not None else times[0] - step
    end = window.end if window.end is not None else times[-1]
    ax.set_xlim(
        mdates.date2num(datetime.fromtimestamp(start, tz=UTC)), mdates.date2num(datetime.fromtimestamp(end, tz=UTC))
    )
    ax.set_ylim(0, len(bounds))
    fmt = "%H:%M" if end - start <= 86400 * 1.5 else "%m/%d"
    ax.xaxis.set_major_formatter(mdates.DateFormatter(fmt, tz=UTC))
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=7))
    ax.tick_params(axis="y", colors=colors.TEXT_DIM)
    fit_y_labels(canvas, ax, rect)
