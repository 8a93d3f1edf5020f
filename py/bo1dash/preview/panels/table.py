"""Table: a header and the rows that fit, sorted by options.sortBy, numbers in the panel's unit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from matplotlib.patches import Rectangle

from bo1dash.grafana.frames import QueryResult
from bo1dash.preview import colors
from bo1dash.preview.canvas import Canvas, decimals_of, message, no_value_text, unit_of
from bo1dash.preview.fields import as_epoch, as_number, panel_table
from bo1dash.preview.layout import Rect
from bo1dash.preview.units import format_value

ROW_PX = 24
CHAR_PX = 6.8


def _cell_text(value: Any, column: str, numeric: bool, unit: str, decimals: int | None) -> str:
    if value is None:
        return ""
    if column.lower() == "time":
        epoch = as_epoch(value)
        if epoch is not None:
            return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
    number = as_number(value)
    if numeric and number is not None:
        return format_value(number, unit, decimals)
    return str(value)


def _clip(text: str, width_px: float) -> str:
    room = max(1, int(width_px / CHAR_PX))
    return text if len(text) <= room else text[: max(1, room - 1)] + "…"


def draw(canvas: Canvas, rect: Rect, panel: Mapping[str, Any], results: Sequence[QueryResult]) -> None:
    view = panel_table(panel, results)
    if not view.rows:
        message(canvas, rect, no_value_text(panel))
        return
    unit, decimals = unit_of(panel), decimals_of(panel)
    cells = [
        [_cell_text(v, view.columns[i], i in view.numeric, unit, decimals) for i, v in enumerate(row)]
        for row in view.rows
    ]
    widths = [max(len(view.columns[i]), *(len(r[i]) for r in cells)) + 2 for i in range(len(view.columns))]
    total = sum(widths)
    ax = canvas.axes(rect)
    ax.set_xlim(0, rect.width)
    ax.set_ylim(rect.height, 0)
    fits = max(1, rect.height // ROW_PX - 1)
    shown = cells[:fits] if len(cells) <= fits else cells[: fits - 1]
    lefts = [0.0]
    for w in widths[:-1]:
        lefts.append(lefts[-1] + w / total * rect.width)
    font = canvas.points(12)
    show_header = (panel.get("options") or {}).get("showHeader", True) is not False
    y = 0
    if show_header:
        ax.add_patch(Rectangle((0, 0), rect.width, ROW_PX, facecolor=colors.BORDER, linewidth=0))
        for i, name in enumerate(view.columns):
            ax.text(
                lefts[i] + 6,
                ROW_PX / 2,
                _clip(name, widths[i] / total * rect.width - 8),
                va="center",
                color=colors.TEXT,
                fontsize=font,
                fontweight="bold",
            )
        y = ROW_PX
    for row in shown:
        ax.plot([0, rect.width], [y + ROW_PX, y + ROW_PX], color=colors.GRID, linewidth=0.6)
        for i, text in enumerate(row):
            ax.text(
                lefts[i] + 6,
                y + ROW_PX / 2,
                _clip(text, widths[i] / total * rect.width - 8),
                va="center",
                color=colors.TEXT,
                fontsize=font,
            )
        y += ROW_PX
    if len(shown) < len(cells):
        ax.text(
            6,
            y + ROW_PX / 2,
            f"… {len(cells) - len(shown)} more rows",
            va="center",
            color=colors.TEXT_DIM,
            fontsize=font,
        )
