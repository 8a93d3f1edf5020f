"""Session events as bo1 publishes and persists them.

Publishing: RPUSH to events_history:{id} (7 d TTL) and PUBLISH on events:{id}, at once and in order.
Persisting: bo1's event batcher queues each event for Postgres (session_events); critical events
(a session's start and its end) flush the queue at once, the others go in batches of up to
BATCH_MAX or every BATCH_WINDOW_S. A batch Postgres refuses goes to the retry queue
(failed_events:queue, a sorted set) and is retried; one that fails MAX_RETRIES times goes to the
dead letter queue (failed_events:dlq).

Simulated faults (fixed cadence): every `redis_blip_every`-th publish finds Redis disconnected (the
event waits in the publisher's buffer while it reconnects), every `batch_failure_every`-th batch
insert and every `retry_failure_every`-th retry fail as a dropped connection would.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
from redis.asyncio import Redis

from bo1dash.workload.cadence import Every
from bo1dash.workload.metrics import Bo1Metrics

LOG = logging.getLogger(__name__)
HISTORY_TTL_S = 7 * 24 * 3600
TERMINAL_EVENTS = frozenset({"complete", "error", "session_killed", "session_terminated"})
CRITICAL_EVENTS = TERMINAL_EVENTS | {"session_started"}
RETRY_QUEUE_KEY = "failed_events:queue"
DLQ_KEY = "failed_events:dlq"
BATCH_MAX = 10
BATCH_WINDOW_S = 0.25
RETRY_DELAY_S = 1.0
MAX_RETRIES = 3
INSERT_SQL = (
    "INSERT INTO session_events (session_id, event_type, sequence, data, created_at) VALUES (%s, %s, %s, %s, %s)"
)


def history_key(session_id: str) -> str:
    return f"events_history:{session_id}"


def channel(session_id: str) -> str:
    return f"events:{session_id}"


def _row(event: dict[str, Any]) -> tuple[object, ...]:
    return (
        event["session_id"],
        event["event_type"],
        event["sequence"],
        json.dumps(event["data"]),
        datetime.fromisoformat(event["timestamp"]),
    )


class PersistenceFault(psycopg.OperationalError):
    """The simulated dropped connection of a batch or retry insert."""


@dataclass
class EventPublisher:
    redis: Redis
    metrics: Bo1Metrics
    database_url: str = ""
    redis_blips: Every = field(default_factory=lambda: Every(300))
    batch_failures: Every = field(default_factory=lambda: Every(15))
    retry_failures: Every = field(default_factory=lambda: Every(4))
    _sequences: dict[str, int] = field(default_factory=dict)
    _pending: list[dict[str, Any]] = field(default_factory=list)
    _buffer: list[str] = field(default_factory=list)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def publish(self, session_id: str, event_type: str, data: dict[str, object] | None = None) -> None:
        sequence = self._sequences.get(session_id, 0) + 1
        self._sequences[session_id] = sequence
        event = {
            "event_type": event_type,
            "session_id": session_id,
            "sequence": sequence,
            "timestamp": datetime.now(UTC).isoformat(),
            "data": data or {},
        }
        payload = json.dumps(event)
        started = time.perf_counter()
        if self.redis_blips.tick():
            await self._reconnect_with(payload)
        else:
            await self._deliver(session_id, payload)
        self.metrics.event_publish_latency_seconds.observe(time.perf_counter() - started)
        self.metrics.event_type_published_total.labels(event_type).inc()
        self._queue(event)

    async def _deliver(self, session_id: str, payload: str) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.rpush(history_key(session_id), payload)
            pipe.expire(history_key(session_id), HISTORY_TTL_S)
            pipe.publish(channel(session_id), payload)
            await pipe.execute()

    async def _reconnect_with(self, payload: str) -> None:
        """Redis dropped the connection: buffer the event, reconnect, then send the buffer in order."""
        self._buffer.append(payload)
        self.metrics.redis_buffer_depth.set(len(self._buffer))
        self.metrics.redis_reconnect_attempts_total.inc()
        while self._buffer:
            raw = self._buffer.pop(0)
            await self._deliver(json.loads(raw)["session_id"], raw)
            self.metrics.redis_buffer_depth.set(len(self._buffer))

    def _queue(self, event: dict[str, Any]) -> None:
        critical = event["event_type"] in CRITICAL_EVENTS
        self.metrics.events_batched_total.labels("critical" if critical else "normal_or_low").inc()
        self._pending.append(event)
        self._set_pending()
        if critical or len(self._pending) >= BATCH_MAX:
            self._wake.set()

    def _set_pending(self) -> None:
        self.metrics.pending_events.set(len(self._pending))
        self.metrics.event_batch_queue_depth.set(len(self._pending))

    async def run_persistence(self) -> None:
        """The batcher's loop: flush on a critical event, a full batch, or every BATCH_WINDOW_S."""
        last_retry = time.monotonic()
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=BATCH_WINDOW_S)
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                await self.flush()
                if time.monotonic() - last_retry >= RETRY_DELAY_S:
                    last_retry = time.monotonic()
                    await self.retry_failed()
            except Exception as error:  # noqa: BLE001 - the loop outlives one bad round
                LOG.warning("event persistence: %s", error)

    async def flush(self) -> None:
        async with self._lock:
            batch, self._pending = self._pending, []
            self._set_pending()
            if not batch:
                return
            started = time.perf_counter()
            try:
                await self._insert(batch, self.batch_failures)
            except psycopg.Error:
                await self._enqueue_failed(batch, attempts=0)
            seconds = time.perf_counter() - started
            self.metrics.event_persistence_batch_size.observe(len(batch))
            self.metrics.event_persistence_duration_seconds.observe(seconds)
            self.metrics.event_batch_size.observe(len(batch))
            self.metrics.event_batch_latency_ms.observe(seconds * 1000)
            await self._set_retry_depth()

    async def _insert(self, batch: list[dict[str, Any]], faults: Every) -> None:
        if faults.tick():
            raise PersistenceFault("connection to server was lost (simulated)")
        async with await psycopg.AsyncConnection.connect(self.database_url, autocommit=True) as conn:
            async with conn.cursor() as cur:
                await cur.executemany(INSERT_SQL, [_row(e) for e in batch])

    async def _enqueue_failed(self, batch: list[dict[str, Any]], attempts: int) -> None:
        due = time.time() + RETRY_DELAY_S
        members = {json.dumps({"event": e, "attempts": attempts}): due for e in batch}
        await self.redis.zadd(RETRY_QUEUE_KEY, members)

    async def retry_failed(self) -> None:
        """bo1's persistence worker: retry the due events of failed_events:queue as one batch."""
        due = [str(raw) for raw in await self.redis.zrangebyscore(RETRY_QUEUE_KEY, 0, time.time())]
        if not due:
            return
        await self.redis.zrem(RETRY_QUEUE_KEY, *due)
        items = [json.loads(raw) for raw in due]
        try:
            await self._insert([item["event"] for item in items], self.retry_failures)
        except psycopg.Error:
            self.metrics.event_persistence_retries_total.labels("failure").inc()
            attempts = max(int(item["attempts"]) for item in items) + 1
            if attempts >= MAX_RETRIES:
                await self.redis.zadd(DLQ_KEY, {raw: time.time() for raw in due})
            else:
                await self._enqueue_failed([item["event"] for item in items], attempts)
        else:
            self.metrics.event_persistence_retries_total.labels("success").inc()
        await self._set_retry_depth()

    async def _set_retry_depth(self) -> None:
        self.metrics.event_persistence_retry_queue_depth.set(await self.redis.zcard(RETRY_QUEUE_KEY))
