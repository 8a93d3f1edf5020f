"""The shapes truth rules work with: what a rule gets (`Inputs`), what it returns (`Expected`, `Many`,
`NoTruth`), and the facts only the runner has (`StackFacts`). See `verify/truth.py` for the tolerances."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bo1dash.grafana.frames import QueryResult, Series, Table
from bo1dash.grafana.time_range import TimeRange

# (selector, label) -> {label value: sum of the first sample of every series born inside the range}
UnseenProbe = Callable[[str, str, TimeRange], Mapping[str, float]]
# (selector, label, start, end) -> {label value: [(time, increase since the sample before)]} from the raw samples
IncrementsProbe = Callable[[str, str, float, float], Mapping[str, Sequence[tuple[float, float]]]]


@dataclass(frozen=True)
class Expected:
    """One number the panel must show (stat, gauge)."""

    value: float
    abs_tolerance: float
    why: str
    money: bool = False


@dataclass(frozen=True)
class NoTruth:
    reason: str


@dataclass(frozen=True)
class Check:
    ok: bool | None  # None: nothing to compare
    expected: str
    note: str  # "checked", "no truth: ...", or the mismatch


def cents(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Item:
    """One compared value of a many-valued panel: a slice, a bucket, a row, a series' integral."""

    name: str
    got: float | None
    want: float
    low: float
    high: float
    money: bool = False

    @classmethod
    def exact_money(cls, name: str, got: float | None, want: float | Decimal) -> Item:
        return cls(name, got, float(want), float(want), float(want), money=True)

    @classmethod
    def within(cls, name: str, got: float | None, want: float, tolerance: float) -> Item:
        return cls(name, got, want, want - tolerance, want + tolerance)

    def ok(self) -> bool:
        if self.got is None or not math.isfinite(self.got):
            return False
        if self.money:
            return cents(self.got) == cents(self.want)
        return self.low - 1e-9 <= self.got <= self.high + 1e-9

    def mismatch(self) -> str:
        got = "nothing" if self.got is None else (f"{cents(self.got)}" if self.money else f"{self.got:.6g}")
        if self.money:
            return f"{self.name}: panel {got} != truth {cents(self.want)} USD"
        bounds = f"{self.want:.6g}" if self.low == self.high else f"{self.want:.6g} [{self.low:.6g}, {self.high:.6g}]"
        return f"{self.name}: panel {got}, truth {bounds}"


@dataclass(frozen=True)
class Many:
    """A many-valued panel: every item must be within its bounds, and nothing in `problems`."""

    items: tuple[Item, ...]
    why: str  # what the truth is and the tolerance, shown in the report's expected column
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class StackFacts:
    """What only the runner knows about the stack it verifies; every field optional (None: not known)."""

    jobs: tuple[str, ...] = ()
    redis_maxmemory_bytes: float | None = None
    postgres_max_connections: float | None = None
    process_rss_bytes: Mapping[str, float] = field(default_factory=dict)  # process group -> RSS of its processes
    disk_used_ratio: Callable[[str], float | None] | None = None  # mountpoint -> 1 - avail/size now
    unseen: UnseenProbe | None = None
    increments: IncrementsProbe | None = None


@dataclass(frozen=True)
class Inputs:
    """Everything a rule may look at; `config` is the mixin's `_config` (its selectors)."""

    exp: Mapping[str, Any]
    tr: TimeRange
    results: Sequence[QueryResult] = ()
    facts: StackFacts | None = None
    config: Mapping[str, Any] = field(default_factory=dict)


Outcome = Expected | Many | NoTruth


def ts(text: Any) -> datetime:
    if isinstance(text, datetime):
        return text if text.tzinfo else text.replace(tzinfo=UTC)
    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def epoch(value: Any) -> float:
    """A SQL time column value (timestamp, epoch seconds or epoch ms) as epoch seconds."""
    if isinstance(value, datetime):
        return ts(value).timestamp()
    number = float(value)
    return number / 1000 if number > 1e11 else number


def rows(exp: Mapping[str, Any], key: str) -> list[Mapping[str, Any]] | NoTruth:
    """Fact rows of the expectations file: `sessions.facts` (dicts) or `cost.facts` (lists, `cost.fact_columns`)."""
    section = exp.get(key)
    if not isinstance(section, Mapping) or not isinstance(section.get("facts"), list):
        return NoTruth(f"expectations have no `{key}.facts`")
    facts = section["facts"]
    columns = section.get("fact_columns")
    if columns:
        return [dict(zip(columns, row)) for row in facts]
    return facts


def table(results: Sequence[QueryResult]) -> Table | None:
    return next((r.table for r in results if r.table is not None), None)


def series(results: Sequence[QueryResult]) -> list[Series]:
    return [s for r in results for s in r.series]


def column(tab: Table, *names: str) -> int | None:
    lowered = [c.lower() for c in tab.columns]
    return next((lowered.index(n) for n in names if n in lowered), None)


def value_column(tab: Table) -> int | None:
    """The first numeric column that is not the time column."""
    skip = {column(tab, "time")}
    return next((i for i in tab.numeric_columns() if i not in skip), None)
