"""run_scenario(): history backfill + live traffic against the workload, and the truth it produced."""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bo1dash.scenario.backfill import BackfillResult, SessionFact, plan_backfill, write_backfill
from bo1dash.scenario.client import RecordingClient
from bo1dash.scenario.config import ScenarioConfig
from bo1dash.scenario.expectations import Expectations, build_expectations
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
    final: str            # completed | failed | killed | terminated | running | created
    sim: dict[str, Any]
    problem: str


@dataclass
class LiveRun:
    users: dict[str, str]
    sessions: list[LiveSession] = field(default_factory=list)
    start: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    end: datetime | None = None


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _plan(cfg: ScenarioConfig, rng: random.Random, users: list[str]) -> list[tuple[str, dict[str, Any], str, str]]:
    """(final status, simulation, user, problem) for every live session, in creation order."""
    plan: list[tuple[str, dict[str, Any], str, str]] = []
    for i in range(cfg.completed):
        sim = {"outcome": "completed", "rounds": rng.randint(2, 4), "personas": rng.randint(3, 4),
               "research": rng.random() < 0.4}
        if i == 1:
            sim["anthropic_outage_attempts"] = 12
        plan.append(("completed", sim, users[i % len(users)], PROBLEMS[i % len(PROBLEMS)]))
    for i in range(cfg.failed):
        node = ("vote", "check_convergence", "synthesize")[i % 3]
        plan.append(("failed", {"outcome": "failed", "rounds": 3, "fail_node": node}, users[(i + 1) % len(users)],
                     PROBLEMS[(i + 3) % len(PROBLEMS)] + f" (variant {i})"))
    for final, count in (("killed", cfg.killed), ("terminated", cfg.terminated), ("running", cfg.running)):
        for i in range(count):
            plan.append((final, {"outcome": "hold", "rounds": 4, "personas": 3}, users[(i + 2) % len(users)],
                         PROBLEMS[(i + 5) % len(PROBLEMS)] + f" ({final} {i})"))
    for i in range(cfg.never_started):
        plan.append(("created", {"outcome": "completed"}, users[i % len(users)], PROBLEMS[9] + f" (draft {i})"))
    return plan


def _headers(user: str, email: str) -> dict[str, str]:
    return {"X-User-Id": user, "X-User-Email": email}


async def _reached_hold(rc: RecordingClient, session: LiveSession, email: str) -> None:
    path = f"{SESSIONS}/{session.session_id}/events"
    for _ in range(600):
        events = (await rc.call("GET", "/api/v1/sessions/{session_id}/events", path,
                                headers=_headers(session.user_id, email))).json()["events"]
        if any(e["event_type"] == "round_started" and e["data"].get("round") == 2 for e in events):
            return
        await asyncio.sleep(0.2)
    raise ScenarioError(f"session {session.session_id} never reached its hold point")


async def _watch(rc: RecordingClient, session: LiveSession, email: str) -> list[str]:
    """An SSE viewer that stays until the session's terminal event (counted when the stream ends)."""
    code, events = await read_stream(rc.client, f"{SESSIONS}/{session.session_id}/stream",
                                     _headers(session.user_id, email))
    rc.record(STREAM, "GET", code)
    return events


async def _background(rc: RecordingClient, run: LiveRun, cfg: ScenarioConfig, rng: random.Random,
                      stop: asyncio.Event, extras: list[tuple[str, str | None, str, dict[str, Any]]]) -> None:
    """Steady traffic on several endpoints, with the planned error and slow requests spread over time."""
    users = sorted(run.users)
    tick = 0
    while not stop.is_set() or extras:
        user = users[tick % len(users)]
        headers = _headers(user, run.users[user])
        await rc.call("GET", "/api/v1/user/usage", "/api/v1/user/usage", headers=headers)
        await rc.call("GET", SESSIONS, SESSIONS, headers=headers)
        await rc.call("GET", "/api/health", "/api/health")
        if tick % 3 == 0:
            await rc.call("GET", "/api/ready", "/api/ready")
        if extras:
            method, template, path, kwargs = extras.pop(0)
            kwargs = dict(kwargs)
            kwargs.setdefault("headers", headers)
            await rc.call(method, template, path, **kwargs)
        tick += 1
        try:
            await asyncio.wait_for(stop.wait(), timeout=cfg.background_interval_s)
        except asyncio.TimeoutError:
            pass


def _extras(cfg: ScenarioConfig, rng: random.Random) -> list[tuple[str, str | None, str, dict[str, Any]]]:
    extras: list[tuple[str, str | None, str, dict[str, Any]]] = []
    for i in range(cfg.context_ok):
        extras.append(("POST", "/api/v1/context", "/api/v1/context",
                       {"json": {"context": {"industry": "saas", "revenue": 10000 * (i + 1)}}}))
    for i in range(cfg.errors_500):
        # Starlette closes the connection after an unhandled error: ask for that up front.
        extras.append(("POST", "/api/v1/context", "/api/v1/context",
                       {"json": {"context": {"revenue": f"about {i} million"}}}))
    for i in range(cfg.not_found):
        extras.append(("GET", ONE, f"{SESSIONS}/bo1_00000000-0000-4000-8000-{i:012d}", {}))
    for _ in range(cfg.slow_calls):
        extras.append(("GET", "/api/v1/costs/summary", "/api/v1/costs/summary", {}))
    extras.append(("GET", None, "/api/v1/no-such-route", {}))
    extras.append(("GET", SESSIONS, SESSIONS, {"headers": {}}))  # 401: no user
    rng.shuffle(extras)
    return extras


async def _live(api_url: str, cfg: ScenarioConfig, seed: int, holder: StreamHolder) -> tuple[LiveRun, RecordingClient]:
    rng = random.Random(f"live:{seed}")
    users = {f"live_user_{seed}_{i}": f"live{i}.s{seed}@example.com" for i in range(1, cfg.live_users + 1)}
    run = LiveRun(users=users)
    limits = httpx.Limits(max_connections=40, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=api_url, timeout=httpx.Timeout(60.0, read=None), limits=limits) as client:
        rc = RecordingClient(client)
        for final, sim, user, problem in _plan(cfg, rng, sorted(users)):
            response = await rc.call("POST", SESSIONS, SESSIONS, headers=_headers(user, users[user]),
                                     json={"problem_statement": problem, "problem_context": {"simulation": sim}})
            if response.status_code != 201:
                raise ScenarioError(f"creating a session failed: {response.status_code} {response.text}")
            run.sessions.append(LiveSession(response.json()["session_id"], user, final, sim, problem))
        stop = asyncio.Event()
        background = asyncio.create_task(_background(rc, run, cfg, rng, stop, _extras(cfg, rng)))

        async def start(s: LiveSession) -> None:
            r = await rc.call("POST", "/api/v1/sessions/{session_id}/start", f"{SESSIONS}/{s.session_id}/start",
                              headers=_headers(s.user_id, users[s.user_id]))
            if r.status_code != 202:
                raise ScenarioError(f"start {s.session_id}: {r.status_code} {r.text}")

        held = [s for s in run.sessions if s.final in ("killed", "terminated", "running")]
        for s in held:
            await start(s)
        for s in held:
            await _reached_hold(rc, s, users[s.user_id])
        for s in (s for s in held if s.final == "running"):
            await asyncio.to_thread(holder.open, f"{SESSIONS}/{s.session_id}/stream", _headers(s.user_id, users[s.user_id]))
        ending = [s for s in held if s.final in ("killed", "terminated")]
        ending_viewers = [asyncio.create_task(_watch(rc, s, users[s.user_id])) for s in ending]

        runners = [s for s in run.sessions if s.final in ("completed", "failed")]
        # the last completed session repeats the first one's problem: its decompose is an LLM-cache hit
        if len([s for s in runners if s.final == "completed"]) >= 2:
            last = [s for s in runners if s.final == "completed"][-1]
            runners.remove(last)
            runners.append(last)
        for wave_start in range(0, len(runners), cfg.wave_size):
            wave = runners[wave_start: wave_start + cfg.wave_size]
            for s in wave:
                await start(s)
            viewers = [_watch(rc, s, users[s.user_id]) for s in wave]
            for s, events in zip(wave, await asyncio.gather(*viewers)):
                expected = "complete" if s.final == "completed" else "error"
                if not events or events[-1] != expected:
                    raise ScenarioError(f"{s.session_id} ended with {events[-1:]} not {expected}")
        done = next(s for s in run.sessions if s.final == "completed")
        await rc.call("POST", "/api/v1/sessions/{session_id}/start", f"{SESSIONS}/{done.session_id}/start",
                      headers=_headers(done.user_id, users[done.user_id]))  # 409: already completed
        for s in ending:
            action = "kill" if s.final == "killed" else "terminate"
            r = await rc.call("POST", f"/api/v1/sessions/{{session_id}}/{action}", f"{SESSIONS}/{s.session_id}/{action}",
                              headers=_headers(s.user_id, users[s.user_id]))
            if r.status_code != 200:
                raise ScenarioError(f"{action} {s.session_id}: {r.status_code} {r.text}")
        await asyncio.gather(*ending_viewers)
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
    return [CostFact(*row, source=source) for row in rows]


def _backfill_facts(backfill: BackfillResult) -> list[CostFact]:
    return [
        CostFact(r.created_at, r.user_id, r.session_id, r.provider, r.model_name, r.total_cost, r.input_tokens,
                 r.output_tokens, "backfill")
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
        raise ScenarioError(f"backfill: database holds {count} rows / {total}, wrote {len(backfill.records)} / {expected}")


def run_scenario(
    api_url: str,
    database_url: str,
    *,
    seed: int = 1,
    out: Path | None = None,
    config: ScenarioConfig | None = None,
) -> Expectations:
    """Backfill history, drive the workload, and return the truth (SSE streams stay open until close())."""
    cfg = config or ScenarioConfig()
    started = time.monotonic()
    now = _now()
    backfill = plan_backfill(seed, now, cfg.backfill_days, cfg.backfill_users, cfg.backfill_sessions_per_day)
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
        seed=seed, config=cfg, history_start=now - timedelta(days=cfg.backfill_days), run=run, recorder=rc,
        sessions=backfill.sessions + live_sessions, costs=_backfill_facts(backfill) + live_costs,
        emails={**backfill.users, **run.users}, metrics_text=metrics_text, open_streams=holder.open_count,
        wall_seconds=time.monotonic() - started, holder=holder,
    )
    if out is not None:
        expectations.write(out)
    return expectations


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"
