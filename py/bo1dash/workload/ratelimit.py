"""bo1's Redis sliding-window limiters: global_ip_limit:{ip} (middleware) and user_rate_limit:{action}:{user}."""

from __future__ import annotations

import hashlib
import time
import uuid

from redis.asyncio import Redis
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

EXEMPT_PREFIXES = ("/metrics", "/api/health", "/api/ready")


async def hit_window(redis: Redis, key: str, window_s: int, limit: int) -> bool:
    """Record one hit in the sorted set `key`; True when the window still admits it."""
    now = time.time()
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zremrangebyscore(key, 0, now - window_s)
        pipe.zadd(key, {f"{now}:{uuid.uuid4().hex[:8]}": now})
        pipe.zcard(key)
        pipe.expire(key, window_s + 1)
        _, _, count, _ = await pipe.execute()
    return int(count) <= limit


class GlobalRateLimitMiddleware:
    """Pure ASGI middleware (streams pass through untouched); 429 when the IP's window is full."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        state = scope["app"].state.workload
        client = scope.get("client")
        ip = client[0] if client else "unknown"
        limit = state.settings.global_rate_limit_per_minute
        if state.redis_faults.tick():
            # Redis timed out: bo1's limiter fails open, reports itself degraded, and reconnects.
            state.metrics.rate_limiter_redis_failures_total.inc()
            state.metrics.rate_limiter_degraded.set(1)
            state.metrics.redis_reconnect_attempts_total.inc()
            await self.app(scope, receive, send)
            return
        allowed = await hit_window(state.redis, f"global_ip_limit:{ip}", 60, limit)
        state.metrics.rate_limiter_degraded.set(0)
        if not allowed:
            state.metrics.global_rate_limit_hits_total.inc()
            state.metrics.global_rate_limit_blocked_total.labels(hashlib.sha256(ip.encode()).hexdigest()[:8]).inc()
            await JSONResponse({"detail": "Too many requests"}, status_code=429)(scope, receive, send)
            return
        await self.app(scope, receive, send)
