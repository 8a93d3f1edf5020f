"""create_app(settings): the bo1 look-alike FastAPI app."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from prometheus_client import REGISTRY, GCCollector, PlatformCollector, ProcessCollector
from redis.asyncio import Redis

from bo1dash.workload.broker import PromptBroker
from bo1dash.workload.cost_tracker import CostTracker
from bo1dash.workload.events import EventPublisher
from bo1dash.workload.http_metrics import attach_http_metrics
from bo1dash.workload.metrics import create_metrics
from bo1dash.workload.pricing import load_prices
from bo1dash.workload.provider import SimulatedProvider
from bo1dash.workload.quality import QualityChecks
from bo1dash.workload.ratelimit import GlobalRateLimitMiddleware
from bo1dash.workload.routes_misc import router as misc_router
from bo1dash.workload.routes_sessions import router as sessions_router
from bo1dash.workload.settings import Settings
from bo1dash.workload.state import WorkloadState


def _build_state(settings: Settings) -> WorkloadState:
    metrics = create_metrics(settings.registry)
    redis = Redis.from_url(settings.redis_url, decode_responses=True)
    tracker = CostTracker(
        settings.database_url,
        metrics,
        batch_size=settings.cost_batch_size,
        session_budget_usd=settings.session_budget_usd,
    )
    provider = SimulatedProvider(load_prices(), settings.seed)
    return WorkloadState(
        settings=settings,
        metrics=metrics,
        redis=redis,
        publisher=EventPublisher(redis, metrics),
        tracker=tracker,
        broker=PromptBroker(provider, tracker, metrics, redis, settings.time_scale),
        rng=random.Random(settings.seed),
        quality=QualityChecks(metrics, settings.seed),
    )


async def _flush_periodically(state: WorkloadState) -> None:
    while True:
        await asyncio.sleep(state.settings.cost_flush_interval_s)
        await state.tracker.flush()


async def _unhandled_error(request: Request, exc: Exception) -> JSONResponse:
    """bo1's catch-all: a JSON 500 (Starlette still re-raises afterwards and closes the connection)."""
    return JSONResponse({"detail": "Internal server error", "error": type(exc).__name__}, status_code=500)


def create_app(settings: Settings) -> FastAPI:
    """The app; its /metrics serves `settings.registry` (bo1 serves the default REGISTRY)."""
    if settings.registry is not REGISTRY:
        ProcessCollector(registry=settings.registry)
        PlatformCollector(registry=settings.registry)
        GCCollector(registry=settings.registry)
    state = _build_state(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        flusher = asyncio.create_task(_flush_periodically(state))
        try:
            yield
        finally:
            flusher.cancel()
            tasks = list(state.tasks.values())
            for task in tasks:
                task.cancel()
            await asyncio.gather(flusher, *tasks, return_exceptions=True)
            with suppress(Exception):
                await state.tracker.flush()
            await state.redis.aclose()

    app = FastAPI(title="bo1 look-alike", lifespan=lifespan)
    app.state.workload = state
    app.state.known_users = set()
    app.add_exception_handler(Exception, _unhandled_error)
    app.add_middleware(GlobalRateLimitMiddleware)
    app.include_router(misc_router)
    app.include_router(sessions_router)
    attach_http_metrics(app, settings.registry)
    return app
