"""Write the history as OpenMetrics text, one time window at a time (what promtool backfills from)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO

from bo1dash.bench.series import Family


@dataclass
class WindowStats:
    series: int = 0
    samples: int = 0


def write_window(
    out: TextIO,
    families: list[Family],
    first: int,
    last: int,
    start_epoch: int,
    step: int,
    gaps: tuple[tuple[int, int], ...] = (),
) -> WindowStats:
    """Samples of minutes [first, last) of every series, families contiguous, each series in time order,
    then `# EOF`. Timestamps are `start_epoch + minute * step` seconds. No sample in the `gaps` ([a, b) steps
    in which nothing was scraped)."""
    stats = WindowStats()
    suffixes = [f" {start_epoch + t * step}\n" for t in range(first, last)]
    skipped = {t for a, b in gaps for t in range(max(a, first), min(b, last))}
    for family in families:
        out.write(f"# TYPE {family.name} {family.type}\n")
        for spec in family.series:
            key = spec.key() + " "
            value = spec.value
            wrote = False
            for w in spec.windows:
                a, b = max(first, w.start), min(last, w.end)
                if a >= b:
                    continue
                steps = [t for t in range(a, b) if t not in skipped] if skipped else range(a, b)
                out.write("".join([key + value(t, w) + suffixes[t - first] for t in steps]))
                stats.samples += len(steps)
                wrote = True
            stats.series += wrote
    out.write("# EOF\n")
    return stats
