"""How big a scenario is; everything else follows from the seed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScenarioConfig:
    live_users: int = 6
    completed: int = 8
    failed: int = 6  # failed sessions of the main traffic, node i % len(fail_nodes), wave i % waves
    fail_nodes: tuple[str, ...] = ("vote", "check_convergence", "synthesize")
    killed: int = 2
    terminated: int = 2
    running: int = 3  # left running at the end, each with an open SSE stream
    never_started: int = 1  # created, never started (status stays 'created')
    waves: int = 3  # the main traffic: sessions and planned requests of kind-index i go to wave i % waves
    wave_interval_s: float = 10.0  # wave k starts this long after wave k-1 (or once wave k-1 is done, if later)
    wave_size: int = 6  # completed/failed sessions of a wave run this many at a time
    errors_500: int = 6  # POST /api/v1/context with a non-numeric revenue
    context_ok: int = 18  # POST /api/v1/context that succeed
    not_found: int = 5  # GET /api/v1/sessions/{session_id} of unknown ids
    slow_calls: int = 5  # GET /api/v1/costs/summary (the slow endpoint)
    honeypot: int = 2  # POST /api/v1/sessions with bo1's honeypot field filled in, as a bot does (400)
    backfill_days: int = 14
    backfill_users: int = 8
    backfill_sessions_per_day: tuple[int, int] = (4, 9)
    # background traffic keeps going at least this long (warm-up included); the backfilled history draws the
    # panels' lines, the live part need not
    min_live_seconds: float = 0.0
    background_interval_s: float = 1.0
    # The warm-up touches every label set once, then the workload stays quiet this long, so that Prometheus
    # scrapes the warm-up state before the main traffic: two scrape intervals of the stack (5 s) + 1 s.
    warmup_seconds: float = 11.0
    # Extra warm-up sessions (batches of this size, at most this many batches) while some model of a provider
    # has not yet used a token type another model of that provider used (e.g. Opus cache writes).
    warmup_coverage_batch: int = 3
    warmup_coverage_batches: int = 5


SMALL = ScenarioConfig(
    live_users=3,
    completed=2,
    failed=2,
    fail_nodes=("vote",),
    killed=1,
    terminated=1,
    running=2,
    never_started=1,
    waves=2,
    wave_interval_s=1.0,
    wave_size=3,
    errors_500=2,
    context_ok=3,
    not_found=2,
    slow_calls=1,
    honeypot=1,
    backfill_days=3,
    backfill_users=3,
    backfill_sessions_per_day=(2, 3),
    min_live_seconds=0.0,
    background_interval_s=0.5,
    warmup_seconds=1.0,
    warmup_coverage_batch=1,
    warmup_coverage_batches=1,
)
