"""bo1's deliberation quality machinery, as metrics: persona selection, model tiers, context pruning,
challenge-phase validation, contribution summaries and early exit.

bo1 decides these from its models' answers; the look-alike decides them from the round and persona
and a fixed cadence (`Every`), so a session's figures follow from its plan. None of them makes a
provider call of its own: the LLM and cost figures stay exactly those of the session's graph.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field

from bo1dash.workload.cadence import Every
from bo1dash.workload.metrics import Bo1Metrics

MAX_ROUNDS = 6  # bo1's round cap: a session that stops before it stopped on high convergence
CHALLENGE_ROUNDS = (3, 4)  # bo1's challenge phase
PRUNE_AFTER_ROUNDS = 2  # contributions older than this many rounds leave the context
AB_GROUPS = ("test", "control", "none")


def expert_type(persona: str) -> str:
    """bo1's persona code, e.g. "Growth Strategist" -> growth_strategist."""
    return persona.lower().replace(" ", "_")


def complexity_bucket(personas: int) -> str:
    return "simple" if personas <= 3 else "moderate" if personas <= 4 else "complex"


def model_tier(rnd: int) -> str:
    """bo1's get_model_for_phase() for contributions: fast for rounds 1-2, core from round 3."""
    return "fast" if rnd <= 2 else "core"


def ab_group(user_id: str) -> str:
    """A stable A/B assignment per user."""
    return AB_GROUPS[int(hashlib.sha256(user_id.encode()).hexdigest(), 16) % len(AB_GROUPS)]


@dataclass
class QualityChecks:
    metrics: Bo1Metrics
    seed: int = 1
    challenge_failures: Every = field(default_factory=lambda: Every(4))
    retry_failures: Every = field(default_factory=lambda: Every(3))
    summary_fallbacks: Every = field(default_factory=lambda: Every(11))
    summary_errors: Every = field(default_factory=lambda: Every(29))

    def personas_selected(self, model: str, personas: int) -> None:
        self.metrics.persona_selector_model_total.labels(model, complexity_bucket(personas)).inc()

    def tier_selected(self, rnd: int, user_id: str) -> None:
        self.metrics.model_tier_selected_total.labels(model_tier(rnd), str(rnd), ab_group(user_id)).inc()

    def round_done(self, key: str, rnd: int, personas: list[str]) -> None:
        """After a round: prune the context, validate challenge-phase contributions, summarize them."""
        if rnd > PRUNE_AFTER_ROUNDS:
            self.metrics.contributions_pruned_total.labels(str(rnd - PRUNE_AFTER_ROUNDS)).inc(len(personas))
        if rnd in CHALLENGE_ROUNDS:
            for persona in personas:
                self._challenge(rnd, expert_type(persona))
        self._summarize(key, personas)

    def _challenge(self, rnd: int, expert: str) -> None:
        if not self.challenge_failures.tick():
            self.metrics.challenge_phase_validation_total.labels("pass", str(rnd), expert).inc()
            return
        self.metrics.challenge_phase_validation_total.labels("fail", str(rnd), expert).inc()
        self.metrics.challenge_rejection_total.labels(str(rnd), expert).inc()
        result = "failure" if self.retry_failures.tick() else "success"
        self.metrics.challenge_retry_total.labels(result, str(rnd), expert).inc()

    def _summarize(self, key: str, personas: list[str]) -> None:
        """bo1's contribution summarizer (a background batch per round; simulated durations, in ms)."""
        rng = random.Random(f"{self.seed}:summary:{key}")
        durations = []
        for persona in personas:
            status = "success"
            if self.summary_errors.tick():
                status = "error"
            elif self.summary_fallbacks.tick():
                status = "fallback"
            ms = rng.uniform(400.0, 2600.0)
            durations.append(ms)
            self.metrics.contribution_summarization_duration_ms.labels(persona, status).observe(ms)
        self.metrics.contribution_summarization_batch_size.observe(len(personas))
        self.metrics.contribution_summarization_batch_duration_ms.observe(max(durations, default=0.0) + 150.0)

    def convergence_checked(self, rnd: int, rounds: int) -> None:
        """The last convergence check of a session that ends before MAX_ROUNDS is bo1's early exit."""
        if rnd == rounds and rounds < MAX_ROUNDS:
            self.metrics.early_exit_total.labels("convergence_high").inc()
