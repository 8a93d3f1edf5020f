"""A simulated LLM / embedding / search provider: no network, deterministic per call key.

Latencies are realistic (seconds of model time); callers sleep `latency * time_scale` of real time
and record the realistic figure, so a scenario runs in minutes while the histograms read like bo1's.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from bo1dash.workload.pricing import Cost, PriceTable, search_cost, token_cost

# tokens per second and time to first token (seconds) by model family
_SPEED = {
    "opus": (30.0, 1.6),
    "sonnet": (60.0, 0.9),
    "haiku": (140.0, 0.5),
    "gpt-5.1-mini": (120.0, 0.6),
    "gpt-5.1": (70.0, 0.8),
}


class ProviderError(Exception):
    """A transient provider failure (bo1 retries these: overloaded, rate_limit, server_error)."""

    def __init__(self, provider: str, error_type: str, model: str | None = None) -> None:
        super().__init__(f"{provider}: {error_type}")
        self.provider = provider
        self.error_type = error_type
        self.model = model  # set when only this model is overloaded (a 529 another model avoids)


@dataclass(frozen=True)
class CallResult:
    provider: str
    model: str | None
    operation: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    latency_s: float
    cost: Cost

    @property
    def total_cost(self) -> Decimal:
        return self.cost.total


@dataclass
class SimulatedProvider:
    """Answers calls from a seeded RNG keyed by the call; `outages[provider]` fails that many attempts,
    `model_outages[model]` that many attempts of one model."""

    prices: PriceTable
    seed: int
    outages: dict[str, int] = field(default_factory=dict)
    model_outages: dict[str, int] = field(default_factory=dict)

    def _rng(self, key: str) -> random.Random:
        return random.Random(f"{self.seed}:{key}")

    def _maybe_fail(self, provider: str, latency_s: float) -> None:
        remaining = self.outages.get(provider, 0)
        if remaining > 0:
            self.outages[provider] = remaining - 1
            raise ProviderError(provider, "overloaded")

    def complete(self, model: str, key: str, prompt_tokens: int, max_output: int) -> CallResult:
        """A chat completion; raises ProviderError during an injected outage."""
        price = self.prices.model(model)
        rng = self._rng(key)
        self._maybe_fail(price.provider, 0.0)
        if self.model_outages.get(model, 0) > 0:
            self.model_outages[model] -= 1
            raise ProviderError(price.provider, "overloaded", model)
        output = rng.randint(max(60, max_output // 4), max_output)
        cached = 0
        cache_write = 0
        if price.provider == "anthropic":
            # bo1 caches the system prompt: a read most of the time, a write on a cold cache
            if rng.random() < 0.7:
                cached = int(prompt_tokens * rng.uniform(0.4, 0.7))
            else:
                cache_write = int(prompt_tokens * rng.uniform(0.2, 0.4))
        fresh_input = prompt_tokens - cached - cache_write
        family = next(name for name in _SPEED if name in model) if any(n in model for n in _SPEED) else "sonnet"
        tps, ttft = _SPEED[family]
        latency = ttft * rng.uniform(0.7, 1.5) + output / (tps * rng.uniform(0.8, 1.2))
        return CallResult(
            provider=price.provider,
            model=model,
            operation="completion",
            input_tokens=fresh_input,
            output_tokens=output,
            cache_read_tokens=cached,
            cache_write_tokens=cache_write,
            latency_s=round(latency, 3),
            cost=token_cost(price, fresh_input, output, cached, cache_write),
        )

    def embed(self, model: str, key: str, texts: int) -> CallResult:
        price = self.prices.model(model)
        rng = self._rng(key)
        tokens = sum(rng.randint(40, 400) for _ in range(texts))
        return CallResult(
            provider=price.provider,
            model=model,
            operation="embedding" if texts == 1 else "embedding_batch",
            input_tokens=tokens,
            output_tokens=0,
            cache_read_tokens=0,
            cache_write_tokens=0,
            latency_s=round(rng.uniform(0.15, 0.6) + tokens / 20000, 3),
            cost=token_cost(price, tokens, 0, 0, 0),
        )

    def search(self, provider: str, operation: str, key: str) -> CallResult:
        rng = self._rng(key)
        return CallResult(
            provider=provider,
            model=None,
            operation=operation,
            input_tokens=0,
            output_tokens=0,
            cache_read_tokens=0,
            cache_write_tokens=0,
            latency_s=round(rng.uniform(0.6, 2.8 if operation == "advanced_search" else 1.4), 3),
            cost=search_cost(self.prices, provider, operation),
        )
