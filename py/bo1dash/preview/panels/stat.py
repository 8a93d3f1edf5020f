"""Stat and gauge: the reduced value(s), formatted by unit and value mappings, coloured by thresholds."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib.patches import Rectangle, Wedge

from bo1dash.grafana.frames import QueryResult
from bo1dash.preview import colors
from bo1dash.preview.canvas import (
    Canvas,
    decimals_of,
    defaults,
    message,
    no_value_text,
    unit_of,
)
from bo1dash.preview.fields import reduced
from bo1dash.preview.layout import Rect
from bo1dash.preview.units import format_value

GAUGE_SWEEP = 240.0  # degrees of Grafana's gauge arc
GAUGE_START = 90 + GAUGE_SWEEP / 2  # the arc's left end, counter-clockwise from 3 o'clock


@dataclass(frozen=True)
class Display:
    """One value as the panel shows it."""

    name: str
    value: float | None
    text: str
    color: str


def _range(panel: Mapping[str, Any], values: Sequence[float]) -> tuple[float, float]:
    """min..max of the field config, else Grafana's automatic range (0 or the data's min .. the data's max)."""
    config = defaults(panel)
    lo = float(config["min"]) if config.get("min") is not None else min([0.0, *values])
    hi = float(config["max"]) if config.get("max") is not None else max([lo + 1e-9, *values])
    return lo, hi if hi > lo else lo + 1.0


def displays(panel: Mapping[str, Any], results: Sequence[QueryResult]) -> list[Display]:
    """The reduced values with their text (unit, decimals, mappings) and colour (mapping, else thresholds)."""
    config = defaults(panel)
    steps = colors.threshold_steps(config)
    percentage = colors.threshold_mode(config) == "percentage"
    values = reduced(panel, results)
    lo, hi = _range(panel, [v.value for v in values if v.value is not None and math.isfinite(v.value)])
    out = []
    for item in values:
        mapped = colors.apply_mappings(item.value, config.get("mappings") or [])
        text = (
            mapped.text
            if mapped and mapped.text
            else (
                no_value_text(panel)
                if item.value is None
                else format_value(item.value, unit_of(panel), decimals_of(panel))
            )
        )
        color = (
            mapped.color
            if mapped and mapped.color
            else colors.threshold_color(item.value, steps, lo=lo, hi=hi, percentage=percentage)
        )
        out.append(Display(item.name, item.value, text, color))
    return out


def _fit_px(text: str, width: float, height: float, *, cap: float) -> float:
    """A font height (px) at which `text` fits the box: glyphs are about 0.6 of the height wide."""
    return max(8.0, min(cap, height * 0.6, width / max(1, len(text)) / 0.62))


def _cells(rect: Rect, count: int) -> list[Rect]:
    horizontal = rect.width >= rect.height
    cells = []
    for i in range(count):
        if horizontal:
            w = rect.width // count
            cells.append(Rect(rect.left + i * w, rect.top, w, rect.height))
        else:
            h = rect.height // count
            cells.append(Rect(rect.left, rect.top + i * h, rect.width, h))
    return cells


def draw_stat(canvas: Canvas, rect: Rect, panel: Mapping[str, Any], results: Sequence[QueryResult]) -> None:
    shown = displays(panel, results)
    options = panel.get("options") or {}
    color_mode = str(options.get("colorMode") or "value")
    if not shown:
        mapped = colors.apply_mappings(None, defaults(panel).get("mappings") or [])
        text = mapped.text if mapped and mapped.text else no_value_text(panel)
        if color_mode == "background" and mapped and mapped.color:
            canvas.axes(rect, facecolor=mapped.color)
        message(
            canvas,
            rect,
            text,
            color=colors.TEXT if mapped else colors.TEXT_DIM,
            size_px=_fit_px(text, rect.width, rect.height, cap=28),
        )
        return
    text_mode = str(options.get("textMode") or "auto")
    for display, cell in zip(shown, _cells(rect, len(shown))):
        ax = canvas.axes(cell)
        if color_mode == "background":
            ax.add_patch(Rectangle((0, 0), 1, 1, transform=ax.transAxes, facecolor=display.color, linewidth=0))
        text_color = (
            colors.TEXT if color_mode == "none" else ("#ffffff" if color_mode == "background" else display.color)
        )
        with_name = text_mode in ("value_and_name", "name") or (text_mode == "auto" and len(shown) > 1)
        size = _fit_px(display.text, cell.width * 0.9, cell.height * (0.7 if with_name else 1.0), cap=64)
        ax.text(
            0.5,
            0.45 if with_name else 0.5,
            display.text,
            ha="center",
            va="center",
            color=text_color,
            fontsize=canvas.points(size),
            fontweight="bold",
            transform=ax.transAxes,
        )
        if with_name:
            ax.text(
                0.5,
                0.82,
                display.name,
                ha="center",
                va="center",
                color=text_color,
                fontsize=canvas.points(max(9.0, size * 0.35)),
                transform=ax.transAxes,
            )


def draw_gauge(canvas: Canvas, rect: Rect, panel: Mapping[str, Any], results: Sequence[QueryResult]) -> None:
    shown = displays(panel, results)
    if not shown:
        message(canvas, rect, no_value_text(panel))
        return
    config = defaults(panel)
    steps = colors.threshold_steps(config)
    percentage = colors.threshold_mode(config) == "percentage"
    lo, hi = _range(panel, [d.value for d in shown if d.value is not None and math.isfinite(d.value)])
    markers = (panel.get("options") or {}).get("showThresholdMarkers", True) is not False
    for display, cell in zip(shown, _cells(rect, len(shown))):
        side = min(cell.width, cell.height * 1.15)
        box = Rect(
            int(cell.left + (cell.width - side) / 2),
            int(cell.top + (cell.height - side) / 2 + side * 0.08),
            int(side),
            int(side),
        )
        ax = canvas.axes(box)
        ax.set_xlim(-1, 1)
        ax.set_ylim(-1, 1)
        ax.set_aspect("equal")

        def angle(v: float) -> float:
            share = 0.0 if hi == lo else min(1.0, max(0.0, (v - lo) / (hi - lo)))
            return GAUGE_START - share * GAUGE_SWEEP

        ax.add_patch(Wedge((0, 0), 0.82, GAUGE_START - GAUGE_SWEEP, GAUGE_START, width=0.2, facecolor=colors.BORDER))
        if display.value is not None and math.isfinite(display.value):
            ax.add_patch(Wedge((0, 0), 0.82, angle(display.value), GAUGE_START, width=0.2, facecolor=display.color))
        if markers:
            bounds = [
                lo,
                *[
                    (lo + s.value / 100 * (hi - lo)) if percentage else s.value
                    for s in steps[1:]
                    if s.value is not None
                ],
                hi,
            ]
            for step, start, end in zip(steps, bounds, bounds[1:]):
                if end > start:
                    ax.add_patch(Wedge((0, 0), 0.92, angle(end), angle(start), width=0.06, facecolor=step.color))
        size = _fit_px(display.text, box.width * 0.55, box.height * 0.3, cap=40)
        ax.text(
            0,
            -0.02,
            display.text,
            ha="center",
            va="center",
            color=display.color,
            fontsize=canvas.points(size),
            fontweight="bold",
        )
