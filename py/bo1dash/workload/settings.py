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
