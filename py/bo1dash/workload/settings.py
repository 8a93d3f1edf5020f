"""Settings of the look-alike; the registry is injected (tests pass a fresh one)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import REGISTRY, CollectorRegistry

# The slow endpoint's default range of seconds (the scenario's expectations quote it).
SLOW_ENDPOINT_SECONDS: tuple[float, float] = (0.6, 1.4)


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str
    seed: int = 1
    # Real seconds slept per simulated second of LLM / node time (recorded figures stay realistic).
    time_scale: float = 0.05
    registry: CollectorRegistry = field(default=REGISTRY)
    # bo1's global IP limiter (sliding window per minute) and per-user session creation limit.
    global_rate_limit_per_minute: int = 3000
    session_create_limit_per_hour: int = 200
    cost_batch_size: int = 20
    cost_flush_interval_s: float = 2.0
    # Real (unscaled) seconds the deliberately slow endpoint takes: GET /api/v1/costs/summary.
    slow_endpoint_seconds: tuple[float, float] = SLOW_ENDPOINT_SECONDS
    # Real seconds between two rounds of the workload's periodic tasks: the LLM health probe, the
    # persistence worker, the simulated upload scans, and its own poll of the on-demand health endpoints
    # (bo1 sets those gauges only when someone requests them; the look-alike requests them itself).
    monitor_interval_s: float = 5.0
    # Every n-th Redis call of the global rate limiter fails (a simulated timeout: it fails open and
    # reconnects); 0 turns the fault off.
    redis_fault_every: int = 250
    # Every n-th SSE stream finds Redis pub/sub unavailable and is served by polling Postgres; 0: never.
    sse_pubsub_failure_every: int = 8
    # Per-session LLM budget (USD): session_budget_alerts_total warns at 80 % and says exceeded at 100 %.
    session_budget_usd: float = 0.45
