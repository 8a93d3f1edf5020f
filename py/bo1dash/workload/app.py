"""create_app(settings): the bo1 look-alike FastAPI app."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from prometheus_client import REGISTRY, GCCollector, PlatformCollector, ProcessCollector
from redis.asyncio import Redis

from bo1dash.workload.background import run_llm_probe, run_monitor
from bo1dash.workload.broker import PromptBroker
from bo1dash.workload.cadence import Every
from bo1dash.workload.cost_tracker import CostTracker
from bo1dash.workload.events import EventPublisher
from bo1dash.workload.http_metrics import attach_http_metrics
from bo1dash.workload.metrics import create_metrics, normalize_path
from bo1dash.workload.pricing import load_prices
from bo1dash.workload.provider import SimulatedProvider
from bo1dash.workload.quality import QualityChecks
from bo1dash.workload.ratelimit import GlobalRateLimitMiddleware
from bo1dash.workload.routes_misc import router as misc_router
from bo1dash.workload.routes_sessions import router as sessions_router
from bo1dash.workload.session_cache import SessionMetadataCache
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
        publisher=EventPublisher(redis, metrics, settings.database_url),
        tracker=tracker,
        broker=PromptBroker(provider, tracker, metrics, redis, settings.time_scale),
        rng=random.Random(settings.seed),
        quality=QualityChecks(metrics, settings.seed),
        session_cache=SessionMetadataCache(metrics, redis, settings.database_url),
        redis_faults=Every(settings.redis_fault_every),
        sse_pubsub_failures=Every(settings.sse_pubsub_failure_every),
    )


async def _flush_periodically(state: WorkloadState) -> None:
    while True:
        await asyncio.sleep(state.settings.cost_flush_interval_s)
        await state.tracker.flush()


def _count_endpoint_error(request: Request, status: int) -> None:
    """bo1_api_endpoint_errors_total, keyed by bo1's normalize_path() of the raw path."""
    state: WorkloadState = request.app.state.workload
    state.metrics.api_endpoint_errors_total.labels(normalize_path(request.url.path), str(status)).inc()


async def _unhandled_error(request: Request, exc: Exception) -> JSONResponse:
    """bo1's catch-all: a JSON 500 (Starlette still re-raises afterwards and closes the connection)."""
    _count_endpoint_error(request, 500)
    return JSONResponse({"detail": "Internal server error", "error": type(exc).__name__}, status_code=500)


async def _http_error(request: Request, exc: Exception) -> Response:
    """bo1's HTTPException handler: counts every error status, then answers as FastAPI does."""
    assert isinstance(exc, HTTPException)
    if exc.status_code >= 400:
        _count_endpoint_error(request, exc.status_code)
    return await http_exception_handler(request, exc)


def _milliseconds(since: float) -> float:
    return (time.perf_counter() - since) * 1000


def create_app(settings: Settings) -> FastAPI:
    """The app; its /metrics serves `settings.registry` (bo1 serves the default REGISTRY)."""
    if settings.registry is not REGISTRY:
        ProcessCollector(registry=settings.registry)
        PlatformCollector(registry=settings.registry)
        GCCollector(registry=settings.registry)
    init_started = time.perf_counter()
    state = _build_state(settings)
    startup = state.metrics.api_startup_duration_ms

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        lifespan_started = time.perf_counter()
        workers = [
            asyncio.create_task(_flush_periodically(state)),
            asyncio.create_task(state.publisher.run_persistence()),
            asyncio.create_task(run_llm_probe(state)),
            asyncio.create_task(run_monitor(state)),
        ]
        startup.labels("lifespan").set(_milliseconds(lifespan_started))
        startup.labels("total").set(_milliseconds(init_started))
        try:
            yield
        finally:
            tasks = list(state.tasks.values())
            for task in [*workers, *tasks]:
                task.cancel()
            await asyncio.gather(*workers, *tasks, return_exceptions=True)
            with suppress(Exception):
                await state.tracker.flush()
            with suppress(Exception):
                await state.publisher.flush()
            await state.redis.aclose()

    app = FastAPI(title="bo1 look-alike", lifespan=lifespan)
    app.state.workload = state
    app.state.known_users = set()
    app.add_exception_handler(Exception, _unhandled_error)
    app.add_middleware(GlobalRateLimitMiddleware)
    app.include_router(misc_router)
    app.include_router(sessions_router)
    app.add_exception_handler(HTTPException, _http_error)
    attach_http_metrics(app, settings.registry)
    startup.labels("module_init").set(_milliseconds(init_started))
    return app
