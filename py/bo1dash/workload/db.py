"""bo1's repository writes and reads for users and sessions (async psycopg, one connection per call)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row

Row = dict[str, Any]

SESSION_COLUMNS = (
    "id, user_id, problem_statement, status, phase, round_number, total_cost, created_at, updated_at, "
    "completed_at, terminated_at, killed_by, kill_reason, termination_type"
)


async def _execute(url: str, query: str, params: tuple[object, ...]) -> list[Row]:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True, row_factory=dict_row) as conn:
        cur = await conn.execute(query, params)
        return await cur.fetchall() if cur.description else []


async def upsert_user(url: str, user_id: str, email: str) -> None:
    """First request of a user creates its row (bo1 syncs SuperTokens users the same way)."""
    await _execute(
        url,
        "INSERT INTO users (id, email, auth_provider) VALUES (%s, %s, 'emailpassword') ON CONFLICT (id) DO NOTHING",
        (user_id, email),
    )


async def create_session(url: str, session_id: str, user_id: str, problem: str, context: dict[str, Any]) -> Row:
    rows = await _execute(
        url,
        f"INSERT INTO sessions (id, user_id, problem_statement, problem_context, status, phase) "
        f"VALUES (%s, %s, %s, %s, 'created', 'intake') RETURNING {SESSION_COLUMNS}",
        (session_id, user_id, problem, json.dumps(context)),
    )
    return rows[0]


async def get_session(url: str, session_id: str) -> Row | None:
    rows = await _execute(url, f"SELECT {SESSION_COLUMNS} FROM sessions WHERE id = %s", (session_id,))
    return rows[0] if rows else None


async def list_sessions(url: str, user_id: str) -> list[Row]:
    return await _execute(
        url,
        f"SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = %s ORDER BY created_at DESC LIMIT 50",
        (user_id,),
    )


async def update_status(url: str, session_id: str, status: str) -> None:
    """bo1's update_status(): status and updated_at = NOW() (completed_at and killed_at untouched)."""
    await _execute(url, "UPDATE sessions SET status = %s, updated_at = NOW() WHERE id = %s", (status, session_id))


async def update_phase(url: str, session_id: str, phase: str) -> None:
    await _execute(url, "UPDATE sessions SET phase = %s, updated_at = NOW() WHERE id = %s", (phase, session_id))


async def complete_session(url: str, session_id: str, rounds: int, total_cost: Decimal, experts: int) -> None:
    await _execute(
        url,
        "UPDATE sessions SET status = 'completed', phase = 'complete', round_number = %s, total_cost = %s, "
        "expert_count = %s, updated_at = NOW() WHERE id = %s",
        (rounds, total_cost.quantize(Decimal("0.0001")), experts, session_id),
    )


async def kill_session(url: str, session_id: str, killed_by: str, reason: str) -> None:
    await _execute(
        url,
        "UPDATE sessions SET status = 'killed', killed_by = %s, kill_reason = %s, updated_at = NOW() WHERE id = %s",
        (killed_by, reason, session_id),
    )


async def terminate_session(url: str, session_id: str, termination_type: str, reason: str) -> None:
    await _execute(
        url,
        "UPDATE sessions SET status = 'terminated', termination_type = %s, termination_reason = %s, "
        "terminated_at = NOW(), updated_at = NOW() WHERE id = %s",
        (termination_type, reason, session_id),
    )


async def user_month_usage(url: str, user_id: str) -> Row:
    rows = await _execute(
        url,
        "SELECT count(*) AS calls, coalesce(sum(total_cost), 0) AS total_cost FROM api_costs "
        "WHERE user_id = %s AND created_at >= date_trunc('month', now())",
        (user_id,),
    )
    return rows[0]


async def cost_summary(url: str, user_id: str) -> list[Row]:
    return await _execute(
        url,
        "SELECT provider, model_name, count(*) AS calls, sum(total_cost) AS total_cost, sum(total_tokens) AS tokens "
        "FROM api_costs WHERE user_id = %s GROUP BY provider, model_name ORDER BY provider, model_name",
        (user_id,),
    )


async def get_session_context(url: str, session_id: str) -> dict[str, Any]:
    rows = await _execute(url, "SELECT problem_context FROM sessions WHERE id = %s", (session_id,))
    return (rows[0]["problem_context"] or {}) if rows else {}
