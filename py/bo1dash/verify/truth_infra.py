"""Truth for the infrastructure panels, from facts only the runner has (`StackFacts`): the stack's scrape jobs,
Redis' maxmemory, PostgreSQL's max_connections, the RSS of the stack's processes, the disk's fill."""

from __future__ import annotations

import re
from collections.abc import Callable

from bo1dash.verify.truth_base import Inputs, Item, Many, NoTruth, Outcome, StackFacts, series

RSS_REL = 0.25  # process RSS: read from /proc up to one scrape (5s) later; PostgreSQL backends come and go
DISK_ABS = 0.01  # disk fill: other writers on the same filesystem between the last scrape and now


def _facts(inp: Inputs) -> StackFacts | NoTruth:
    if inp.facts is None:
        return NoTruth("stack facts are known only when verify started the stack itself")
    return inp.facts


def _last(values: list[float]) -> float | None:
    return values[-1] if values else None


def target_up(inp: Inputs) -> Outcome:
    facts = _facts(inp)
    if isinstance(facts, NoTruth):
        return facts
    query = " ".join(r.query for r in inp.results)
    match = re.search(r'job(=~?)"([^"]+)"', query)
    if match is None:
        return NoTruth("the query names no job")
    op, value = match.groups()
    started = [j for j in facts.jobs if (j == value if op == "=" else re.fullmatch(value, j))]
    if not started:
        return NoTruth(f"the stack started no `{value}` job")
    got = _last([v for s in series(inp.results) for v in s.finite()])
    return Many(
        (Item.within(f'up{{job{op}"{value}"}}', got, 1.0, 0.0),),
        f"1: the stack started and scrapes {', '.join(started)}",
    )


def _ref(inp: Inputs, index: int) -> list[float]:
    if index >= len(inp.results):
        return []
    return [v for s in inp.results[index].series for v in s.finite()]


def redis_memory(inp: Inputs) -> Outcome:
    facts = _facts(inp)
    if isinstance(facts, NoTruth) or facts.redis_maxmemory_bytes is None:
        return facts if isinstance(facts, NoTruth) else NoTruth("the runner does not know Redis' maxmemory")
    limit = facts.redis_maxmemory_bytes
    used, cap = _last(_ref(inp, 0)), _last(_ref(inp, 1))
    return Many(
        (Item.within("maxmemory", cap, limit, 0.0), Item("used", used, limit / 2, 1.0, limit)),
        f"maxmemory = Redis' configured {limit:.0f} bytes exactly; 0 < used <= maxmemory",
    )


def redis_connections(inp: Inputs) -> Outcome:
    connected, blocked = _last(_ref(inp, 0)), _last(_ref(inp, 1))
    return Many(
        (Item("connected", connected, 1.0, 1.0, 10_000.0), Item.within("blocked", blocked, 0.0, 0.0)),
        "connected >= 1 (the exporter's own connection); blocked 0: nothing in the stack runs blocking commands",
    )


def postgres_connections(inp: Inputs) -> Outcome:
    facts = _facts(inp)
    if isinstance(facts, NoTruth) or facts.postgres_max_connections is None:
        return facts if isinstance(facts, NoTruth) else NoTruth("the runner does not know max_connections")
    limit = facts.postgres_max_connections
    used, cap = _last(_ref(inp, 0)), _last(_ref(inp, 1))
    return Many(
        (Item.within("max_connections", cap, limit, 0.0), Item("connections", used, 1.0, 1.0, limit)),
        f"max_connections = the server's SHOW max_connections ({limit:g}); 1 <= connections <= it",
    )


def _groups(inp: Inputs, facts: StackFacts) -> tuple[dict[str, list[float]], tuple[str, ...]]:
    got = {s.labels.get("groupname", ""): s.finite() for s in series(inp.results)}
    want = set(facts.process_rss_bytes)
    problems = tuple(
        f"group {g}: panel {'shows it, the stack has no such process' if g in got else 'misses it'}"
        for g in sorted(want ^ set(got))
    )
    return got, problems


def process_memory(inp: Inputs) -> Outcome:
    facts = _facts(inp)
    if isinstance(facts, NoTruth) or not facts.process_rss_bytes:
        return facts if isinstance(facts, NoTruth) else NoTruth("the runner does not know the stack's processes")
    got, problems = _groups(inp, facts)
    items = tuple(
        Item(g, _last(got.get(g, [])), rss, rss * (1 - RSS_REL), rss * (1 + RSS_REL))
        for g, rss in sorted(facts.process_rss_bytes.items())
    )
    return Many(
        items,
        f"groups = the stack's processes; resident memory within {RSS_REL:.0%} of their RSS in /proc "
        "(read up to a scrape later; PostgreSQL backends come and go)",
        problems,
    )


def process_cpu(inp: Inputs, cores: Callable[[], int | None] | None = None) -> Outcome:
    facts = _facts(inp)
    if isinstance(facts, NoTruth) or not facts.process_rss_bytes:
        return facts if isinstance(facts, NoTruth) else NoTruth("the runner does not know the stack's processes")
    import os

    limit = float((cores or os.cpu_count)() or 1)
    got, problems = _groups(inp, facts)
    items = tuple(
        Item(f"{g} max", max(got.get(g, []), default=None), limit / 2, 0.0, limit)
        for g in sorted(facts.process_rss_bytes)
    )
    return Many(items, f"groups = the stack's processes; CPU between 0 and the machine's {limit:g} cores", problems)


def disk_usage(inp: Inputs) -> Outcome:
    facts = _facts(inp)
    if isinstance(facts, NoTruth) or facts.disk_used_ratio is None:
        return facts if isinstance(facts, NoTruth) else NoTruth("the runner cannot read the disks")
    items = []
    for s in series(inp.results):
        mount = s.labels.get("mountpoint", "")
        want = facts.disk_used_ratio(mount)
        if want is None:
            return NoTruth(f"mountpoint {mount} is not readable here")
        items.append(Item.within(mount, _last(s.finite()), want, DISK_ABS))
    return Many(
        tuple(items), f"1 - avail/size of statvfs(mountpoint) now, within {DISK_ABS:g} (other writers since the scrape)"
    )
