"""Pie chart: one slice per reduced value above zero (donut when pieType says so), legend with values."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from bo1dash.grafana.frames import QueryResult
from bo1dash.preview import colors, legend
from bo1dash.preview.canvas import Canvas, decimals_of, message, no_value_text, unit_of
from bo1dash.preview.fields import reduced
from bo1dash.preview.layout import Rect
from bo1dash.preview.units import format_value


def _label(name: str, value: float, total: float, shows: Sequence[str], unit: str, decimals: int | None) -> str:
    parts = [name]
    if "value" in shows:
        parts.append(format_value(value, unit, decimals))
    if "percent" in shows:
        parts.append(f"{value / total * 100:.0f}%")
    return "  ".join(parts)


def draw(canvas: Canvas, rect: Rect, panel: Mapping[str, Any], results: Sequence[QueryResult]) -> None:
    slices = [r for r in reduced(panel, results) if r.value is not None and math.isfinite(r.value) and r.value > 0]
    if not slices:
        message(canvas, rect, no_value_text(panel))
        return
    total = sum(s.value or 0.0 for s in slices)
    shows = [str(v) for v in legend.options(panel).get("values") or []]
    unit, decimals = unit_of(panel), decimals_of(panel)
    entries = [
        legend.Entry(_label(s.name, s.value or 0.0, total, shows, unit, decimals), colors.series_color(i), patch=True)
        for i, s in enumerate(slices)
    ]
    placement = str(legend.options(panel).get("placement") or "right")
    room = legend.split(panel, rect, entries, default_placement="right")
    side = min(room.plot.width, room.plot.height)
    box = Rect(
        room.plot.left + (room.plot.width - side) // 2, room.plot.top + (room.plot.height - side) // 2, side, side
    )
    ax = canvas.axes(box)
    donut = str((panel.get("options") or {}).get("pieType") or "pie") == "donut"
    ax.pie(
        [s.value or 0.0 for s in slices],
        colors=[e.color for e in entries],
        startangle=90,
        counterclock=False,
        wedgeprops={"width": 0.45 if donut else 1.0, "edgecolor": colors.PANEL, "linewidth": 1},
        radius=0.95,
    )
    ax.set_aspect("equal")
    if room.legend is not None:
        legend.draw(canvas, room.legend, entries, placement=placement)
