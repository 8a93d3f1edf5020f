"""Days of history written straight to Postgres: users, finished sessions, and api_costs rows written
by the workload's own ledger writer (insert_cost_records), with explicit past timestamps."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import psycopg

from bo1dash.workload.ledger import CallContext, CostRecord, insert_cost_records, record_from_call
from bo1dash.workload.pricing import load_prices
from bo1dash.workload.provider import CallResult, SimulatedProvider

STATUS_WEIGHTS = (("completed", 70), ("failed", 10), ("killed", 8), ("terminated", 7), ("created", 5))
MODELS = ("claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "claude-opus-4-1-20250805")


@dataclass(frozen=True)
class SessionFact:
    id: str
    user_id: str
    status: str
    created_at: datetime
    updated_at: datetime
    round_number: int
    source: str  # "backfill" or "live"


@dataclass(frozen=True)
class BackfillResult:
    users: dict[str, str]  # user id -> email
    sessions: list[SessionFact]
    records: list[CostRecord]


def _calls(provider: SimulatedProvider, rng: random.Random, key: str, rounds: int) -> list[tuple[str, CallResult]]:
    calls: list[tuple[str, CallResult]] = [("decompose", provider.complete(MODELS[0], f"{key}:d", 2400, 900))]
    calls.append(("select_personas", provider.embed("voyage-3", f"{key}:e", 3)))
    for rnd in range(1, rounds + 1):
        for persona in range(rng.randint(3, 4)):
            calls.append(("parallel_round", provider.complete(MODELS[0], f"{key}:r{rnd}:{persona}", 3600, 700)))
        calls.append(("check_convergence", provider.complete(MODELS[1], f"{key}:c{rnd}", 2500, 200)))
    if rng.random() < 0.3:
        calls.append(("research", provider.search("brave", "web_search", f"{key}:b")))
        calls.append(("research", provider.search("tavily", "advanced_search", f"{key}:t")))
    calls.append(("synthesize", provider.complete(MODELS[2], f"{key}:s", 6000, 1500)))
    return calls


def plan_backfill(seed: int, now: datetime, days: int, users: int, per_day: tuple[int, int]) -> BackfillResult:
    """Deterministic history for [now - days, now - 10 min) from the seed (and `now`)."""
    rng = random.Random(f"backfill:{seed}")
    provider = SimulatedProvider(load_prices(), seed)
    user_map = {f"hist_user_{seed}_{i:02d}": f"hist{i:02d}.s{seed}@example.com" for i in range(1, users + 1)}
    user_ids = sorted(user_map)
    weights = [w for _, w in STATUS_WEIGHTS]
    statuses = [s for s, _ in STATUS_WEIGHTS]
    sessions: list[SessionFact] = []
    records: list[CostRecord] = []
    start = now - timedelta(days=days)
    latest_end = now - timedelta(minutes=10)
    for day in range(days):
        for _ in range(rng.randint(*per_day)):
            created = start + timedelta(days=day, seconds=rng.randint(0, 86_399))
            status = rng.choices(statuses, weights)[0]
            rounds = rng.randint(2, 5)
            duration = timedelta(seconds=rng.randint(150, 1_200))
            if created + duration > latest_end:
                continue
            user = rng.choice(user_ids)
            session_id = f"bo1_{uuid.UUID(int=rng.getrandbits(128), version=4)}"
            updated = created + duration if status != "created" else created
            finished_rounds = rounds if status == "completed" else 0
            sessions.append(SessionFact(session_id, user, status, created, updated, finished_rounds, "backfill"))
            if status == "created":
                continue
            calls = _calls(provider, rng, session_id, rounds if status == "completed" else rng.randint(1, rounds))
            step = duration / (len(calls) + 1)
            for index, (node, call) in enumerate(calls, start=1):
                records.append(
                    record_from_call(
                        call,
                        created + step * index,
                        CallContext(session_id=session_id, user_id=user, node_name=node, prompt_type=node),
                    )
                )
        # a context embedding per day that belongs to no session (bo1's non-session calls)
        user = rng.choice(user_ids)
        at = start + timedelta(days=day, seconds=rng.randint(0, 86_399))
        if at < latest_end:
            call = provider.embed("voyage-3-lite", f"ctx:{seed}:{day}", 1)
            records.append(record_from_call(call, at, CallContext(user_id=user, node_name="context_embedding")))
    return BackfillResult(user_map, sessions, records)


def session_cost(records: list[CostRecord], session_id: str) -> Decimal:
    return sum((r.total_cost for r in records if r.session_id == session_id), Decimal(0))


def write_backfill(database_url: str, result: BackfillResult) -> None:
    """Users, sessions and ledger rows in one go (idempotent: conflicts are left alone)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        with conn.transaction():
            for user_id, email in result.users.items():
                first = min((s.created_at for s in result.sessions if s.user_id == user_id), default=None)
                conn.execute(
                    "INSERT INTO users (id, email, auth_provider, created_at, updated_at) "
                    "VALUES (%s, %s, 'emailpassword', coalesce(%s, now()), coalesce(%s, now())) "
                    "ON CONFLICT (id) DO NOTHING",
                    (user_id, email, first, first),
                )
            for s in result.sessions:
                total = session_cost(result.records, s.id).quantize(Decimal("0.0001")) if s.status == "completed" else 0
                conn.execute(
                    "INSERT INTO sessions (id, user_id, problem_statement, problem_context, status, phase, round_number, "
                    "total_cost, created_at, updated_at, terminated_at, termination_type) "
                    "VALUES (%s, %s, %s, '{}', %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
                    (
                        s.id,
                        s.user_id,
                        "Historic deliberation",
                        s.status,
                        "complete" if s.status == "completed" else "discussion",
                        s.round_number,
                        total,
                        s.created_at,
                        s.updated_at,
                        s.updated_at if s.status == "terminated" else None,
                        "user_cancelled" if s.status == "terminated" else None,
                    ),
                )
        insert_cost_records(conn, result.records)
