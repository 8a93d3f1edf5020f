"""The workload's periodic tasks: bo1's LLM health probe, its persistence worker's queue gauges, the
simulated ClamAV scans of uploads, and a monitor polling the on-demand health endpoints.

The probe runs every LLM_HEALTH_PROBE_TTL_S of simulated time (bo1: 30 s); the others every
`Settings.monitor_interval_s` real seconds. Outcomes follow a fixed cadence (`Every`), so the same
run gives the same figures.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bo1dash.workload.cadence import Every
from bo1dash.workload.events import DLQ_KEY, RETRY_QUEUE_KEY
from bo1dash.workload.health import cache_hit_rates, db_pool_health, redis_pool_health, stale_session_sweep
from bo1dash.workload.state import WorkloadState

LOG = logging.getLogger(__name__)
LLM_HEALTH_PROBE_TTL_S = 30.0
PROBED_PROVIDERS = ("anthropic", "openai")
THREAT = "Win.Test.EICAR_HDB-1"
STALE_SWEEP_EVERY = 6  # monitor rounds between two stale-session sweeps (each hits the statement timeout)


async def probe_providers(state: WorkloadState, round_index: int) -> None:
    """bo1's LLMHealthProbe: a tiny request per provider; down while an outage or an open breaker lasts."""
    m = state.metrics
    for provider in PROBED_PROVIDERS:
        breaker = state.broker.breakers.get(provider)
        down = state.broker.provider.outages.get(provider, 0) > 0 or (breaker is not None and breaker.state == "open")
        if down:
            m.llm_probe_failures_total.labels(provider, "overloadederror").inc()
            m.llm_provider_healthy.labels(provider).set(0)
            continue
        latency = random.Random(f"{state.settings.seed}:probe:{provider}:{round_index}").uniform(0.15, 0.9)
        m.llm_probe_latency_seconds.labels(provider).observe(latency)
        m.llm_provider_healthy.labels(provider).set(1)


@dataclass
class Antivirus:
    """bo1's ClamAV scans of uploaded files, one simulated upload per monitor round."""

    seed: int
    infected: Every = field(default_factory=lambda: Every(7))
    unavailable: Every = field(default_factory=lambda: Every(11))
    errors: Every = field(default_factory=lambda: Every(19))
    scanned: int = 0

    def scan(self, state: WorkloadState) -> str:
        m = state.metrics
        self.scanned += 1
        if self.unavailable.tick():
            m.file_pending_scan_total.inc()
            m.file_scan_total.labels("pending").inc()
            return "pending"
        seconds = random.Random(f"{self.seed}:scan:{self.scanned}").uniform(0.04, 1.8)
        m.file_scan_duration_seconds.observe(seconds)
        if self.errors.tick():
            result = "error"
        elif self.infected.tick():
            result = "infected"
            m.file_quarantine_total.labels(THREAT.split(".")[0]).inc()
        else:
            result = "clean"
        m.file_scan_total.labels(result).inc()
        return result


async def persistence_queue_depths(state: WorkloadState) -> None:
    """bo1's persistence worker loop: the retry queue and dead letter queue depths."""
    async with state.redis.pipeline(transaction=False) as pipe:
        pipe.zcard(RETRY_QUEUE_KEY)
        pipe.zcard(DLQ_KEY)
        queued, dead = await pipe.execute()
    state.metrics.event_retry_queue_depth.set(queued)
    state.metrics.event_dlq_depth.set(dead)


async def monitor_round(state: WorkloadState, antivirus: Antivirus, sweeps: Every) -> None:
    steps: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("db pool", lambda: db_pool_health(state)),
        ("persistence worker", lambda: persistence_queue_depths(state)),
    ]
    if sweeps.tick():
        steps.append(("stale session sweep", lambda: stale_session_sweep(state)))
    for name, step in steps:
        try:
            await step()
        except Exception as error:  # noqa: BLE001 - one failing probe must not stop the others
            LOG.warning("workload monitor: %s failed: %s", name, error)
    redis_pool_health(state)
    cache_hit_rates(state)
    antivirus.scan(state)


async def run_monitor(state: WorkloadState) -> None:
    antivirus = Antivirus(state.settings.seed)
    sweeps = Every(STALE_SWEEP_EVERY)
    while True:
        await monitor_round(state, antivirus, sweeps)
        await asyncio.sleep(state.settings.monitor_interval_s)


async def run_llm_probe(state: WorkloadState) -> None:
    index = 0
    while True:
        await probe_providers(state, index)
        index += 1
        await asyncio.sleep(LLM_HEALTH_PROBE_TTL_S * state.settings.time_scale)
