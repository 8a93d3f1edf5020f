"""run_scenario(): history backfill + live traffic against the workload, and the truth it produced."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bo1dash.scenario.backfill import BackfillResult, SessionFact, plan_backfill, write_backfill
from bo1dash.scenario.client import RecordingClient
from bo1dash.scenario.config import ScenarioConfig
from bo1dash.scenario.expectations import Expectations, _samples, build_expectations
from bo1dash.scenario.streams import StreamHolder, read_stream
from bo1dash.scenario.truth import CostFact

SESSIONS = "/api/v1/sessions"
ONE = "/api/v1/sessions/{session_id}"
STREAM = "/api/v1/sessions/{session_id}/stream"
PROBLEMS = (
    "Should we expand our SaaS into the German market next year?",
    "Do we raise a seed round now or bootstrap another 12 months?",
    "Should we switch pricing from per-seat to usage-based billing?",
    "Is it time to hire a VP of Sales before product-market fit?",
    "Should we rebuild the mobile app natively or stay cross-platform?",
    "Do we sunset the legacy on-premise edition this year?",
    "Should we open a second support hub in Asia?",
    "Do we partner with a reseller or build a direct sales team?",
    "Should we offer a free tier to drive adoption?",
    "Is acquiring our smaller competitor worth the integration risk?",
)


class ScenarioError(RuntimeError):
    """The workload did not do what the plan says (the truth would be wrong)."""


@dataclass
class LiveSession:
    session_id: str
    user_id: str
    final: str  # completed | failed | killed | terminated | running | created
    sim: dict[str, Any]
    problem: str
    phase: str = "main"  # warmup | main
    wave: int | None = None


@dataclass
class Planned:
    final: str
    sim: dict[str, Any]
    user: str
    problem: str
    wave: int | None = None  # None: warm-up


@dataclass
class LiveRun:
    users: dict[str, str]
    sessions: list[LiveSession] = field(default_factory=list)
    start: datetime = field(default_factory=lambda: datetime.now(UTC))
    end: datetime | None = None
    warmup_end: datetime | None = None  # every warm-up event made, its state read from /metrics
    main_start: datetime | None = None  # warmup_end + warmup_seconds of quiet
    warmup_counts: dict[tuple[str, str, str], int] = field(default_factory=dict)
    warmup_metrics_text: str = ""
    coverage_sessions: int = 0  # extra warm-up sessions run for token-type coverage
    uncovered: list[str] = field(default_factory=list)
    waves: list[dict[str, Any]] = field(default_factory=list)


Extra = tuple[str, "str | None", str, dict[str, Any]]
CONTEXT = "/api/v1/context"
SLOW = "/api/v1/costs/summary"
BOT, BOT_SITE = "Buy cheap followers now, best prices", "https://spam.example"
# The broker's max_attempts: a warm-up outage this long exhausts one call's retries (openai fallback).
WARMUP_OUTAGE_ATTEMPTS = 3


def _now() -> datetime:
    return datetime.now(UTC)


def _failed_wave(i: int, nodes: int, waves: int) -> int:
    """Failed session i fails node i % nodes; each node's failures go to different waves."""
    return (i % nodes + i // nodes) % waves


def _plan(cfg: ScenarioConfig, rng: random.Random, users: list[str]) -> list[Planned]:
    """Every main-traffic session, in creation order within its wave (kind index i goes to wave i % waves)."""
    plan: list[Planned] = []
    for i in range(cfg.completed):
        sim = {
            "outcome": "completed",
            "rounds": rng.randint(2, 4),
            "personas": rng.randint(3, 4),
            "research": rng.random() < 0.4,
        }
        if i == 1:
            sim["anthropic_outage_attempts"] = 12
        plan.append(Planned("completed", sim, users[i % len(users)], PROBLEMS[i % len(PROBLEMS)], i % cfg.waves))
    for i in range(cfg.failed):
        node = cfg.fail_nodes[i % len(cfg.fail_nodes)]
        plan.append(
            Planned(
                "failed",
                {"outcome": "failed", "rounds": 3, "fail_node": node},
                users[(i + 1) % len(users)],
                PROBLEMS[(i + 3) % len(PROBLEMS)] + f" (variant {i})",
                _failed_wave(i, len(cfg.fail_nodes), cfg.waves),
            )
        )
    for final, count in (("killed", cfg.killed), ("terminated", cfg.terminated), ("running", cfg.running)):
        for i in range(count):
            plan.append(
                Planned(
                    final,
                    {"outcome": "hold", "rounds": 4, "personas": 3},
                    users[(i + 2) % len(users)],
                    PROBLEMS[(i + 5) % len(PROBLEMS)] + f" ({final} {i})",
                    i % cfg.waves,
                )
            )
    for i in range(cfg.never_started):
        plan.append(
            Planned(
                "created", {"outcome": "completed"}, users[i % len(users)], PROBLEMS[9] + f" (draft {i})", i % cfg.waves
            )
        )
    return sorted(plan, key=lambda p: p.wave or 0)


def _warmup_plan(cfg: ScenarioConfig, seed: int, main: list[Planned], users: list[str]) -> list[Planned]:
    """One session of every kind the main traffic has: a completed one (with research and a short anthropic
    outage when the main traffic has them; first, alone), one failure of every node the main traffic fails,
    one killed and one terminated session."""
    tag = f"(warm-up, seed {seed})"
    sim: dict[str, Any] = {
        "outcome": "completed",
        "rounds": 3,
        "personas": 3,
        "research": any(p.sim.get("research") for p in main),
    }
    if any(p.sim.get("anthropic_outage_attempts") for p in main):
        sim["anthropic_outage_attempts"] = WARMUP_OUTAGE_ATTEMPTS
    plan = [Planned("completed", sim, users[0], f"{PROBLEMS[0]} {tag}")]
    nodes = sorted({p.sim["fail_node"] for p in main if p.final == "failed"})
    for i, node in enumerate(nodes):
        plan.append(
            Planned(
                "failed",
                {"outcome": "failed", "rounds": 3, "fail_node": node},
                users[(i + 1) % len(users)],
                f"{PROBLEMS[3]} {tag} fails in {node}",
            )
        )
    for final in ("killed", "terminated"):
        if any(p.final == final for p in main):
            plan.append(
                Planned(
                    final,
                    {"outcome": "hold", "rounds": 4, "personas": 3},
                    users[2 % len(users)],
                    f"{PROBLEMS[5]} {tag} {final}",
                )
            )
    return plan


def _headers(user: str, email: str) -> dict[str, str]:
    return {"X-User-Id": user, "X-User-Email": email}


def _extra_kinds(cfg: ScenarioConfig) -> list[tuple[int, Any]]:
    """(how many the main traffic makes, request i of that kind) for every planned request kind."""
    return [
        (
            cfg.context_ok,
            lambda i: (
                "POST",
                CONTEXT,
                CONTEXT,
                {"json": {"context": {"industry": "saas", "revenue": 10000 * (i + 1)}}},
            ),
        ),
        # Starlette closes the connection after an unhandled error (the client keeps none alive).
        (
            cfg.errors_500,
            lambda i: ("POST", CONTEXT, CONTEXT, {"json": {"context": {"revenue": f"about {i} million"}}}),
        ),
        (cfg.not_found, lambda i: ("GET", ONE, f"{SESSIONS}/bo1_00000000-0000-4000-8000-{i:012d}", {})),
        (cfg.slow_calls, lambda i: ("GET", SLOW, SLOW, {})),
        (
            cfg.honeypot,
            lambda i: ("POST", SESSIONS, SESSIONS, {"json": {"problem_statement": BOT, "website": BOT_SITE}}),
        ),
        (1, lambda i: ("GET", None, "/api/v1/no-such-route", {})),
        (1, lambda i: ("GET", SESSIONS, SESSIONS, {"headers": {}})),  # 401: no user
    ]


def _wave_extras(cfg: ScenarioConfig, rng: random.Random) -> list[list[Extra]]:
    """The planned requests of each wave: request i of a kind goes to wave i % waves, shuffled within the wave."""
    waves: list[list[Extra]] = [[] for _ in range(cfg.waves)]
    for count, make in _extra_kinds(cfg):
        for i in range(count):
            waves[i % cfg.waves].append(make(i))
    for extras in waves:
        rng.shuffle(extras)
    return waves


def _warmup_extras(cfg: ScenarioConfig) -> list[Extra]:
    """One request of every planned kind (indexes the main traffic never uses)."""
    return [make(10_000 + i) for i, (count, make) in enumerate(_extra_kinds(cfg)) if count]


def _uncovered_token_sets(metrics_text: str) -> list[str]:
    """provider/model/token_type label sets not yet exported although another model of the provider has them."""
    seen = {
        (lb["provider"], lb["model"], lb["token_type"]) for lb, v in _samples(metrics_text, "llm_tokens_total") if v > 0
    }
    types: dict[str, set[str]] = defaultdict(set)
    models: dict[str, set[str]] = defaultdict(set)
    for provider, model, token_type in seen:
        types[provider].add(token_type)
        models[provider].add(model)
    return sorted(f"{p}/{m}/{t}" for p in types for m in models[p] for t in types[p] if (p, m, t) not in seen)


@dataclass
class Held:
    ending: list[LiveSession]
    viewers: list[asyncio.Task[list[str]]]


@dataclass
class Driver:
    rc: RecordingClient
    run: LiveRun
    cfg: ScenarioConfig
    holder: StreamHolder

    def headers(self, user: str) -> dict[str, str]:
        return _headers(user, self.run.users[user])

    async def create(self, planned: Planned, phase: str) -> LiveSession:
        response = await self.rc.call(
            "POST",
            SESSIONS,
            SESSIONS,
            headers=self.headers(planned.user),
            json={"problem_statement": planned.problem, "problem_context": {"simulation": planned.sim}},
        )
        if response.status_code != 201:
            raise ScenarioError(f"creating a session failed: {response.status_code} {response.text}")
        session = LiveSession(
            response.json()["session_id"],
            planned.user,
            planned.final,
            planned.sim,
            planned.problem,
            phase,
            planned.wave,
        )
        self.run.sessions.append(session)
        return session

    async def start(self, s: LiveSession) -> None:
        r = await self.rc.call(
            "POST",
            "/api/v1/sessions/{session_id}/start",
            f"{SESSIONS}/{s.session_id}/start",
            headers=self.headers(s.user_id),
        )
        if r.status_code != 202:
            raise ScenarioError(f"start {s.session_id}: {r.status_code} {r.text}")

    async def reached_hold(self, session: LiveSession) -> None:
        path = f"{SESSIONS}/{session.session_id}/events"
        for _ in range(600):
            events = (
                await self.rc.call(
                    "GET", "/api/v1/sessions/{session_id}/events", path, headers=self.headers(session.user_id)
                )
            ).json()["events"]
            if any(e["event_type"] == "round_started" and e["data"].get("round") == 2 for e in events):
                return
            await asyncio.sleep(0.2)
        raise ScenarioError(f"session {session.session_id} never reached its hold point")

    async def watch(self, session: LiveSession) -> list[str]:
        """An SSE viewer that stays until the session's terminal event (counted when the stream ends)."""
        code, events = await read_stream(
            self.rc.client, f"{SESSIONS}/{session.session_id}/stream", self.headers(session.user_id)
        )
        self.rc.record(STREAM, "GET", code)
        return events

    async def run_to_end(self, sessions: list[LiveSession]) -> None:
        """Start completed/failed sessions this many at a time and watch each to its terminal event."""
        for first in range(0, len(sessions), self.cfg.wave_size):
            batch = sessions[first : first + self.cfg.wave_size]
            for s in batch:
                await self.start(s)
            for s, events in zip(batch, await asyncio.gather(*(self.watch(s) for s in batch))):
                expected = "complete" if s.final == "completed" else "error"
                if not events or events[-1] != expected:
                    raise ScenarioError(f"{s.session_id} ended with {events[-1:]} not {expected}")

    async def hold(self, held: list[LiveSession]) -> Held:
        """Start the held sessions, wait for their hold point, open the streams of those left running, and put
        a viewer on each of the others (it stays until their kill / terminate, see end_held)."""
        for s in held:
            await self.start(s)
        for s in held:
            await self.reached_hold(s)
        for s in (s for s in held if s.final == "running"):
            await asyncio.to_thread(self.holder.open, f"{SESSIONS}/{s.session_id}/stream", self.headers(s.user_id))
        ending = [s for s in held if s.final in ("killed", "terminated")]
        return Held(ending, [asyncio.create_task(self.watch(s)) for s in ending])

    async def end_held(self, held: Held) -> None:
        for s in held.ending:
            action = "kill" if s.final == "killed" else "terminate"
            r = await self.rc.call(
                "POST",
                f"/api/v1/sessions/{{session_id}}/{action}",
                f"{SESSIONS}/{s.session_id}/{action}",
                headers=self.headers(s.user_id),
            )
            if r.status_code != 200:
                raise ScenarioError(f"{action} {s.session_id}: {r.status_code} {r.text}")
        await asyncio.gather(*held.viewers)

    async def already_completed(self, s: LiveSession) -> None:
        r = await self.rc.call(
            "POST",
            "/api/v1/sessions/{session_id}/start",
            f"{SESSIONS}/{s.session_id}/start",
            headers=self.headers(s.user_id),
        )
        if r.status_code != 409:
            raise ScenarioError(f"start of the completed {s.session_id}: {r.status_code}, not 409")

    async def tick(self, tick: int, extra: Extra | None) -> None:
        """The steady traffic of one background tick, plus one planned request."""
        users = sorted(self.run.users)
        headers = self.headers(users[tick % len(users)])
        await self.rc.call("GET", "/api/v1/user/usage", "/api/v1/user/usage", headers=headers)
        await self.rc.call("GET", SESSIONS, SESSIONS, headers=headers)
        await self.rc.call("GET", "/api/health", "/api/health")
        if tick % 3 == 0:
            await self.rc.call("GET", "/api/ready", "/api/ready")
        if extra is not None:
            method, template, path, kwargs = extra
            kwargs = dict(kwargs)
            kwargs.setdefault("headers", headers)
            await self.rc.call(method, template, path, **kwargs)


async def _background(driver: Driver, stop: asyncio.Event, queue: list[Extra]) -> None:
    """Steady traffic on several endpoints, one planned request (error, slow, ...) per tick while any is queued."""
    tick = 0
    while not stop.is_set() or queue:
        await driver.tick(tick, queue.pop(0) if queue else None)
        tick += 1
        try:
            await asyncio.wait_for(stop.wait(), timeout=driver.cfg.background_interval_s)
        except TimeoutError:
            pass


async def _warmup(driver: Driver, api_url: str, seed: int, main: list[Planned]) -> None:
    """Touch every label set the main traffic will use once, then stay quiet `warmup_seconds` (Prometheus
    scrapes the warm-up state: the main traffic's increments are then all after each series' first sample)."""
    run, cfg, rc = driver.run, driver.cfg, driver.rc
    users = sorted(run.users)
    for tick, extra in enumerate(_warmup_extras(cfg)):
        await driver.tick(tick, extra)
    plan = _warmup_plan(cfg, seed, main, users)
    first = await driver.create(plan[0], "warmup")
    await driver.run_to_end([first])  # alone: its short outage exhausts exactly one call's retries
    rest = [await driver.create(p, "warmup") for p in plan[1:]]
    held = await driver.hold([s for s in rest if s.final in ("killed", "terminated")])
    await driver.run_to_end([s for s in rest if s.final == "failed"])
    await driver.end_held(held)
    await driver.already_completed(first)
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as plain:
        text = (await plain.get("/metrics")).text
        for batch in range(cfg.warmup_coverage_batches):
            if not _uncovered_token_sets(text):
                break
            coverage = [
                Planned(
                    "completed",
                    {"outcome": "completed", "rounds": 2, "personas": 3},
                    users[(batch + i) % len(users)],
                    f"{PROBLEMS[(batch + i) % len(PROBLEMS)]} (warm-up, seed {seed}, coverage {batch}.{i})",
                )
                for i in range(cfg.warmup_coverage_batch)
            ]
            sessions = [await driver.create(p, "warmup") for p in coverage]
            await driver.run_to_end(sessions)
            run.coverage_sessions += len(sessions)
            text = (await plain.get("/metrics")).text
    run.uncovered = _uncovered_token_sets(text)
    run.warmup_metrics_text = text
    run.warmup_counts = dict(rc.counts)
    run.warmup_end = _now()
    await asyncio.sleep(cfg.warmup_seconds)


async def _live(api_url: str, cfg: ScenarioConfig, seed: int, holder: StreamHolder) -> tuple[LiveRun, RecordingClient]:
    rng = random.Random(f"live:{seed}")
    users = {f"live_user_{seed}_{i}": f"live{i}.s{seed}@example.com" for i in range(1, cfg.live_users + 1)}
    run = LiveRun(users=users)
    limits = httpx.Limits(max_connections=40, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=api_url, timeout=httpx.Timeout(60.0, read=None), limits=limits) as client:
        rc = RecordingClient(client)
        driver = Driver(rc, run, cfg, holder)
        plan = _plan(cfg, rng, sorted(users))
        extras = _wave_extras(cfg, rng)
        await _warmup(driver, api_url, seed, plan)
        run.main_start = _now()
        main_started = time.monotonic()
        stop = asyncio.Event()
        queue: list[Extra] = []
        background = asyncio.create_task(_background(driver, stop, queue))
        for k in range(cfg.waves):
            await asyncio.sleep(max(0.0, main_started + k * cfg.wave_interval_s - time.monotonic()))
            wave: dict[str, Any] = {"index": k, "start": _now()}
            queue.extend(extras[k])
            sessions = [await driver.create(p, "main") for p in plan if p.wave == k]
            held = await driver.hold([s for s in sessions if s.final in ("killed", "terminated", "running")])
            await driver.run_to_end([s for s in sessions if s.final in ("completed", "failed")])
            if k == cfg.waves - 1:
                done = [s for s in run.sessions if s.final == "completed"]
                await driver.already_completed(next((s for s in done if s.phase == "main"), done[0]))
            await driver.end_held(held)
            wave["end"] = _now()
            wave["sessions"] = [s.session_id for s in sessions]
            run.waves.append(wave)
        elapsed = (_now() - run.start).total_seconds()
        if elapsed < cfg.min_live_seconds:
            await asyncio.sleep(cfg.min_live_seconds - elapsed)
        stop.set()
        await background
        run.end = _now()
    return run, rc


def _read_live_sessions(database_url: str, run: LiveRun) -> list[SessionFact]:
    ids = [s.session_id for s in run.sessions]
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT id, user_id, status, created_at, updated_at, round_number FROM sessions WHERE id = ANY(%s)", (ids,)
        ).fetchall()
    facts = {r[0]: SessionFact(r[0], r[1], r[2], r[3], r[4], r[5], "live") for r in rows}
    for s in run.sessions:
        fact = facts.get(s.session_id)
        if fact is None or fact.status != s.final:
            raise ScenarioError(f"session {s.session_id}: planned {s.final}, database says {fact and fact.status}")
    return [facts[s.session_id] for s in run.sessions]


def _read_cost_rows(database_url: str, user_ids: list[str], since: datetime, source: str) -> list[CostFact]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT created_at, user_id, session_id, provider, model_name, total_cost, input_tokens, output_tokens "
            "FROM api_costs WHERE user_id = ANY(%s) AND created_at >= %s ORDER BY created_at, id",
            (user_ids, since),
        ).fetchall()
    return [
        CostFact(created, user, session, provider, model, cost, tokens_in, tokens_out, source=source)
        for created, user, session, provider, model, cost, tokens_in, tokens_out in rows
    ]


def _backfill_facts(backfill: BackfillResult) -> list[CostFact]:
    return [
        CostFact(
            r.created_at,
            r.user_id,
            r.session_id,
            r.provider,
            r.model_name,
            r.total_cost,
            r.input_tokens,
            r.output_tokens,
            "backfill",
        )
        for r in backfill.records
    ]


def _check_backfill_written(database_url: str, backfill: BackfillResult) -> None:
    with psycopg.connect(database_url) as conn:
        count, total = conn.execute(
            "SELECT count(*), coalesce(sum(total_cost), 0) FROM api_costs WHERE user_id = ANY(%s)",
            (sorted(backfill.users),),
        ).fetchone()  # type: ignore[misc]
    expected = sum((r.total_cost for r in backfill.records), Decimal(0))
    if count != len(backfill.records) or Decimal(total) != expected:
        raise ScenarioError(
            f"backfill: database holds {count} rows / {total}, wrote {len(backfill.records)} / {expected}"
        )


def run_scenario(
    api_url: str,
    database_url: str,
    *,
    seed: int = 1,
    out: Path | None = None,
    config: ScenarioConfig | None = None,
    history: BackfillResult | None = None,
) -> Expectations:
    """Backfill history, drive the workload, and return the truth (SSE streams stay open until close()).

    `history`: more ledger history to write with the scenario's own (scenario/history.py's spend)."""
    cfg = config or ScenarioConfig()
    started = time.monotonic()
    now = _now()
    backfill = plan_backfill(seed, now, cfg.backfill_days, cfg.backfill_users, cfg.backfill_sessions_per_day)
    if history is not None:
        backfill = BackfillResult(
            {**backfill.users, **history.users},
            backfill.sessions + history.sessions,
            backfill.records + history.records,
        )
    write_backfill(database_url, backfill)
    _check_backfill_written(database_url, backfill)
    holder = StreamHolder(api_url)
    try:
        run, rc = asyncio.run(_live(api_url, cfg, seed, holder))
        live_sessions = _read_live_sessions(database_url, run)
        live_costs = _read_cost_rows(database_url, sorted(run.users), run.start, "live")
        metrics_text = httpx.get(f"{api_url}/metrics", timeout=30).text
    except BaseException:
        holder.close()
        raise
    expectations = build_expectations(
        seed=seed,
        config=cfg,
        history_start=now - timedelta(days=cfg.backfill_days),
        run=run,
        recorder=rc,
        sessions=backfill.sessions + live_sessions,
        costs=_backfill_facts(backfill) + live_costs,
        emails={**backfill.users, **run.users},
        metrics_text=metrics_text,
        open_streams=holder.open_count,
        wall_seconds=time.monotonic() - started,
        holder=holder,
    )
    if out is not None:
        expectations.write(out)
    return expectations


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"
