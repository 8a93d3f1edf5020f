"""`render_dashboard`: one PNG of a dashboard from its panels' query results (pure: no network)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from bo1dash.grafana.frames import QueryResult
from bo1dash.grafana.panels import visible_panels
from bo1dash.grafana.time_range import time_range_for
from bo1dash.preview import colors
from bo1dash.preview.canvas import Canvas, TimeWindow
from bo1dash.preview.layout import Grid, Rect, grid_rows
from bo1dash.preview.panels import draw_panel
from bo1dash.preview.verdicts import Badge, badge

TITLE_PX = 30
INNER_PAD_PX = 8
CHAR_PX = 7.4


def _window(dashboard: Mapping[str, Any], panel: Mapping[str, Any], now: datetime | None) -> TimeWindow:
    if now is None:
        return TimeWindow()
    span = time_range_for(dashboard, panel, now)
    return TimeWindow(span.start.timestamp(), span.end.timestamp())


def _clip(text: str, width_px: float) -> str:
    room = max(1, int(width_px / CHAR_PX))
    return text if len(text) <= room else text[: max(1, room - 1)] + "…"


def _draw_row(canvas: Canvas, rect: Rect, panel: Mapping[str, Any]) -> None:
    ax = canvas.axes(rect)
    title = str(panel.get("title") or "")
    hidden = len(panel.get("panels") or []) if panel.get("collapsed") else 0
    if hidden:
        title += f"  ({hidden} panels, collapsed)"
    ax.text(
        0,
        0.5,
        ("▸ " if hidden else "▾ ") + title,
        va="center",
        ha="left",
        color=colors.TEXT,
        fontsize=canvas.points(15),
        fontweight="bold",
        transform=ax.transAxes,
    )


def _draw_badge(canvas: Canvas, rect: Rect, mark: Badge) -> int:
    """A small status label at the top right of the panel; returns its width in pixels."""
    width = int(len(mark.symbol) * 7.5 + 14)
    box = Rect(rect.right - width - 6, rect.top + 6, width, TITLE_PX - 12)
    ax = canvas.axes(box)
    ax.add_patch(
        FancyBboxPatch(
            (0, 0),
            1,
            1,
            boxstyle="round,pad=0,rounding_size=0.2",
            transform=ax.transAxes,
            facecolor=mark.color,
            linewidth=0,
        )
    )
    ax.text(
        0.5,
        0.5,
        mark.symbol,
        ha="center",
        va="center",
        color=colors.PAGE,
        fontsize=canvas.points(10.5),
        fontweight="bold",
        transform=ax.transAxes,
    )
    return width + 6


def _draw_frame(canvas: Canvas, rect: Rect, panel: Mapping[str, Any], mark: Badge | None) -> Rect:
    """The panel's box, title and badge; returns the content rectangle below the title."""
    ax = canvas.axes(rect)
    ax.add_patch(
        FancyBboxPatch(
            (0, 0),
            1,
            1,
            boxstyle="round,pad=0,rounding_size=0.006",
            transform=ax.transAxes,
            facecolor=colors.PANEL,
            edgecolor=colors.BORDER,
            linewidth=1,
        )
    )
    badge_px = _draw_badge(canvas, rect, mark) if mark else 0
    title = _clip(str(panel.get("title") or ""), rect.width - 2 * INNER_PAD_PX - badge_px)
    ax.text(
        INNER_PAD_PX / rect.width,
        1 - (TITLE_PX / 2) / rect.height,
        title,
        va="center",
        ha="left",
        color=colors.TEXT,
        fontsize=canvas.points(13),
        fontweight="bold",
        transform=ax.transAxes,
    )
    return Rect(
        rect.left + INNER_PAD_PX,
        rect.top + TITLE_PX,
        rect.width - 2 * INNER_PAD_PX,
        max(8, rect.height - TITLE_PX - INNER_PAD_PX),
    )


def _draw_header(
    canvas: Canvas, grid: Grid, dashboard: Mapping[str, Any], now: datetime | None, marks: Sequence[Badge]
) -> None:
    ax = canvas.axes(Rect(grid.pad_px, 0, canvas.width - 2 * grid.pad_px, grid.header_px))
    ax.text(
        0,
        0.55,
        str(dashboard.get("title") or dashboard.get("uid") or ""),
        va="center",
        ha="left",
        color=colors.TEXT,
        fontsize=canvas.points(20),
        fontweight="bold",
        transform=ax.transAxes,
    )
    span = dashboard.get("time") or {}
    when = f"{span.get('from', 'now-6h')} to {span.get('to', 'now')}"
    if now is not None:
        when += f"  (now = {now.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC)"
    counts: dict[str, int] = {}
    for mark in marks:
        counts[mark.status] = counts.get(mark.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    ax.text(
        1,
        0.55,
        when + (f"   |   verify: {summary}" if summary else ""),
        va="center",
        ha="right",
        color=colors.TEXT_DIM,
        fontsize=canvas.points(12),
        transform=ax.transAxes,
    )


def render_dashboard(
    dashboard: Mapping[str, Any],
    results: Mapping[int, Sequence[QueryResult]],
    verdicts: Mapping[int, Any] | None,
    out: Path,
    *,
    now: datetime | None = None,
    grid: Grid | None = None,
) -> Path:
    """Draw every visible panel at its gridPos from `results[panel id]` (the results of its visible targets, in
    target order), with a verdict badge from `verdicts[panel id]` when given, and write the PNG to `out`.
    `now` fixes the time axis to the dashboard's range as the queries saw it; None: each panel's data extent."""
    grid = grid or Grid()
    panels = list(visible_panels(dashboard))
    width, height = grid.image_size(grid_rows(dashboard))
    figure = Figure(figsize=(width / grid.dpi, height / grid.dpi), dpi=grid.dpi, facecolor=colors.PAGE)
    canvas = Canvas(figure, width, height, grid.dpi)
    marks = {pid: badge(v) for pid, v in (verdicts or {}).items()}
    _draw_header(canvas, grid, dashboard, now, [m for m in marks.values() if m is not None])
    for panel in panels:
        rect = grid.rect(panel.get("gridPos") or {})
        if panel.get("type") == "row":
            _draw_row(canvas, rect, panel)
            continue
        pid = panel.get("id")
        content = _draw_frame(canvas, rect, panel, marks.get(pid) if isinstance(pid, int) else None)
        draw_panel(
            canvas,
            content,
            panel,
            list(results.get(pid, ()) if isinstance(pid, int) else ()),
            _window(dashboard, panel, now),
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=grid.dpi, facecolor=colors.PAGE)
    return out
