"""A panel's legend (options.legend): where it goes, how much room it takes, and drawing it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from bo1dash.preview import colors
from bo1dash.preview.canvas import Canvas
from bo1dash.preview.layout import Rect

ENTRY_PX = 17
CHAR_PX = 6.6


@dataclass(frozen=True)
class Entry:
    label: str
    color: str
    patch: bool = False  # a filled square (pie, bars) instead of a line


@dataclass(frozen=True)
class Split:
    plot: Rect
    legend: Rect | None


def options(panel: Mapping[str, Any]) -> Mapping[str, Any]:
    return (panel.get("options") or {}).get("legend") or {}


def _shown(panel: Mapping[str, Any]) -> bool:
    legend = options(panel)
    return legend.get("showLegend", True) is not False and legend.get("displayMode") != "hidden"


def _columns(entries: Sequence[Entry], width: int) -> int:
    widest = max((len(e.label) for e in entries), default=1) * CHAR_PX + 30
    return max(1, min(len(entries), int(width // widest)))


def split(
    panel: Mapping[str, Any], rect: Rect, entries: Sequence[Entry], *, default_placement: str = "bottom"
) -> Split:
    """Room for the plot and for the legend inside a panel's content rectangle."""
    if not entries or not _shown(panel):
        return Split(rect, None)
    placement = str(options(panel).get("placement") or default_placement)
    if placement == "right":
        widest = max(len(e.label) for e in entries) * CHAR_PX + 34
        width = int(min(rect.width * 0.55, max(90, widest)))
        return Split(
            Rect(rect.left, rect.top, rect.width - width, rect.height),
            Rect(rect.right - width, rect.top, width, rect.height),
        )
    rows = -(-len(entries) // _columns(entries, rect.width))
    height = int(min(rect.height * 0.4, rows * ENTRY_PX + 4))
    return Split(
        Rect(rect.left, rect.top, rect.width, rect.height - height),
        Rect(rect.left, rect.bottom - height, rect.width, height),
    )


def draw(canvas: Canvas, rect: Rect, entries: Sequence[Entry], *, placement: str = "bottom") -> None:
    ax = canvas.axes(rect)
    handles = [
        Patch(facecolor=e.color, edgecolor=e.color) if e.patch else Line2D([], [], color=e.color, linewidth=3)
        for e in entries
    ]
    columns = 1 if placement == "right" else _columns(entries, rect.width)
    ax.legend(
        handles,
        [e.label for e in entries],
        loc="upper left",
        ncol=columns,
        frameon=False,
        fontsize=canvas.points(11),
        labelcolor=colors.TEXT,
        handlelength=1.2,
        handletextpad=0.5,
        columnspacing=1.2,
        borderaxespad=0.1,
        borderpad=0.1,
        labelspacing=0.35,
        bbox_to_anchor=(0, 1),
    )
