"""bo1's session routes (same templates, so the handler labels are bo1's)."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Header, HTTPException
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from bo1dash.workload import db
from bo1dash.workload.auth import current_user, workload_state
from bo1dash.workload.events import history_key
from bo1dash.workload.graph import Deliberation, Simulation
from bo1dash.workload.ratelimit import hit_window
from bo1dash.workload.state import WorkloadState
from bo1dash.workload.streaming import ReconnectRejected, check_reconnect, session_events

router = APIRouter(prefix="/api/v1/sessions", tags=["sessions"])


class CreateSession(BaseModel):
    problem_statement: str = Field(min_length=10, max_length=10000)
    problem_context: dict[str, Any] | None = None
    website: str | None = None  # bo1's honeypot field: hidden in the form, only bots fill it in


class KillRequest(BaseModel):
    reason: str = "user requested"


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(row, default=str))


async def _owned(state: WorkloadState, session_id: str, user_id: str) -> dict[str, Any]:
    """bo1's ownership check (through the session metadata cache), then the session row."""
    if await state.session_cache.owner(session_id) != user_id:
        raise HTTPException(status_code=404, detail="Session not found")
    row = await db.get_session(state.settings.database_url, session_id)
    if row is None or row["user_id"] != user_id:
        raise HTTPException(status_code=404, detail="Session not found")
    return row


@router.post("", status_code=201)
async def create_session(
    body: CreateSession, user_id: str = Depends(current_user), state: WorkloadState = Depends(workload_state)
) -> dict[str, Any]:
    if body.website:
        state.metrics.honeypot_triggered_total.labels("/api/v1/sessions", "website").inc()
        raise HTTPException(status_code=400, detail="Invalid request")
    try:
        Simulation.from_context(body.problem_context)
    except (TypeError, ValueError) as error:
        raise HTTPException(status_code=422, detail=str(error)) from error
    allowed = await hit_window(
        state.redis, f"user_rate_limit:session_create:{user_id}", 3600, state.settings.session_create_limit_per_hour
    )
    if not allowed:
        raise HTTPException(status_code=429, detail="Session creation limit reached")
    session_id = f"bo1_{uuid.uuid4()}"
    row = await db.create_session(
        state.settings.database_url, session_id, user_id, body.problem_statement, body.problem_context or {}
    )
    await state.session_cache.write(session_id, user_id, "created")
    state.metrics.sessions_total.labels("created").inc()
    return {"session_id": session_id, **_public(row)}


@router.get("")
async def list_sessions(
    user_id: str = Depends(current_user), state: WorkloadState = Depends(workload_state)
) -> dict[str, Any]:
    rows = await db.list_sessions(state.settings.database_url, user_id)
    return {"sessions": [_public(r) for r in rows], "total": len(rows)}


@router.get("/{session_id}")
async def get_session(
    session_id: str, user_id: str = Depends(current_user), state: WorkloadState = Depends(workload_state)
) -> dict[str, Any]:
    return _public(await _owned(state, session_id, user_id))


@router.post("/{session_id}/start", status_code=202)
async def start_session(
    session_id: str, user_id: str = Depends(current_user), state: WorkloadState = Depends(workload_state)
) -> dict[str, Any]:
    row = await _owned(state, session_id, user_id)
    if row["status"] != "created":
        raise HTTPException(status_code=409, detail=f"Session is {row['status']}")
    full = await db.get_session_context(state.settings.database_url, session_id)
    deliberation = Deliberation(
        session_id=session_id,
        user_id=user_id,
        problem=row["problem_statement"],
        sim=Simulation.from_context(full),
        database_url=state.settings.database_url,
        broker=state.broker,
        tracker=state.tracker,
        publisher=state.publisher,
        metrics=state.metrics,
        time_scale=state.settings.time_scale,
        quality=state.quality,
    )
    await db.update_status(state.settings.database_url, session_id, "running")
    task = asyncio.create_task(deliberation.run(), name=f"deliberation-{session_id}")
    state.tasks[session_id] = task
    task.add_done_callback(lambda _t: state.tasks.pop(session_id, None))
    return {"session_id": session_id, "status": "running"}


async def _stop_task(state: WorkloadState, session_id: str) -> None:
    task = state.tasks.pop(session_id, None)
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    await state.tracker.flush()


@router.post("/{session_id}/kill")
async def kill_session(
    session_id: str,
    body: KillRequest | None = None,
    user_id: str = Depends(current_user),
    state: WorkloadState = Depends(workload_state),
) -> dict[str, Any]:
    row = await _owned(state, session_id, user_id)
    if row["status"] not in ("created", "running"):
        raise HTTPException(status_code=409, detail=f"Session is {row['status']}")
    await _stop_task(state, session_id)
    await db.kill_session(state.settings.database_url, session_id, user_id, (body or KillRequest()).reason)
    await state.publisher.publish(session_id, "session_killed", {"killed_by": user_id})
    return {"session_id": session_id, "status": "killed"}


@router.post("/{session_id}/terminate")
async def terminate_session(
    session_id: str, user_id: str = Depends(current_user), state: WorkloadState = Depends(workload_state)
) -> dict[str, Any]:
    row = await _owned(state, session_id, user_id)
    if row["status"] not in ("created", "running"):
        raise HTTPException(status_code=409, detail=f"Session is {row['status']}")
    await _stop_task(state, session_id)
    await db.terminate_session(state.settings.database_url, session_id, "user_cancelled", "ended early by user")
    state.metrics.sessions_total.labels("terminated").inc()
    await state.publisher.publish(session_id, "session_terminated", {})
    return {"session_id": session_id, "status": "terminated"}


@router.get("/{session_id}/events")
async def session_history(
    session_id: str, user_id: str = Depends(current_user), state: WorkloadState = Depends(workload_state)
) -> dict[str, Any]:
    await _owned(state, session_id, user_id)
    raw = await state.redis.lrange(history_key(session_id), 0, -1)
    return {"session_id": session_id, "events": [json.loads(e) for e in raw]}


@router.get("/{session_id}/stream")
async def stream_session(
    session_id: str,
    user_id: str = Depends(current_user),
    state: WorkloadState = Depends(workload_state),
    last_event_id: str | None = Header(default=None),
) -> StreamingResponse:
    await _owned(state, session_id, user_id)
    try:
        after = await check_reconnect(state, session_id, last_event_id)
    except ReconnectRejected as error:
        raise HTTPException(status_code=400, detail=str(error)) from error
    return StreamingResponse(
        session_events(state, session_id, after),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
