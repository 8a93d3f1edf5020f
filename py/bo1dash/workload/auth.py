"""Auth stand-in for SuperTokens: the X-User-Id header names the user; its row is upserted once."""

from __future__ import annotations

from fastapi import Header, HTTPException, Request

from bo1dash.workload import db
from bo1dash.workload.state import WorkloadState


def workload_state(request: Request) -> WorkloadState:
    return request.app.state.workload


async def current_user(
    request: Request, x_user_id: str | None = Header(default=None), x_user_email: str | None = Header(default=None)
) -> str:
    if not x_user_id:
        raise HTTPException(status_code=401, detail="Not authenticated")
    state = workload_state(request)
    known: set[str] = request.app.state.known_users
    if x_user_id not in known:
        await db.upsert_user(state.settings.database_url, x_user_id, x_user_email or f"{x_user_id}@users.bo1.test")
        known.add(x_user_id)
    return x_user_id
