"""Everything one app instance holds (no module-level state: two apps can live in one process)."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

from redis.asyncio import Redis

from bo1dash.workload.broker import PromptBroker
from bo1dash.workload.cost_tracker import CostTracker
from bo1dash.workload.events import EventPublisher
from bo1dash.workload.metrics import Bo1Metrics
from bo1dash.workload.quality import QualityChecks
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
    tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
