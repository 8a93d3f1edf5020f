"""A month of bo1's cost ledger: users, sessions and api_costs rows, bulk-loaded with COPY into the
real schema (the workload's `apply_schema`: bo1's monthly partitions and indexes)."""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg

from bo1dash.bench.scale import Scale
from bo1dash.workload.schema import ensure_partitions

# (provider, raw model id or None, operation, node, share of calls, USD per call)
CALLS = (
    ("anthropic", "claude-sonnet-4-5-20250929", "completion", "parallel_round", 0.30, 0.021),
    ("anthropic", "claude-haiku-4-5-20251001", "completion", "facilitator_decide", 0.20, 0.002),
    ("anthropic", "claude-haiku-4-5-20251001", "summarization", "check_convergence", 0.12, 0.001),
    ("anthropic", "claude-opus-4-20250514", "completion", "synthesize", 0.03, 0.09),
    ("anthropic", "claude-3-5-haiku-20241022", "extraction", "decompose", 0.05, 0.0008),
    ("voyage", "voyage-3", "embedding", "research", 0.15, 0.00002),
    ("voyage", "voyage-3-lite", "embedding_batch", "context_collection", 0.05, 0.00001),
    ("brave", None, "web_search", "research", 0.06, 0.005),
    ("tavily", None, "advanced_search", "research", 0.04, 0.008),
)
OUTCOMES = (("completed", 0.86), ("failed", 0.06), ("killed", 0.03), ("terminated", 0.03), ("running", 0.02))
COLUMNS = (
    "created_at",
    "session_id",
    "user_id",
    "provider",
    "model_name",
    "operation_type",
    "node_name",
    "phase",
    "round_number",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "total_cost",
    "latency_ms",
    "status",
    "feature",
    "cost_category",
)


@dataclass
class LedgerStats:
    users: int = 0
    sessions: int = 0
    api_costs: int = 0
    seconds: float = 0.0
    partitions: tuple[str, ...] = ()


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f+00")


def _pick(rng: random.Random, weights: list[float]) -> int:
    return rng.choices(range(len(weights)), weights=weights)[0]


def load_ledger(conninfo: str, scale: Scale, end: datetime) -> LedgerStats:
    """Load `scale.ledger_rows` api_costs rows (~90% in sessions, the rest mentor/dataset calls without one)
    for `scale.users` users over the `scale.days` before `end`, then ANALYZE."""
    started = time.monotonic()
    rng = random.Random(scale.seed)
    start = end - timedelta(days=scale.days)
    span = (end - start).total_seconds()
    stats = LedgerStats(users=scale.users)
    user_weight = [rng.paretovariate(1.2) for _ in range(scale.users)]
    calls_per_session = 40
    n_sessions = max(1, int(scale.ledger_rows * 0.9 / calls_per_session))
    with psycopg.connect(conninfo, autocommit=True) as conn:
        days = [(start + timedelta(days=d)).date() for d in range(int(math.ceil(scale.days)) + 2)]
        ensure_partitions(conn, days)
        with conn.cursor().copy("COPY users (id, email, subscription_tier, created_at) FROM STDIN") as copy:
            for u in range(scale.users):
                copy.write(
                    f"user_{u:06d}\tuser{u}@example.com\t{'pro' if u % 7 == 0 else 'free'}\t"
                    f"{_ts(start - timedelta(days=30 + u % 300))}\n"
                )
        sessions: list[tuple[str, str, datetime, float]] = []
        with conn.cursor().copy(
            "COPY sessions (id, user_id, status, phase, round_number, total_cost, created_at, updated_at) FROM STDIN"
        ) as copy:
            buf = []
            for s in range(n_sessions):
                user = _pick(rng, user_weight) if s % 1000 else 0
                created = start + timedelta(seconds=_diurnal_offset(rng, span))
                status = OUTCOMES[_pick(rng, [w for _, w in OUTCOMES])][0]
                duration = rng.uniform(180, 1500)
                if status == "running":
                    created = end - timedelta(seconds=rng.uniform(0, 1200))
                updated = min(end, created + timedelta(seconds=duration))
                sid = f"bo1_{rng.getrandbits(128):032x}"
                rounds = rng.randint(2, 6) if status == "completed" else rng.randint(0, 3)
                sessions.append((sid, f"user_{user:06d}", created, (updated - created).total_seconds()))
                buf.append(
                    f"{sid}\tuser_{user:06d}\t{status}\t{'complete' if status == 'completed' else 'discussion'}"
                    f"\t{rounds}\t0\t{_ts(created)}\t{_ts(updated)}\n"
                )
                if len(buf) >= 5000:
                    copy.write("".join(buf))
                    buf.clear()
            copy.write("".join(buf))
        stats.sessions = len(sessions)
        weights = [c[4] for c in CALLS]
        rows = 0
        # bo1 appends a row as each call completes, so its heap holds the ledger in time order (an hour's rows
        # on a few hundred pages); generated session by session, the rows are sorted before the COPY to match.
        lines: list[tuple[datetime, str]] = []
        while rows < scale.ledger_rows:
            if rng.random() < 0.9:
                sid, user_id, created, duration = sessions[rng.randrange(len(sessions))]
                at = created + timedelta(seconds=rng.uniform(0, max(1.0, duration)))
                session_field, feature = sid, "meeting"
            else:
                user_id = f"user_{_pick(rng, user_weight):06d}"
                at = start + timedelta(seconds=_diurnal_offset(rng, span))
                session_field, feature = "\\N", rng.choice(("mentor_chat", "dataset_qa", "competitor_analysis"))
            if at >= end:
                at = end - timedelta(seconds=1)
            provider, model, operation, node, _, usd = CALLS[_pick(rng, weights)]
            cost = usd * rng.lognormvariate(0, 0.5)
            tokens_in, tokens_out = rng.randint(200, 6000), rng.randint(0, 1500)
            lines.append(
                (
                    at,
                    "\t".join(
                        (
                            _ts(at),
                            session_field,
                            user_id,
                            provider,
                            model or "\\N",
                            operation,
                            node,
                            "discussion",
                            str(rng.randint(1, 6)),
                            str(tokens_in),
                            str(tokens_out),
                            str(tokens_in // 2 if provider == "anthropic" and rng.random() < 0.6 else 0),
                            f"{cost:.8f}",
                            str(rng.randint(150, 25000)),
                            "success" if rng.random() > 0.01 else "error",
                            feature,
                            "user" if rng.random() > 0.05 else "internal_system",
                        )
                    )
                    + "\n",
                )
            )
            rows += 1
        lines.sort(key=lambda row: row[0])
        with conn.cursor().copy(f"COPY api_costs ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for chunk in range(0, len(lines), 10_000):
                copy.write("".join(line for _, line in lines[chunk : chunk + 10_000]))
        stats.api_costs = rows
        conn.execute("ANALYZE users")
        conn.execute("ANALYZE sessions")
        conn.execute("ANALYZE api_costs")
        stats.partitions = tuple(
            r[0]
            for r in conn.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'api_costs'::regclass ORDER BY 1"
            ).fetchall()
        )
    stats.seconds = time.monotonic() - started
    return stats


def _diurnal_offset(rng: random.Random, span: float) -> float:
    """Seconds into the span, more of them during the (UTC) working day."""
    while True:
        t = rng.uniform(0, span)
        hour = (t / 3600) % 24
        if rng.random() < 0.35 + 0.65 * math.sin(math.pi * max(0.0, min(1.0, (hour - 6) / 14))):
            return t


@dataclass
class VacuumStats:
    seconds: float = 0.0
    # api_costs partitions: (pages, all-visible pages) after the VACUUM
    visibility: dict[str, tuple[int, int]] = field(default_factory=dict)


def vacuum_ledger(conninfo: str) -> VacuumStats:
    """`VACUUM (ANALYZE)` the ledger tables, as autovacuum would have in production: it sets the visibility
    map, so index-only scans on the covering index need no heap fetches.

    The bench's PostgreSQL commits asynchronously (synchronous_commit=off): VACUUM cannot mark a page
    all-visible while the commit of its rows may still be unflushed WAL (no hint bits yet). One synchronous
    commit (a small ANALYZE) flushes the WAL up to it, the COPYs' commits included, as time would in prod."""
    started = time.monotonic()
    out = VacuumStats()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = on")
        conn.execute("ANALYZE users")
        for table in ("api_costs", "sessions", "users"):
            conn.execute(f"VACUUM (ANALYZE) {table}")
        for name, pages, visible in conn.execute(
            "SELECT c.relname, c.relpages, c.relallvisible FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'api_costs'::regclass ORDER BY 1"
        ).fetchall():
            if pages:
                out.visibility[name] = (int(pages), int(visible))
    out.seconds = time.monotonic() - started
    return out
