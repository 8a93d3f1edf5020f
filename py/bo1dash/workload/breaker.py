"""Per-provider circuit breaker; circuit_breaker_state is written one-hot on transitions only."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bo1dash.workload.metrics import Bo1Metrics

STATES = ("closed", "half_open", "open")


@dataclass
class CircuitBreaker:
    provider: str
    metrics: Bo1Metrics
    failure_threshold: int = 3
    recovery_timeout_s: float = 60.0
    state: str = "closed"
    window_s: float = 60.0
    failures: list[float] = field(default_factory=list)
    opened_at: float = 0.0
    clock: object = field(default=time.monotonic)

    def _transition(self, state: str) -> None:
        self.state = state
        for name in STATES:
            self.metrics.circuit_breaker_state.labels(self.provider, name).set(1 if name == state else 0)
        if state == "open":
            self.opened_at = self.clock()  # type: ignore[operator]
            self.metrics.circuit_breaker_trips_total.labels(self.provider).inc()

    def allow(self) -> bool:
        if self.state == "open" and self.clock() - self.opened_at >= self.recovery_timeout_s:  # type: ignore[operator]
            self._transition("half_open")
        return self.state != "open"

    def record_success(self) -> None:
        if self.state != "closed":
            self.failures = []
            self._transition("closed")

    def record_failure(self, fault_type: str = "transient") -> None:
        """Opens on `failure_threshold` failures within `window_s`, or on any failure while half open.

        Overloaded, rate-limited and 5xx answers are transient faults in bo1's classification.
        """
        self.metrics.circuit_breaker_fault_total.labels(self.provider, fault_type).inc()
        now = self.clock()  # type: ignore[operator]
        self.failures = [t for t in self.failures if now - t < self.window_s] + [now]
        if self.state == "half_open" or (self.state == "closed" and len(self.failures) >= self.failure_threshold):
            self._transition("open")
