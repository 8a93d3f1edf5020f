"""Session events: RPUSH to events_history:{id} (7 d TTL) and PUBLISH on events:{id}, as bo1 does."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from redis.asyncio import Redis

from bo1dash.workload.metrics import Bo1Metrics

HISTORY_TTL_S = 7 * 24 * 3600
TERMINAL_EVENTS = frozenset({"complete", "error", "session_killed", "session_terminated"})


def history_key(session_id: str) -> str:
    return f"events_history:{session_id}"


def channel(session_id: str) -> str:
    return f"events:{session_id}"


@dataclass
class EventPublisher:
    redis: Redis
    metrics: Bo1Metrics
    _sequences: dict[str, int] = field(default_factory=dict)

    async def publish(self, session_id: str, event_type: str, data: dict[str, object] | None = None) -> None:
        sequence = self._sequences.get(session_id, 0) + 1
        self._sequences[session_id] = sequence
        payload = json.dumps(
            {
                "event_type": event_type,
                "session_id": session_id,
                "sequence": sequence,
                "timestamp": datetime.now(UTC).isoformat(),
                "data": data or {},
            }
        )
        started = time.perf_counter()
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.rpush(history_key(session_id), payload)
            pipe.expire(history_key(session_id), HISTORY_TTL_S)
            pipe.publish(channel(session_id), payload)
            await pipe.execute()
        self.metrics.event_publish_latency_seconds.observe(time.perf_counter() - started)
        self.metrics.event_type_published_total.labels(event_type).inc()
