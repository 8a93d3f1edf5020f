"""api_costs rows and their batch insert, as bo1's CostTracker writes them."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

import psycopg

from bo1dash.workload.provider import CallResult
from bo1dash.workload.schema import ensure_partitions

_COLUMNS = (
    "request_id",
    "created_at",
    "session_id",
    "user_id",
    "provider",
    "model_name",
    "operation_type",
    "node_name",
    "phase",
    "persona_name",
    "round_number",
    "sub_problem_index",
    "input_tokens",
    "output_tokens",
    "cache_creation_tokens",
    "cache_read_tokens",
    "cache_hit",
    "input_cost",
    "output_cost",
    "cache_write_cost",
    "cache_read_cost",
    "total_cost",
    "optimization_type",
    "cost_without_optimization",
    "latency_ms",
    "status",
    "error_message",
    "metadata",
    "feature",
    "cost_category",
)
INSERT_SQL = (
    f"INSERT INTO api_costs ({', '.join(_COLUMNS)}) VALUES ({', '.join(['%s'] * len(_COLUMNS))}) "
    "ON CONFLICT (request_id, created_at) DO NOTHING"
)


@dataclass(frozen=True)
class CostRecord:
    """One tracked provider call (one api_costs row)."""

    created_at: datetime
    provider: str
    model_name: str | None
    operation_type: str
    total_cost: Decimal
    input_cost: Decimal = Decimal(0)
    output_cost: Decimal = Decimal(0)
    cache_write_cost: Decimal = Decimal(0)
    cache_read_cost: Decimal = Decimal(0)
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0
    session_id: str | None = None
    user_id: str | None = None
    node_name: str | None = None
    phase: str | None = None
    persona_name: str | None = None
    round_number: int | None = None
    sub_problem_index: int | None = None
    latency_ms: int | None = None
    status: str = "success"
    error_message: str | None = None
    prompt_type: str | None = None
    feature: str | None = None
    cost_category: str = "user"
    request_id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def cache_hit(self) -> bool:
        return self.cache_read_tokens > 0

    def row(self) -> tuple[object, ...]:
        optimization = "prompt_cache" if self.cache_read_tokens > 0 else None
        return (
            self.request_id,
            self.created_at,
            self.session_id,
            self.user_id,
            self.provider,
            self.model_name,
            self.operation_type,
            self.node_name,
            self.phase,
            self.persona_name,
            self.round_number,
            self.sub_problem_index,
            self.input_tokens,
            self.output_tokens,
            self.cache_creation_tokens,
            self.cache_read_tokens,
            self.cache_hit,
            self.input_cost,
            self.output_cost,
            self.cache_write_cost,
            self.cache_read_cost,
            self.total_cost,
            optimization,
            None,
            self.latency_ms,
            self.status,
            self.error_message,
            json.dumps({"prompt_type": self.prompt_type, "request_id": str(self.request_id)}),
            self.feature,
            self.cost_category,
        )


@dataclass(frozen=True)
class CallContext:
    """Where a call happens; becomes api_costs columns."""

    session_id: str | None = None
    user_id: str | None = None
    node_name: str | None = None
    phase: str | None = None
    persona_name: str | None = None
    round_number: int | None = None
    prompt_type: str | None = None


def in_context(record: CostRecord, ctx: CallContext) -> CostRecord:
    """The record with the columns of the call's context (session, user, node, phase, persona, round)."""
    return replace(
        record,
        session_id=ctx.session_id,
        user_id=ctx.user_id,
        node_name=ctx.node_name,
        phase=ctx.phase,
        persona_name=ctx.persona_name,
        round_number=ctx.round_number,
        prompt_type=ctx.prompt_type,
    )


def record_from_call(call: CallResult, created_at: datetime, ctx: CallContext) -> CostRecord:
    """A successful call as a ledger record, in its context."""
    record = CostRecord(
        created_at=created_at,
        provider=call.provider,
        model_name=call.model,
        operation_type=call.operation,
        total_cost=call.total_cost,
        input_cost=call.cost.input_cost,
        output_cost=call.cost.output_cost,
        cache_write_cost=call.cost.cache_write_cost,
        cache_read_cost=call.cost.cache_read_cost,
        input_tokens=call.input_tokens,
        output_tokens=call.output_tokens,
        cache_creation_tokens=call.cache_write_tokens,
        cache_read_tokens=call.cache_read_tokens,
        latency_ms=int(call.latency_s * 1000),
    )
    return in_context(record, ctx)


def insert_cost_records(conn: psycopg.Connection, records: list[CostRecord]) -> None:
    """Batch insert in one transaction (raises if any row is rejected, e.g. by check_provider)."""
    if not records:
        return
    ensure_partitions(conn, [r.created_at.date() for r in records])
    with conn.transaction():
        with conn.cursor() as cur:
            cur.executemany(INSERT_SQL, [r.row() for r in records])
