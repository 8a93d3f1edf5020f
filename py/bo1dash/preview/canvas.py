"""A matplotlib figure addressed in image pixels (top-left origin), and what every panel drawer needs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bo1dash.preview import colors
from bo1dash.preview.layout import Rect


@dataclass
class Canvas:
    figure: Figure
    width: int
    height: int
    dpi: int

    def axes(self, rect: Rect, *, facecolor: str = "none", frame: bool = False) -> Axes:
        """Axes filling a pixel rectangle exactly."""
        ax = self.figure.add_axes(
            (rect.left / self.width, 1 - rect.bottom / self.height, rect.width / self.width, rect.height / self.height)
        )
        ax.set_facecolor(facecolor)
        if not frame:
            ax.set_axis_off()
        return ax

    def points(self, pixels: float) -> float:
        """A font size in points that is `pixels` tall on the image."""
        return pixels * 72 / self.dpi


@dataclass(frozen=True)
class TimeWindow:
    """The x range of time series panels in epoch seconds; None: the data's own extent."""

    start: float | None = None
    end: float | None = None


def defaults(panel: Mapping[str, Any]) -> Mapping[str, Any]:
    return (panel.get("fieldConfig") or {}).get("defaults") or {}


def custom(panel: Mapping[str, Any]) -> Mapping[str, Any]:
    return defaults(panel).get("custom") or {}


def unit_of(panel: Mapping[str, Any]) -> str:
    return str(defaults(panel).get("unit") or "short")


def decimals_of(panel: Mapping[str, Any]) -> int | None:
    value = defaults(panel).get("decimals")
    return int(value) if value is not None else None


def no_value_text(panel: Mapping[str, Any]) -> str:
    return str(defaults(panel).get("noValue") or "No data")


def message(canvas: Canvas, rect: Rect, text: str, *, color: str = colors.TEXT_DIM, size_px: float = 15) -> None:
    """A centred message in the panel's content area ("No data", an unsupported type)."""
    ax = canvas.axes(rect)
    ax.text(
        0.5,
        0.5,
        text,
        ha="center",
        va="center",
        color=color,
        fontsize=canvas.points(size_px),
        transform=ax.transAxes,
        wrap=True,
    )


def style_axes(ax: Axes, canvas: Canvas) -> None:
    """Grafana's dark axes: no frame, faint grid, dim tick labels."""
    ax.set_facecolor("none")
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.grid(True, color=colors.GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    ax.tick_params(colors=colors.TEXT_DIM, labelsize=canvas.points(11), length=0, pad=3)


TICK_CHAR_PX = 6.6


def fit_y_labels(canvas: Canvas, ax: Axes, area: Rect, *, bottom_px: int = 22, right_px: int = 6) -> None:
    """Place the plot inside `area` leaving room on the left for its longest y tick label (known only once the
    formatter and limits are set) and below for the time labels."""
    low, high = sorted(ax.get_ylim())
    formatter = ax.yaxis.get_major_formatter()
    labels = [str(formatter(v, i)) for i, v in enumerate(ax.get_yticks()) if low <= v <= high]
    left = int(max((len(text) for text in labels), default=1) * TICK_CHAR_PX + 10)
    plot = Rect(area.left + left, area.top + 4, max(10, area.width - left - right_px), max(10, area.height - bottom_px))
    ax.set_position(
        (
            plot.left / canvas.width,
            1 - plot.bottom / canvas.height,
            plot.width / canvas.width,
            plot.height / canvas.height,
        )
    )
