"""The deliberation graph run as an asyncio task in the API process, as bo1's SessionManager does.

Each node is timed into bo1_graph_node_duration_seconds / bo1_graph_node_total (wall time divided by
the time scale, so the recorded figure is the realistic one). What a session does is chosen by the
caller through `problem_context["simulation"]` (see `Simulation`): bo1 decides it by its inputs and
its LLM's answers; the look-alike lets the scenario decide it, so the truth is known.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bo1dash.workload import db
from bo1dash.workload.broker import PromptBroker
from bo1dash.workload.cost_tracker import CostTracker
from bo1dash.workload.events import EventPublisher
from bo1dash.workload.ledger import CallContext
from bo1dash.workload.metrics import Bo1Metrics
from bo1dash.workload.provider import CallResult
from bo1dash.workload.quality import QualityChecks

SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"
OPUS = "claude-opus-4-1-20250805"
EMBEDDING = "voyage-3"
PERSONAS = ("Growth Strategist", "CFO", "Operations Lead", "Risk Analyst", "Product Lead", "Customer Advocate")
OUTCOMES = ("completed", "failed", "hold")


class NodeError(RuntimeError):
    """A graph node failed (the session ends 'failed')."""


@dataclass(frozen=True)
class Simulation:
    """What the session will do: complete after `rounds`, fail in `fail_node`, or hold in round 2."""

    outcome: str = "completed"
    rounds: int = 3
    personas: int = 3
    fail_node: str = "vote"
    research: bool = False
    anthropic_outage_attempts: int = 0
    # Attempts of the synthesis model (Opus) that fail overloaded: bo1 falls back within the provider.
    opus_outage_attempts: int = 0
    # bo1's graph execution timeout in simulated seconds (0: none); a session still running then fails.
    graph_timeout_s: float = 0.0
    session_type: str = "standard"

    @classmethod
    def from_context(cls, context: dict[str, Any] | None) -> Simulation:
        raw = dict((context or {}).get("simulation") or {})
        sim = cls(**{k: v for k, v in raw.items() if k in cls.__dataclass_fields__})
        if sim.outcome not in OUTCOMES:
            raise ValueError(f"unknown simulated outcome {sim.outcome!r}")
        return sim


@dataclass
class Deliberation:
    session_id: str
    user_id: str
    problem: str
    sim: Simulation
    database_url: str
    broker: PromptBroker
    tracker: CostTracker
    publisher: EventPublisher
    metrics: Bo1Metrics
    time_scale: float
    quality: QualityChecks
    spent: Decimal = Decimal(0)
    personas: list[str] = field(default_factory=list)

    def _ctx(self, node: str, phase: str, persona: str | None = None, round_number: int | None = None) -> CallContext:
        return CallContext(self.session_id, self.user_id, node, phase, persona, round_number, prompt_type=node)

    def _key(self, node: str, round_number: int = 0, persona: str = "") -> str:
        return f"{self.problem}:{node}:{round_number}:{persona}"

    def _add(self, result: CallResult | None) -> None:
        if result is not None:
            self.spent += result.total_cost

    async def _node(self, name: str, body: Callable[[], Awaitable[None]]) -> None:
        started = time.perf_counter()
        status = "success"
        try:
            if self.sim.outcome == "failed" and self.sim.fail_node == name:
                await asyncio.sleep(0.8 * self.time_scale)
                raise NodeError(f"{name} failed: invalid model output")
            await body()
        except Exception:
            status = "error"
            self.metrics.graph_node_errors_total.labels(name).inc()
            raise
        finally:
            if status == "error" or not _cancelled():
                seconds = (time.perf_counter() - started) / self.time_scale
                self.metrics.graph_node_duration_seconds.labels(name).observe(seconds)
                self.metrics.graph_node_total.labels(name, status).inc()
        await self.tracker.maybe_flush()

    async def _complete(
        self,
        model: str,
        node: str,
        phase: str,
        persona: str | None,
        rnd: int | None,
        prompt_tokens: int,
        max_output: int,
        cache: bool = False,
        validate: tuple[str, str] | None = None,
    ) -> None:
        result = await self.broker.complete(
            model,
            self._key(node, rnd or 0, persona or ""),
            self._ctx(node, phase, persona, rnd),
            prompt_tokens,
            max_output,
            cache_prompt=self.problem if cache else None,
            validate=validate,
        )
        self._add(result)

    async def run(self) -> None:
        """The whole graph; ends the session row and publishes the terminal event."""
        outages = self.broker.provider.outages
        model_outages = self.broker.provider.model_outages
        try:
            if self.sim.anthropic_outage_attempts:
                outages["anthropic"] = outages.get("anthropic", 0) + self.sim.anthropic_outage_attempts
            if self.sim.opus_outage_attempts:
                model_outages[OPUS] = model_outages.get(OPUS, 0) + self.sim.opus_outage_attempts
            await self._load_user_context()
            await self.publisher.publish(self.session_id, "session_started", {"problem": self.problem})
            if self.sim.graph_timeout_s > 0:
                await asyncio.wait_for(self._graph(), self.sim.graph_timeout_s * self.time_scale)
            else:
                await self._graph()
        except NodeError as error:
            await self._fail(str(error))
            return
        except TimeoutError:
            self.metrics.graph_execution_timeout_total.labels(self.sim.session_type).inc()
            await self._fail("graph execution timed out")
            return
        finally:
            if self.sim.anthropic_outage_attempts:
                # The outage this session asked for ends with its graph: attempts it did not use (a
                # breaker open, cache hits) must not fail the calls of whichever session runs next.
                outages["anthropic"] = 0
            if self.sim.opus_outage_attempts:
                model_outages[OPUS] = 0
            self.broker.forget_session(self.session_id)
            self.tracker.forget_session(self.session_id)
        await self.tracker.flush()
        await db.complete_session(self.database_url, self.session_id, self.sim.rounds, self.spent, len(self.personas))
        await self.publisher.publish(self.session_id, "complete", {"rounds": self.sim.rounds})

    async def _fail(self, error: str) -> None:
        await self.tracker.flush()
        await db.update_status(self.database_url, self.session_id, "failed")
        await self.publisher.publish(self.session_id, "error", {"error": error})

    async def _load_user_context(self) -> None:
        """bo1 loads the user's business context (user_context:{user_id}) when a session starts."""
        found = await self.publisher.redis.exists(f"user_context:{self.user_id}")
        self.metrics.user_context_cache_total.labels("hit" if found else "miss").inc()

    async def _graph(self) -> None:
        await db.update_phase(self.database_url, self.session_id, "decomposition")
        await self._node("decompose", self._decompose)
        await db.update_phase(self.database_url, self.session_id, "selection")
        await self._node("select_personas", self._select_personas)
        await db.update_phase(self.database_url, self.session_id, "initial_round")
        await self._node("initial_round", lambda: self._round("initial_round", 1, SONNET))
        if self.sim.research:
            await self._node("research", self._research)
        await db.update_phase(self.database_url, self.session_id, "discussion")
        for rnd in range(2, self.sim.rounds + 1):
            if self.sim.outcome == "hold":
                await self.publisher.publish(self.session_id, "round_started", {"round": rnd})
                await self._node("parallel_round", _hold_forever)
            await self._node("parallel_round", lambda r=rnd: self._round("parallel_round", r, SONNET))  # type: ignore[misc]
            await self._node("check_convergence", lambda r=rnd: self._convergence(r))  # type: ignore[misc]
        await db.update_phase(self.database_url, self.session_id, "voting")
        await self._node("vote", self._vote)
        await db.update_phase(self.database_url, self.session_id, "synthesis")
        await self._node("synthesize", self._synthesize)

    async def _decompose(self) -> None:
        await self._complete(SONNET, "decompose", "decomposition", None, None, 2400, 900, cache=True)
        await self.publisher.publish(self.session_id, "decomposition_complete", {"sub_problems": 1})

    async def _select_personas(self) -> None:
        self.personas = list(PERSONAS[: self.sim.personas])
        result = self.broker.provider.embed(EMBEDDING, self._key("select_personas"), len(self.personas))
        self._add(await self.broker.untracked_by_broker(result, self._ctx("select_personas", "selection")))
        await self._complete(HAIKU, "select_personas", "selection", None, None, 1800, 400)
        self.quality.personas_selected(HAIKU, len(self.personas))
        for persona in self.personas:
            await self.publisher.publish(self.session_id, "persona_selected", {"persona": persona})

    async def _round(self, node: str, rnd: int, model: str) -> None:
        await self.publisher.publish(self.session_id, "round_started", {"round": rnd})
        phase = "initial_round" if rnd == 1 else "discussion"
        for _ in self.personas:
            self.quality.tier_selected(rnd, self.user_id)
        contribution = ("persona", "contribution")
        await asyncio.gather(
            *(
                self._complete(model, node, phase, p, rnd, 3000 + 600 * rnd, 700, validate=contribution)
                for p in self.personas
            )
        )
        for persona in self.personas:
            await self.publisher.publish(self.session_id, "contribution", {"persona": persona, "round": rnd})
        self.quality.round_done(self._key(node, rnd), rnd, self.personas)

    async def _research(self) -> None:
        for provider, operation in (("brave", "web_search"), ("tavily", "advanced_search")):
            result = self.broker.provider.search(provider, operation, self._key("research", 0, provider))
            self._add(await self.broker.untracked_by_broker(result, self._ctx("research", "discussion")))

    async def _convergence(self, rnd: int) -> None:
        await self._complete(HAIKU, "check_convergence", "convergence", None, rnd, 2500, 200)
        await self.publisher.publish(self.session_id, "convergence", {"round": rnd})
        self.quality.convergence_checked(rnd, self.sim.rounds)

    async def _vote(self) -> None:
        await self.publisher.publish(self.session_id, "voting_started", {})
        await asyncio.gather(
            *(self._complete(SONNET, "vote", "voting", p, self.sim.rounds, 4200, 500) for p in self.personas)
        )
        await self.publisher.publish(self.session_id, "voting_complete", {})

    async def _synthesize(self) -> None:
        synthesis = ("synthesizer", "synthesis_report")
        await self._complete(OPUS, "synthesize", "synthesis", None, self.sim.rounds, 6000, 1500, validate=synthesis)
        await self.publisher.publish(self.session_id, "synthesis_complete", {})


async def _hold_forever() -> None:
    await asyncio.Event().wait()


def _cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
