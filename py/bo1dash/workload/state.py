"""Everything one app instance holds (no module-level state: two apps can live in one process)."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

import psutil
from redis.asyncio import Redis

from bo1dash.workload.broker import PromptBroker
from bo1dash.workload.cadence import Every
from bo1dash.workload.cost_tracker import CostTracker
from bo1dash.workload.events import EventPublisher
from bo1dash.workload.metrics import Bo1Metrics
from bo1dash.workload.quality import QualityChecks
from bo1dash.workload.session_cache import SessionMetadataCache
from bo1dash.workload.settings import Settings


@dataclass
class WorkloadState:
    settings: Settings
    metrics: Bo1Metrics
    redis: Redis
    publisher: EventPublisher
    tracker: CostTracker
    broker: PromptBroker
    rng: random.Random
    quality: QualityChecks
    session_cache: SessionMetadataCache
    tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    process: psutil.Process = field(default_factory=psutil.Process)
    # Simulated Redis trouble: the rate limiter's calls and SSE subscriptions that fail (see Settings).
    redis_faults: Every = field(default_factory=lambda: Every(0))
    sse_pubsub_failures: Every = field(default_factory=lambda: Every(0))
    # When each session's last SSE stream ended (bo1 measures the reconnect gap from it).
    stream_disconnects: dict[str, float] = field(default_factory=dict)
