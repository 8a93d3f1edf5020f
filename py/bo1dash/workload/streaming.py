"""GET /api/v1/sessions/{session_id}/stream: a real SSE stream fed by Redis pub/sub.

Subscribes to events:{id} first, replays events_history:{id}, then forwards live events until a
terminal event arrives (or, for a session that already ended, right after the replay). A client
that leaves is noticed by the server when it next writes (a keep-alive comment every few seconds).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from bo1dash.workload import db
from bo1dash.workload.events import TERMINAL_EVENTS, channel, history_key
from bo1dash.workload.state import WorkloadState

KEEPALIVE_S = 5.0
LIVE_STATUSES = ("created", "running")


def sse_frame(event: dict[str, object]) -> str:
    return f"id: {event['sequence']}\nevent: {event['event_type']}\ndata: {json.dumps(event)}\n\n"


async def session_events(state: WorkloadState, session_id: str) -> AsyncIterator[str]:
    pubsub = state.redis.pubsub()
    await pubsub.subscribe(channel(session_id))
    try:
        last_sequence = 0
        for raw in await state.redis.lrange(history_key(session_id), 0, -1):
            event = json.loads(raw)
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
