"""What a query returned, in the shape a panel draws it: series of (time, value) points, or a table."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Series:
    """One series: its labels (Prometheus) or column name (SQL) and its points (epoch seconds, value)."""

    name: str
    labels: dict[str, str] = field(default_factory=dict)
    points: tuple[tuple[float, float | None], ...] = ()

    def values(self) -> list[float | None]:
        return [value for _, value in self.points]

    def finite(self) -> list[float]:
        return [v for v in self.values() if v is not None and math.isfinite(v)]


@dataclass(frozen=True)
class Table:
    """Rows of a table-format result."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    def numeric_columns(self) -> list[int]:
        return [
            i
            for i, _ in enumerate(self.columns)
            if any(_as_number(row[i]) is not None for row in self.rows)
            and all(row[i] is None or _as_number(row[i]) is not None for row in self.rows)
        ]

    def column_series(self, index: int) -> Series:
        return Series(
            name=self.columns[index],
            points=tuple((float(n), _as_number(row[index])) for n, row in enumerate(self.rows)),
        )


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        from decimal import Decimal

        if isinstance(value, Decimal):
            return float(value)
    except ImportError:  # pragma: no cover
        pass
    return None


@dataclass(frozen=True)
class QueryResult:
    """The frames of one target: series (time series) and/or a table; `query` is the text that ran."""

    query: str
    series: tuple[Series, ...] = ()
    table: Table | None = None
    kind: str = "range"  # range | instant | sql

    def is_empty(self) -> bool:
        if self.table is not None:
            return not self.table.rows
        return not any(s.points for s in self.series)
