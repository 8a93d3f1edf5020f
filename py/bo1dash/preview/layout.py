"""Where panels go on the image: Grafana's 24-column grid, in pixels.

Grafana lays a panel at gridPos (x, y, w, h) on 24 columns of equal width and rows of 30 px with an 8 px gap
(GRID_CELL_HEIGHT, GRID_CELL_VMARGIN). The preview keeps those rows and gives each column `column_px`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bo1dash.grafana.panels import visible_panels

COLUMNS = 24


@dataclass(frozen=True)
class Rect:
    """A rectangle in image pixels, origin at the top left."""

    left: int
    top: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height


@dataclass(frozen=True)
class Grid:
    column_px: int = 70
    row_px: int = 30
    gap_px: int = 8
    pad_px: int = 16
    header_px: int = 56
    dpi: int = 100

    @property
    def column_pitch(self) -> int:
        return self.column_px + self.gap_px

    @property
    def row_pitch(self) -> int:
        return self.row_px + self.gap_px

    def image_size(self, grid_rows: int) -> tuple[int, int]:
        """(width, height) in pixels of an image holding `grid_rows` grid rows."""
        width = 2 * self.pad_px + COLUMNS * self.column_pitch - self.gap_px
        height = self.header_px + 2 * self.pad_px + max(1, grid_rows) * self.row_pitch - self.gap_px
        return width, height

    def rect(self, grid_pos: Mapping[str, Any]) -> Rect:
        """The pixel rectangle of a gridPos (clamped to the 24 columns as Grafana does)."""
        x = max(0, min(COLUMNS - 1, int(grid_pos.get("x", 0))))
        w = max(1, min(COLUMNS - x, int(grid_pos.get("w", 12))))
        y = max(0, int(grid_pos.get("y", 0)))
        h = max(1, int(grid_pos.get("h", 8)))
        return Rect(
            left=self.pad_px + x * self.column_pitch,
            top=self.header_px + self.pad_px + y * self.row_pitch,
            width=w * self.column_pitch - self.gap_px,
            height=h * self.row_pitch - self.gap_px,
        )


def grid_rows(dashboard: Mapping[str, Any]) -> int:
    """The height of the dashboard in grid rows: the lowest bottom of a panel Grafana draws."""
    bottoms = [
        int((p.get("gridPos") or {}).get("y", 0)) + int((p.get("gridPos") or {}).get("h", 8))
        for p in visible_panels(dashboard)
    ]
    return max(bottoms, default=1)
