"""Truth for the many-valued SQL panels: the `api_costs` ledger (exact to the cent) and the sessions table (exact)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bo1dash.grafana.frames import Table
from bo1dash.verify.truth_base import (
    Inputs,
    Item,
    Many,
    NoTruth,
    Outcome,
    cents,
    column,
    epoch,
    rows,
    table,
    ts,
    value_column,
)

DAY = 86400
HOUR = 3600


def _money(row: Mapping[str, Any]) -> Decimal:
    return Decimal(str(row.get("total_cost") or "0"))


def _ledger_in(inp: Inputs) -> list[Mapping[str, Any]] | NoTruth:
    facts = rows(inp.exp, "cost")
    if isinstance(facts, NoTruth):
        return facts
    return [r for r in facts if inp.tr.start <= ts(r["created_at"]) <= inp.tr.end]


def _named_values(tab: Table) -> dict[str, float | None] | NoTruth:
    """name column -> value column of a table result (first text column, first numeric column)."""
    value = value_column(tab)
    name = next((i for i in range(len(tab.columns)) if i != value and i not in tab.numeric_columns()), None)
    if value is None or name is None:
        return NoTruth(f"the table has no name and value column ({', '.join(tab.columns)})")
    out: dict[str, float | None] = {}
    for row in tab.rows:
        out[str(row[name])] = None if row[value] is None else float(row[value])
    return out


def _by_key_items(
    got: Mapping[str, float | None], want: Mapping[str, Decimal]
) -> tuple[tuple[Item, ...], tuple[str, ...]]:
    items = tuple(Item.exact_money(k, got.get(k), v) for k, v in sorted(want.items()))
    extra = tuple(f"{k}: panel {cents(v or 0)} USD, the ledger has nothing" for k, v in got.items() if k not in want)
    return items, extra


def spend_by_model(inp: Inputs) -> Outcome:
    facts, tab = _ledger_in(inp), table(inp.results)
    if isinstance(facts, NoTruth) or tab is None:
        return facts if isinstance(facts, NoTruth) else NoTruth("no table result")
    want: dict[str, Decimal] = defaultdict(Decimal)
    for r in facts:
        want[str(r.get("model_name") or r.get("provider"))] += _money(r)
    got = _named_values(tab)
    if isinstance(got, NoTruth):
        return got
    items, extra = _by_key_items(got, want)
    return Many(
        items, f"{len(want)} slices = ledger sum by model (provider when no model) in range, exact to the cent", extra
    )


def _time_values(tab: Table) -> dict[float, float | None] | NoTruth:
    time_col, value = column(tab, "time"), value_column(tab)
    if time_col is None or value is None:
        return NoTruth(f"the result has no time and value column ({', '.join(tab.columns)})")
    return {epoch(r[time_col]): (None if r[value] is None else float(r[value])) for r in tab.rows}


def _bucket(moment: datetime, seconds: int) -> float:
    stamp = moment.timestamp()
    return float(int(stamp // seconds) * seconds)


def _label(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, tz=UTC).strftime("%Y-%m-%dT%H:%MZ")


def _bucket_items(
    got: Mapping[float, float | None], want: Mapping[float, Decimal]
) -> tuple[tuple[Item, ...], tuple[str, ...]]:
    items = tuple(Item.exact_money(_label(k), got.get(k), v) for k, v in sorted(want.items()))
    extra = tuple(
        f"{_label(k)}: panel {cents(v or 0)} USD, the ledger has nothing" for k, v in got.items() if k not in want and v
    )
    return items, extra


def daily_spend(inp: Inputs) -> Outcome:
    facts, tab = _ledger_in(inp), table(inp.results)
    if isinstance(facts, NoTruth) or tab is None:
        return facts if isinstance(facts, NoTruth) else NoTruth("no table result")
    want: dict[float, Decimal] = defaultdict(Decimal)
    for r in facts:
        want[_bucket(ts(r["created_at"]), DAY)] += _money(r)
    got = _time_values(tab)
    if isinstance(got, NoTruth):
        return got
    items, extra = _bucket_items(got, want)
    return Many(items, f"{len(want)} UTC days = ledger sum per day in range, exact to the cent", extra)


def _month_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def cumulative_month(inp: Inputs) -> Outcome:
    facts, tab = rows(inp.exp, "cost"), table(inp.results)
    if isinstance(facts, NoTruth) or tab is None:
        return facts if isinstance(facts, NoTruth) else NoTruth("no table result")
    first = _month_start(inp.tr.end)
    daily: dict[float, Decimal] = defaultdict(Decimal)
    for r in facts:
        if first <= ts(r["created_at"]) < inp.tr.end:
            daily[_bucket(ts(r["created_at"]), DAY)] += _money(r)
    want: dict[float, Decimal] = {}
    running = Decimal(0)
    for day in sorted(daily):
        running += daily[day]
        want[day] = running
    got = _time_values(tab)
    if isinstance(got, NoTruth):
        return got
    items, extra = _bucket_items(got, want)
    return Many(
        items,
        f"{len(want)} days = running ledger sum since {first:%Y-%m-%d}, last = month to date "
        f"{cents(running)}, exact to the cent",
        extra,
    )


def top_users(inp: Inputs) -> Outcome:
    facts, tab = _ledger_in(inp), table(inp.results)
    if isinstance(facts, NoTruth) or tab is None:
        return facts if isinstance(facts, NoTruth) else NoTruth("no table result")
    emails: Mapping[str, str] = (inp.exp.get("cost") or {}).get("users") or {}
    amounts: dict[str, Decimal] = defaultdict(Decimal)
    for r in facts:
        if r.get("user_id"):
            amounts[emails.get(r["user_id"]) or r["user_id"]] += _money(r)
    ranked = sorted(amounts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    got = _named_values(tab)
    if isinstance(got, NoTruth):
        return got
    shown = list(got.items())
    items = []
    problems = []
    for rank, (user, amount) in enumerate(ranked):
        if rank >= len(shown):
            problems.append(f"row {rank + 1} missing: truth {user} {cents(amount)} USD")
            continue
        name, value = shown[rank]
        # ties may come in any order: the row's user must have the amount of this rank
        items.append(Item.exact_money(f"row {rank + 1} ({name})", value, amount))
        if cents(amounts.get(name, Decimal(-1))) != cents(amount):
            problems.append(f"row {rank + 1}: panel {name}, truth {user} ({cents(amount)} USD)")
    problems += [f"row {i + 1}: extra {name}" for i, (name, _) in enumerate(shown) if i >= len(ranked)]
    return Many(
        tuple(items),
        f"top {len(ranked)} users by ledger spend in range, same order (ties by amount), exact to the cent",
        tuple(problems),
    )


def _sessions_in(inp: Inputs, time_key: str) -> list[Mapping[str, Any]] | NoTruth:
    facts = rows(inp.exp, "sessions")
    if isinstance(facts, NoTruth):
        return facts
    return [r for r in facts if inp.tr.start <= ts(r[time_key]) <= inp.tr.end]


def _metric_buckets(tab: Table) -> dict[tuple[float, str], float | None] | NoTruth:
    time_col, metric, value = column(tab, "time"), column(tab, "metric"), value_column(tab)
    if time_col is None or metric is None or value is None:
        return NoTruth(f"the result has no time, metric and value column ({', '.join(tab.columns)})")
    return {(epoch(r[time_col]), str(r[metric])): (None if r[value] is None else float(r[value])) for r in tab.rows}


def sessions_by_outcome(inp: Inputs) -> Outcome:
    facts, tab = _sessions_in(inp, "created_at"), table(inp.results)
    if isinstance(facts, NoTruth) or tab is None:
        return facts if isinstance(facts, NoTruth) else NoTruth("no table result")
    want: dict[tuple[float, str], int] = defaultdict(int)
    for r in facts:
        want[(_bucket(ts(r["created_at"]), HOUR), str(r["status"]))] += 1
    got = _metric_buckets(tab)
    if isinstance(got, NoTruth):
        return got
    items = tuple(Item.within(f"{_label(h)} {s}", got.get((h, s)), float(n), 0) for (h, s), n in sorted(want.items()))
    extra = tuple(f"{_label(h)} {s}: panel {v}, truth none" for (h, s), v in got.items() if (h, s) not in want and v)
    return Many(items, f"{len(want)} (hour, status) buckets = sessions created per hour by status, exact", extra)


def rounds_per_session(inp: Inputs) -> Outcome:
    facts, tab = _sessions_in(inp, "updated_at"), table(inp.results)
    if isinstance(facts, NoTruth) or tab is None:
        return facts if isinstance(facts, NoTruth) else NoTruth("no table result")
    per_hour: dict[float, list[int]] = defaultdict(list)
    for r in facts:
        if r.get("status") == "completed":
            per_hour[_bucket(ts(r["updated_at"]), HOUR)].append(int(r["round_number"] or 0))
    got = _time_values(tab)
    if isinstance(got, NoTruth):
        return got
    items = tuple(Item.within(_label(h), got.get(h), sum(v) / len(v), 1e-9) for h, v in sorted(per_hour.items()))
    extra = tuple(
        f"{_label(h)}: panel {v}, no completed session" for h, v in got.items() if h not in per_hour and v is not None
    )
    return Many(
        items, f"{len(per_hour)} hours = avg round_number of sessions completed (updated_at) per hour, exact", extra
    )
