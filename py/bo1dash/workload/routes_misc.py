"""Health, readiness and a few more bo1 routes (usage, cost summary, business context)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Depends, Request

from bo1dash.workload import db
from bo1dash.workload.auth import current_user, workload_state
from bo1dash.workload.health import cache_hit_rates, db_pool_health, health_check, redis_pool_health
from bo1dash.workload.state import WorkloadState

router = APIRouter()


@router.get("/api/health")
async def health(state: WorkloadState = Depends(workload_state)) -> dict[str, Any]:
    return health_check(state, state.process)


@router.get("/api/health/db/pool")
async def health_db_pool(state: WorkloadState = Depends(workload_state)) -> dict[str, Any]:
    return await db_pool_health(state)


@router.get("/api/health/redis/pool")
async def health_redis_pool(state: WorkloadState = Depends(workload_state)) -> dict[str, Any]:
    return redis_pool_health(state)


@router.get("/api/admin/cache-metrics")
async def admin_cache_metrics(state: WorkloadState = Depends(workload_state)) -> dict[str, Any]:
    return {"hit_rates": cache_hit_rates(state)}


@router.get("/api/ready")
async def ready(state: WorkloadState = Depends(workload_state)) -> dict[str, Any]:
    await state.redis.ping()
    await db.user_month_usage(state.settings.database_url, "__readiness__")
    return {"ready": True}


@router.get("/api/v1/user/usage")
async def usage(user_id: str = Depends(current_user), state: WorkloadState = Depends(workload_state)) -> dict[str, Any]:
    url = state.settings.database_url
    row = await state.tracker.cached_aggregate(f"usage:{user_id}", lambda: db.user_month_usage(url, user_id))
    return {"user_id": user_id, "calls": row["calls"], "month_to_date_usd": str(row["total_cost"])}


@router.get("/api/v1/costs/summary")
async def costs_summary(
    user_id: str = Depends(current_user), state: WorkloadState = Depends(workload_state)
) -> dict[str, Any]:
    """The slow endpoint: an unindexed-looking aggregation that takes about a second."""
    low, high = state.settings.slow_endpoint_seconds
    await asyncio.sleep(state.rng.uniform(low, high))
    rows = await db.cost_summary(state.settings.database_url, user_id)
    return {"user_id": user_id, "by_model": json.loads(json.dumps(rows, default=str))}


@router.post("/api/v1/context")
async def save_context(
    request: Request, user_id: str = Depends(current_user), state: WorkloadState = Depends(workload_state)
) -> dict[str, Any]:
    """Stores business context in Redis. `revenue` is parsed without validation: a non-number is a 500."""
    body = await request.json()
    context = dict(body.get("context") or {})
    if "revenue" in context:
        context["revenue"] = float(context["revenue"])
    await state.redis.set(f"user_context:{user_id}", json.dumps(context), ex=3600)
    return {"user_id": user_id, "saved": sorted(context)}
