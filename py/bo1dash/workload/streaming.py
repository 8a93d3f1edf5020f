"""GET /api/v1/sessions/{session_id}/stream: a real SSE stream fed by Redis pub/sub.

Subscribes to events:{id} first, replays events_history:{id}, then forwards live events until a
terminal event arrives (or, for a session that already ended, right after the replay). A client
that leaves is noticed by the server when it next writes (a keep-alive comment every few seconds).

A client that comes back sends Last-Event-ID: bo1 counts the reconnect (and the gap since that
session's last stream ended), replays only what came after it, and rejects an id the session never
published. When pub/sub is unavailable (simulated on every `sse_pubsub_failure_every`-th stream:
the subscription fails with a connection error), bo1 serves the stream by polling session_events in
Postgres instead.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import psycopg
from psycopg.rows import dict_row

from bo1dash.workload import db
from bo1dash.workload.events import TERMINAL_EVENTS, channel, history_key
from bo1dash.workload.state import WorkloadState

KEEPALIVE_S = 5.0
POLL_INTERVAL_S = 0.5
LIVE_STATUSES = ("created", "running")
SESSION_LABEL_LENGTH = 8  # bo1's truncate_label()
POLL_SQL = (
    "SELECT event_type, session_id, sequence, created_at, data FROM session_events "
    "WHERE session_id = %s AND sequence > %s ORDER BY sequence"
)


class ReconnectRejected(ValueError):
    """Last-Event-ID names no event of the session."""


def sse_frame(event: dict[str, object]) -> str:
    return f"id: {event['sequence']}\nevent: {event['event_type']}\ndata: {json.dumps(event)}\n\n"


async def check_reconnect(state: WorkloadState, session_id: str, last_event_id: str | None) -> int:
    """The sequence to resume after (0 for a first connection); raises ReconnectRejected."""
    if last_event_id is None:
        return 0
    label = session_id[:SESSION_LABEL_LENGTH]
    published = await state.redis.llen(history_key(session_id))
    if not last_event_id.isdigit() or int(last_event_id) > published:
        state.metrics.sse_reconnect_rejected_total.labels(label).inc()
        raise ReconnectRejected(f"Last-Event-ID {last_event_id!r} is not an event of this session")
    state.metrics.sse_reconnect_total.labels(label).inc()
    left = state.stream_disconnects.get(session_id)
    if left is not None:
        state.metrics.sse_reconnect_gap_seconds.observe(time.monotonic() - left)
    return int(last_event_id)


async def session_events(state: WorkloadState, session_id: str, after: int = 0) -> AsyncIterator[str]:
    try:
        if state.sse_pubsub_failures.tick():
            stream = _polled_events(state, session_id, after, "connection_error")
        else:
            stream = _pubsub_events(state, session_id, after)
        async for frame in stream:
            yield frame
    finally:
        state.stream_disconnects[session_id] = time.monotonic()


async def _pubsub_events(state: WorkloadState, session_id: str, after: int) -> AsyncIterator[str]:
    pubsub = state.redis.pubsub()
    await pubsub.subscribe(channel(session_id))
    try:
        last_sequence = after
        for raw in await state.redis.lrange(history_key(session_id), 0, -1):
            event = json.loads(raw)
            if int(event["sequence"]) <= after:
                continue
            last_sequence = int(event["sequence"])
            yield sse_frame(event)
            if event["event_type"] in TERMINAL_EVENTS:
                return
        row = await db.get_session(state.settings.database_url, session_id)
        if row is None or row["status"] not in LIVE_STATUSES:
            return
        yield ": connected\n\n"
        quiet = 0.0
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is None:
                quiet += 1.0
                if quiet >= KEEPALIVE_S:
                    quiet = 0.0
                    yield ": keepalive\n\n"
                continue
            quiet = 0.0
            event = json.loads(message["data"])
            if int(event["sequence"]) <= last_sequence:
                continue
            last_sequence = int(event["sequence"])
            yield sse_frame(event)
            if event["event_type"] in TERMINAL_EVENTS:
                return
    finally:
        await pubsub.unsubscribe()
        await pubsub.aclose()


async def _poll(database_url: str, session_id: str, after: int) -> list[dict[str, object]]:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        cur = await conn.execute(POLL_SQL, (session_id, after))
        rows = await cur.fetchall()
    return [
        {
            "event_type": r["event_type"],
            "session_id": r["session_id"],
            "sequence": r["sequence"],
            "timestamp": r["created_at"].isoformat(),
            "data": r["data"],
        }
        for r in rows
    ]


async def _polled_events(state: WorkloadState, session_id: str, after: int, reason: str) -> AsyncIterator[str]:
    """bo1's EventPoller: the session's persisted events, polled until its terminal event."""
    m = state.metrics
    m.sse_fallback_activations_total.labels(session_id[:SESSION_LABEL_LENGTH], reason).inc()
    m.sse_fallback_active.inc()
    try:
        last_sequence = after
        quiet = 0.0
        first = True
        while True:
            started = time.perf_counter()
            events = await _poll(state.settings.database_url, session_id, last_sequence)
            m.sse_polling_duration_seconds.observe(time.perf_counter() - started)
            m.sse_polling_events_per_batch.observe(len(events))
            for event in events:
                last_sequence = int(event["sequence"])  # type: ignore[call-overload]
                yield sse_frame(event)
                if event["event_type"] in TERMINAL_EVENTS:
                    return
            if first:
                first = False
                row = await db.get_session(state.settings.database_url, session_id)
                ended = row is None or row["status"] not in LIVE_STATUSES
                # An ended session with nothing new: done, unless some of its events await persistence.
                if ended and not events and last_sequence >= await state.redis.llen(history_key(session_id)):
                    return
                yield ": connected\n\n"
            quiet = 0.0 if events else quiet + POLL_INTERVAL_S
            if quiet >= KEEPALIVE_S:
                quiet = 0.0
                yield ": keepalive\n\n"
            await asyncio.sleep(POLL_INTERVAL_S)
    finally:
        m.sse_fallback_active.dec()
