"""bo1's session metadata: dual-written to Redis (metadata:{id}) and Postgres, read through an
in-process cache, with a Postgres fallback when Redis has lost it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from redis.asyncio import Redis

from bo1dash.workload import db
from bo1dash.workload.metrics import Bo1Metrics

CACHE_TTL_S = 300.0
METADATA_TTL_S = 7 * 24 * 3600


def metadata_key(session_id: str) -> str:
    return f"metadata:{session_id}"


@dataclass
class SessionMetadataCache:
    metrics: Bo1Metrics
    redis: Redis
    database_url: str
    entries: dict[str, tuple[float, str]] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0

    async def write(self, session_id: str, user_id: str, status: str) -> None:
        """The Redis half of bo1's dual write (the Postgres row is the session insert before it)."""
        try:
            payload = json.dumps({"user_id": user_id, "status": status})
            await self.redis.set(metadata_key(session_id), payload, ex=METADATA_TTL_S)
        except Exception:
            self.metrics.redis_metadata_dualwrite_total.labels("failure").inc()
            raise
        self.metrics.redis_metadata_dualwrite_total.labels("success").inc()

    async def owner(self, session_id: str) -> str | None:
        """The user owning the session, or None when there is no such session."""
        now = time.monotonic()
        entry = self.entries.get(session_id)
        if entry is not None and now - entry[0] < CACHE_TTL_S:
            self.hits += 1
            self.metrics.session_metadata_cache_hits_total.inc()
            self.metrics.cache_hits_total.labels("session_metadata").inc()
            return entry[1]
        self.misses += 1
        self.metrics.session_metadata_cache_misses_total.inc()
        self.metrics.cache_misses_total.labels("session_metadata").inc()
        raw = await self.redis.get(metadata_key(session_id))
        if raw is not None:
            owner = str(json.loads(raw)["user_id"])
        else:
            row = await db.get_session(self.database_url, session_id)
            self.metrics.redis_metadata_fallback_total.labels("success" if row else "failure").inc()
            if row is None:
                return None
            owner = str(row["user_id"])
            await self.write(session_id, owner, str(row["status"]))
        self.entries[session_id] = (now, owner)
        return owner
