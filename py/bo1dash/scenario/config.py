"""How big a scenario is; everything else follows from the seed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScenarioConfig:
    live_users: int = 6
    completed: int = 8
    failed: int = 2
    killed: int = 2
    terminated: int = 2
    running: int = 3          # left running at the end, each with an open SSE stream
    never_started: int = 1    # created, never started (status stays 'created')
    wave_size: int = 4        # completed/failed sessions run this many at a time
    errors_500: int = 6       # POST /api/v1/context with a non-numeric revenue
    context_ok: int = 18      # POST /api/v1/context that succeed
    not_found: int = 5        # GET /api/v1/sessions/{session_id} of unknown ids
    slow_calls: int = 5       # GET /api/v1/costs/summary (the slow endpoint)
    backfill_days: int = 14
    backfill_users: int = 8
    backfill_sessions_per_day: tuple[int, int] = (4, 9)
    min_live_seconds: float = 75.0  # background traffic keeps going at least this long
    background_interval_s: float = 1.0


SMALL = ScenarioConfig(
    live_users=3, completed=2, failed=1, killed=1, terminated=1, running=2, never_started=1, wave_size=3,
    errors_500=2, context_ok=3, not_found=2, slow_calls=1, backfill_days=3, backfill_users=3,
    backfill_sessions_per_day=(2, 3), min_live_seconds=0.0, background_interval_s=0.5,
)
