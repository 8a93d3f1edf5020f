"""What bo1's health endpoints compute: process figures, the database and Redis pools, cache hit rates.

Each function sets bo1's gauges as the endpoint does; the routes call them, and so does the
workload's own monitor (bo1 updates these only when someone requests the endpoint).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psutil
import psycopg

from bo1dash.workload.state import WorkloadState

DB_POOL_MAXCONN = 75  # bo1's DatabaseConfig: ThreadedConnectionPool(minconn=1, maxconn=75)
DB_POOL_DEGRADED_PCT = 90.0  # bo1's PoolDegradationConfig
# The connection the check runs on stands for the pool's idle connection (bo1 keeps minconn=1 open).
POOL_QUERY = (
    "SELECT count(*) FILTER (WHERE state <> 'idle' AND pid <> pg_backend_pid()), "
    "count(*) FILTER (WHERE state = 'idle' OR pid = pg_backend_pid()) "
    "FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'"
)
STATEMENT_TIMEOUT_QUERY = "SELECT pg_sleep(%s)"


def process_health(state: WorkloadState, process: psutil.Process) -> dict[str, Any]:
    """GET /api/health: bo1's psutil figures of its own process."""
    m = state.metrics
    with process.oneshot():
        figures = {
            "cpu_percent": process.cpu_percent(interval=None),
            "memory_percent": process.memory_percent(),
            "memory_rss_bytes": process.memory_info().rss,
            "open_fds": process.num_fds(),
            "threads": process.num_threads(),
        }
    m.process_cpu_percent.set(figures["cpu_percent"])
    m.process_memory_percent.set(figures["memory_percent"])
    m.process_memory_rss_bytes.set(figures["memory_rss_bytes"])
    m.process_open_fds.set(figures["open_fds"])
    m.process_threads.set(figures["threads"])
    return figures


def health_check(state: WorkloadState, process: psutil.Process) -> dict[str, Any]:
    started = time.perf_counter()
    figures = process_health(state, process)
    state.metrics.health_check_total.labels("healthy").inc()
    state.metrics.health_check_latency_seconds.observe(time.perf_counter() - started)
    return {"status": "healthy", "timestamp": time.time(), "process": figures}


def _pool_counts(database_url: str) -> tuple[int, int]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        busy, idle = conn.execute(POOL_QUERY).fetchone()  # type: ignore[misc]
    return int(busy), int(idle)


async def db_pool_health(state: WorkloadState) -> dict[str, Any]:
    """GET /api/health/db/pool. The look-alike opens a connection per call instead of a pool, so the
    pool it reports is the database's client connections: busy ones in use, idle ones free."""
    used, free = await asyncio.to_thread(_pool_counts, state.settings.database_url)
    opened = used + free
    utilization = 100.0 * used / opened if opened else 0.0
    degraded = 100.0 * used / DB_POOL_MAXCONN >= DB_POOL_DEGRADED_PCT
    m = state.metrics
    m.db_pool_used_connections.set(used)
    m.db_pool_free_connections.set(free)
    m.db_pool_utilization_percent.set(utilization)
    m.db_pool_degraded.set(1 if degraded else 0)
    m.db_pool_queue_depth.set(0)  # nothing waits: there is no pool to wait for
    return {"used": used, "free": free, "utilization_percent": utilization, "degraded": degraded}


def _sweep_with_timeout(database_url: str, timeout_ms: int) -> bool:
    """One statement that outlives its statement_timeout: True when Postgres cancelled it (57014)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"SET statement_timeout = {int(timeout_ms)}")
        try:
            conn.execute(STATEMENT_TIMEOUT_QUERY, (timeout_ms * 2 / 1000,))
        except psycopg.errors.QueryCanceled:
            return True
    return False


async def stale_session_sweep(state: WorkloadState, timeout_ms: int = 20) -> None:
    """bo1's periodic sweep of stale sessions, caught behind a lock: Postgres cancels it at the
    statement_timeout and bo1 counts it (bo1/state/database.py). The wait is a real pg_sleep."""
    if await asyncio.to_thread(_sweep_with_timeout, state.settings.database_url, timeout_ms):
        state.metrics.db_statement_timeout_total.inc()


def redis_pool_health(state: WorkloadState) -> dict[str, Any]:
    """GET /api/health/redis/pool: redis-py's pool figures. bo1 reads the utilization from a key its
    RedisManager does not return, so bo1_redis_pool_utilization_percent is always 0; so it is here."""
    pool = state.redis.connection_pool
    used = len(getattr(pool, "_in_use_connections", ()))
    free = len(getattr(pool, "_available_connections", ()))
    m = state.metrics
    m.redis_pool_used_connections.set(used)
    m.redis_pool_free_connections.set(free)
    m.redis_pool_utilization_percent.set(0)
    return {"used": used, "free": free, "max": pool.max_connections}


def _rate(hits: float, total: float) -> float:
    return hits / total if total else 0.0


def cache_hit_rates(state: WorkloadState) -> dict[str, float]:
    """The admin cache-metrics request: bo1_cache_hit_rate per cache (bo1 has no research cache hits
    in the look-alike's flow: it does not cache research)."""
    tracker, broker, cache = state.tracker, state.broker, state.session_cache
    rates = {
        "prompt": _rate(tracker.prompt_cache_hits, tracker.prompt_cache_calls),
        "research": 0.0,
        "llm": _rate(broker.llm_cache_hits, broker.llm_cache_lookups),
        "session_metadata": _rate(cache.hits, cache.hits + cache.misses),
    }
    for cache_type, rate in rates.items():
        state.metrics.cache_hit_rate.labels(cache_type).set(rate)
    return rates
