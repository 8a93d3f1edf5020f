"""One drawer per panel type; `draw_panel` picks it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bo1dash.grafana.frames import QueryResult
from bo1dash.preview.canvas import Canvas, TimeWindow, message
from bo1dash.preview.layout import Rect
from bo1dash.preview.panels import heatmap, pie, stat, table, timeseries

TIME_SERIES = frozenset({"timeseries", "graph", "trend"})


def draw_panel(
    canvas: Canvas, rect: Rect, panel: Mapping[str, Any], results: Sequence[QueryResult], window: TimeWindow
) -> None:
    """Draw a panel's content (everything below its title) into `rect`."""
    kind = str(panel.get("type", ""))
    if kind in TIME_SERIES:
        timeseries.draw(canvas, rect, panel, results, window)
    elif kind == "stat":
        stat.draw_stat(canvas, rect, panel, results)
    elif kind == "gauge":
        stat.draw_gauge(canvas, rect, panel, results)
    elif kind == "table":
        table.draw(canvas, rect, panel, results)
    elif kind == "piechart":
        pie.draw(canvas, rect, panel, results)
    elif kind == "heatmap":
        heatmap.draw(canvas, rect, panel, results, window)
    elif kind == "text":
        options = panel.get("options") or {}
        message(canvas, rect, str(options.get("content") or ""), size_px=12)
    else:
        message(canvas, rect, f"panel type {kind!r}: not previewed")
