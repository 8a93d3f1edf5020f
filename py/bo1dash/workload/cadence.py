"""Every(n): a deterministic 1-in-n schedule for the look-alike's simulated faults and outcomes.

bo1's rarer paths (an XML answer that fails validation, a truncated response, a ClamAV hit, ...)
depend on model output and the outside world; the look-alike takes them on a fixed cadence, so a
given sequence of calls always produces the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Every:
    """tick() is True on the n-th, 2n-th, ... call (never when n <= 0)."""

    n: int
    count: int = 0

    def tick(self) -> bool:
        self.count += 1
        return self.n > 0 and self.count % self.n == 0
