"""Price table (prices.yaml) and exact cost arithmetic in USD, at numeric(12,8) precision."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import yaml

PRICES_FILE = Path(__file__).with_name("prices.yaml")
CENT_PRECISION = Decimal("0.00000001")
PER_MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class ModelPrice:
    model: str
    provider: str
    operation: str
    input: Decimal
    output: Decimal
    cache_read: Decimal
    cache_write: Decimal


@dataclass(frozen=True)
class PriceTable:
    models: dict[str, ModelPrice]
    searches: dict[str, dict[str, Decimal]]

    def model(self, name: str) -> ModelPrice:
        return self.models[name]

    def search(self, provider: str, operation: str) -> Decimal:
        return self.searches[provider][operation]


@dataclass(frozen=True)
class Cost:
    input_cost: Decimal
    output_cost: Decimal
    cache_write_cost: Decimal
    cache_read_cost: Decimal

    @property
    def total(self) -> Decimal:
        return self.input_cost + self.output_cost + self.cache_write_cost + self.cache_read_cost


@lru_cache(maxsize=4)
def load_prices(path: Path = PRICES_FILE) -> PriceTable:
    raw = yaml.safe_load(path.read_text())
    models = {
        name: ModelPrice(
            model=name,
            provider=spec["provider"],
            operation=spec["operation"],
            input=Decimal(spec["input"]),
            output=Decimal(spec["output"]),
            cache_read=Decimal(spec["cache_read"]),
            cache_write=Decimal(spec["cache_write"]),
        )
        for name, spec in raw["models"].items()
    }
    searches = {p: {op: Decimal(v) for op, v in ops.items()} for p, ops in raw["searches"].items()}
    return PriceTable(models=models, searches=searches)


def _tokens(count: int, per_million: Decimal) -> Decimal:
    return (Decimal(count) * per_million / PER_MILLION).quantize(CENT_PRECISION)


def token_cost(price: ModelPrice, input_tokens: int, output_tokens: int, cache_read: int, cache_write: int) -> Cost:
    """Cost of one model call; input_tokens excludes the cached prompt parts."""
    return Cost(
        input_cost=_tokens(input_tokens, price.input),
        output_cost=_tokens(output_tokens, price.output),
        cache_write_cost=_tokens(cache_write, price.cache_write),
        cache_read_cost=_tokens(cache_read, price.cache_read),
    )


def search_cost(table: PriceTable, provider: str, operation: str) -> Cost:
    zero = Decimal("0").quantize(CENT_PRECISION)
    return Cost(
        input_cost=table.search(provider, operation).quantize(CENT_PRECISION),
        output_cost=zero,
        cache_write_cost=zero,
        cache_read_cost=zero,
    )
