"""From query results to what a panel draws: named fields (legendFormat applied), tables, reduced values.

`results[i]` belongs to the i-th visible target of the panel (the verifier's `PanelResult.results`, one per visible
target in target order); when the counts differ, targets cannot be paired and series keep Grafana's default names.
Values are reduced by the verifier's own reducers (`bo1dash.grafana.reducers.reduce_values`), so a stat shows what
the verifier judged.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from bo1dash.grafana.frames import QueryResult, Table
from bo1dash.grafana.panels import visible_targets
from bo1dash.grafana.reducers import reduce_options, reduce_values

_TEMPLATE = re.compile(r"\{\{\s*([^}\s]+)\s*\}\}")


@dataclass(frozen=True)
class Field:
    """One drawable field: a display name, its labels, and (time, value) points (time None for table rows)."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    times: tuple[float | None, ...] = ()
    values: tuple[float | None, ...] = ()

    def finite(self) -> list[float]:
        return [v for v in self.values if v is not None and math.isfinite(v)]


def _paired(panel: Mapping[str, Any], results: Sequence[QueryResult]) -> list[tuple[Mapping[str, Any], QueryResult]]:
    targets = visible_targets(panel)
    if len(targets) != len(results):
        targets = [{} for _ in results]
    return list(zip(targets, results))


def legend_name(legend_format: str | None, labels: Mapping[str, str], fallback: str) -> str:
    """Grafana's series display name: `{{label}}` templating, else `name{k="v", ...}`, else the query text."""
    if legend_format and legend_format != "__auto":
        return _TEMPLATE.sub(lambda m: str(labels.get(m.group(1), "")), legend_format).strip() or fallback
    name = labels.get("__name__", "")
    rest = {k: v for k, v in labels.items() if k != "__name__"}
    if rest:
        return name + "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(rest.items())) + "}"
    return name or fallback


def as_number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    return None


def as_epoch(value: Any) -> float | None:
    """A time cell as epoch seconds: datetimes (naive ones are UTC), dates, epoch s or ms numbers."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.timestamp()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()
    number = as_number(value)
    if number is None:
        return None
    return number / 1000 if number > 1e11 else number


def _time_column(table: Table) -> int | None:
    for i, name in enumerate(table.columns):
        if name.lower() == "time":
            return i
    return None


def _sql_time_series(table: Table) -> list[Field]:
    """Grafana's SQL time_series format: a `time` column, an optional `metric` column naming the series."""
    t_col = _time_column(table)
    metric_col = next((i for i, c in enumerate(table.columns) if c.lower() == "metric"), None)
    value_cols = [i for i in table.numeric_columns() if i not in (t_col, metric_col)]
    fields: dict[str, tuple[list[float | None], list[float | None]]] = {}
    for row in table.rows:
        when = as_epoch(row[t_col]) if t_col is not None else None
        for col in value_cols:
            if metric_col is not None:
                metric = str(row[metric_col])
                name = metric if len(value_cols) == 1 else f"{metric} {table.columns[col]}"
            else:
                name = table.columns[col]
            times, values = fields.setdefault(name, ([], []))
            times.append(when)
            values.append(as_number(row[col]))
    return [Field(name=name, times=tuple(t), values=tuple(v)) for name, (t, v) in fields.items()]


def _sql_table_fields(table: Table) -> list[Field]:
    """A table-format SQL result as numeric fields (the time column is not a value)."""
    t_col = _time_column(table)
    times = tuple(as_epoch(row[t_col]) for row in table.rows) if t_col is not None else tuple(None for _ in table.rows)
    return [
        Field(name=table.columns[i], times=times, values=tuple(as_number(row[i]) for row in table.rows))
        for i in table.numeric_columns()
        if i != t_col
    ]


def panel_fields(panel: Mapping[str, Any], results: Sequence[QueryResult]) -> list[Field]:
    """Every numeric field the panel draws, named as Grafana names it."""
    out: list[Field] = []
    for target, result in _paired(panel, results):
        if result.table is not None:
            if str(target.get("format") or "") == "time_series" or (
                not target.get("format") and _time_column(result.table) is not None and result.kind == "sql"
            ):
                out.extend(_sql_time_series(result.table))
            else:
                out.extend(_sql_table_fields(result.table))
            continue
        for series in result.series:
            name = legend_name(target.get("legendFormat"), series.labels, result.query or series.name or "Value")
            out.append(
                Field(
                    name=name,
                    labels=dict(series.labels),
                    times=tuple(t for t, _ in series.points),
                    values=tuple(v for _, v in series.points),
                )
            )
    return out


def string_column(table: Table) -> int | None:
    """The first column holding text: what names a row (a pie slice of a SQL result)."""
    t_col = _time_column(table)
    numeric = set(table.numeric_columns())
    for i, _ in enumerate(table.columns):
        if i != t_col and i not in numeric and any(isinstance(row[i], str) for row in table.rows):
            return i
    return None


@dataclass(frozen=True)
class TableView:
    """A table panel's content: column names, cells, and which columns are numeric (unit-formatted)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    numeric: frozenset[int]


def panel_table(panel: Mapping[str, Any], results: Sequence[QueryResult]) -> TableView:
    """The rows a table panel shows, sorted by options.sortBy (Prometheus tables: Time, labels..., Value)."""
    columns: list[str] = []
    rows: list[tuple[Any, ...]] = []
    multi = len(results) > 1
    for target, result in _paired(panel, results):
        if result.table is not None:
            columns, rows = list(result.table.columns), [tuple(r) for r in result.table.rows]
            break
        labels = sorted({k for s in result.series for k in s.labels if k != "__name__"})
        value_name = f"Value #{target.get('refId', 'A')}" if multi else "Value"
        columns = ["Time", *labels, value_name]
        for s in result.series:
            when, value = s.points[-1] if s.points else (None, None)
            rows.append((when, *(s.labels.get(k, "") for k in labels), value))
        break
    numeric = frozenset(
        i for i, c in enumerate(columns) if c.lower() != "time" and any(as_number(r[i]) is not None for r in rows)
    )
    for sort in reversed((panel.get("options") or {}).get("sortBy") or []):
        name = sort.get("displayName")
        if name in columns:
            i = columns.index(name)
            rows.sort(key=_column_sort_key(i), reverse=bool(sort.get("desc")))
    return TableView(tuple(columns), tuple(rows), numeric)


def _column_sort_key(index: int) -> Callable[[tuple[Any, ...]], tuple[int, Any]]:
    def key(row: tuple[Any, ...]) -> tuple[int, Any]:
        return _sort_key(row[index])

    return key


def _sort_key(value: Any) -> tuple[int, Any]:
    number = as_number(value)
    if number is not None:
        return (1, number if math.isfinite(number) else -math.inf)
    return (0, "" if value is None else str(value))


@dataclass(frozen=True)
class Reduced:
    name: str
    value: float | None


def reduced(panel: Mapping[str, Any], results: Sequence[QueryResult]) -> list[Reduced]:
    """The values a stat, gauge or pie shows: one per field (reduced), or one per row with values=true."""
    calc, all_values = reduce_options(panel)
    if not all_values:
        return [Reduced(f.name, reduce_values(f.values, calc)) for f in panel_fields(panel, results)]
    out: list[Reduced] = []
    for target, result in _paired(panel, results):
        if result.table is not None:
            table = result.table
            label_col = string_column(table)
            for f_index, value_field in enumerate(_sql_table_fields(table)):
                for r, value in enumerate(value_field.values):
                    name = str(table.rows[r][label_col]) if label_col is not None else value_field.name
                    if label_col is None and len(table.rows) > 1:
                        name = f"{value_field.name} {r + 1}"
                    out.append(
                        Reduced(name if f_index == 0 or label_col is None else f"{name} {value_field.name}", value)
                    )
            continue
        for f in panel_fields({"targets": [target]} if target else {}, [result]):
            out.extend(Reduced(f.name, v) for v in f.values)
    return out
