"""bo1's CostTracker: per-call Prometheus figures, a buffer, and batched ledger flushes.

bo1 tracks every provider call (anthropic, openai fallbacks, voyage, brave, tavily). The api_costs
CHECK admits anthropic/voyage/brave/tavily only, so a batch holding an openai row is rejected: the
flush counts a failure and the rows are then written one by one: a row the database rejects for
good (an IntegrityError such as check_provider) is dropped, a row that failed for a passing reason
(connection trouble) stays in the retry queue (bo1_cost_retry_queue_depth) for the next flush. The openai spend is thus visible in llm_cost_dollars_total
and bo1_llm_cost_cents_total, but never in api_costs, which is what bo1's ledger does with it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

import psycopg

from bo1dash.workload.ledger import CostRecord, insert_cost_records
from bo1dash.workload.metrics import Bo1Metrics, normalize_model

T = TypeVar("T")


def emit_call_metrics(metrics: Bo1Metrics, record: CostRecord) -> None:
    """CostTracker._emit_prometheus_metrics for one tracked call."""
    model = normalize_model(record.model_name)
    if record.latency_ms:
        metrics.llm_request_duration_seconds.labels(record.provider, model, record.operation_type).observe(
            record.latency_ms / 1000
        )
    tokens = {
        "input": record.input_tokens,
        "output": record.output_tokens,
        "cache_read": record.cache_read_tokens,
        "cache_write": record.cache_creation_tokens,
    }
    for token_type, count in tokens.items():
        if count > 0:
            metrics.llm_tokens_total.labels(record.provider, model, token_type).inc(count)
    if record.total_cost > 0:
        metrics.llm_cost_dollars_total.labels(record.provider, model).inc(float(record.total_cost))
    if record.provider == "anthropic" and record.status == "success":
        result = "hit" if record.cache_hit else "miss"
        metrics.llm_cache_total.labels(result).inc()
        metrics.prompt_type_cache_total.labels(record.prompt_type or "unknown", result).inc()


def _write_rows_one_by_one(conn: psycopg.Connection, records: list[CostRecord]) -> list[CostRecord]:
    retry: list[CostRecord] = []
    for record in records:
        try:
            insert_cost_records(conn, [record])
        except psycopg.IntegrityError:
            continue
        except psycopg.Error:
            retry.append(record)
    return retry


# bo1's anomaly thresholds (USD) and budget alert levels (fractions of the session budget).
HIGH_SINGLE_CALL_USD = Decimal("0.10")
HIGH_SESSION_TOTAL_USD = Decimal("0.40")
BUDGET_LEVELS = (("warning", Decimal("0.8")), ("exceeded", Decimal("1.0")))
AGGREGATION_TTL_S = 30.0


@dataclass
class SessionSpend:
    total: Decimal = Decimal(0)
    flagged: set[str] = field(default_factory=set)


@dataclass
class CostTracker:
    database_url: str
    metrics: Bo1Metrics
    batch_size: int = 20
    session_budget_usd: float = 0.45
    buffer: list[CostRecord] = field(default_factory=list)
    retry_queue: list[CostRecord] = field(default_factory=list)
    sessions: dict[str, SessionSpend] = field(default_factory=dict)
    aggregates: dict[str, tuple[float, object]] = field(default_factory=dict)
    prompt_cache_calls: int = 0
    prompt_cache_hits: int = 0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def track(self, record: CostRecord) -> None:
        emit_call_metrics(self.metrics, record)
        if record.provider == "anthropic" and record.status == "success":
            self.prompt_cache_calls += 1
            self.prompt_cache_hits += record.cache_hit
        self._check_anomalies(record)
        self.buffer.append(record)

    def _check_anomalies(self, record: CostRecord) -> None:
        """bo1's anomaly detection per call and its once-per-session budget alerts."""
        if record.total_cost < 0:
            self.metrics.cost_anomaly_total.labels("negative_cost").inc()
        if record.total_cost > HIGH_SINGLE_CALL_USD:
            self.metrics.cost_anomaly_total.labels("high_single_call").inc()
        if record.session_id is None:
            return
        spend = self.sessions.setdefault(record.session_id, SessionSpend())
        spend.total += record.total_cost
        if spend.total > HIGH_SESSION_TOTAL_USD and "high_session_total" not in spend.flagged:
            spend.flagged.add("high_session_total")
            self.metrics.cost_anomaly_total.labels("high_session_total").inc()
        budget = Decimal(str(self.session_budget_usd))
        for alert, level in BUDGET_LEVELS:
            if spend.total >= budget * level and alert not in spend.flagged:
                spend.flagged.add(alert)
                self.metrics.session_budget_alerts_total.labels(alert).inc()

    def forget_session(self, session_id: str) -> None:
        self.sessions.pop(session_id, None)

    async def cached_aggregate(self, key: str, compute: Callable[[], Awaitable[T]]) -> T:
        """bo1's aggregation cache: an aggregate query answered from memory for AGGREGATION_TTL_S."""
        now = time.monotonic()
        hit = self.aggregates.get(key)
        if hit is not None and now - hit[0] < AGGREGATION_TTL_S:
            self.metrics.aggregation_cache_hits_total.inc()
            return hit[1]  # type: ignore[return-value]
        self.metrics.aggregation_cache_misses_total.inc()
        value = await compute()
        self.aggregates[key] = (now, value)
        return value

    async def maybe_flush(self) -> None:
        if len(self.buffer) >= self.batch_size:
            await self.flush()

    async def flush(self) -> None:
        async with self._lock:
            batch = self.retry_queue + self.buffer
            self.buffer = []
            self.retry_queue = []
            if not batch:
                return
            started = time.perf_counter()
            rejected = await asyncio.to_thread(self._flush_sync, batch)
            self.metrics.cost_flush_duration_seconds.observe(time.perf_counter() - started)
            self.metrics.cost_flush_total.labels("success" if rejected is None else "failure").inc()
            self.retry_queue = rejected or []
            self.metrics.cost_retry_queue_depth.set(len(self.retry_queue))

    def _flush_sync(self, batch: list[CostRecord]) -> list[CostRecord] | None:
        """None when the batch went in whole; else the rows to retry after a row-by-row write."""
        try:
            with psycopg.connect(self.database_url, autocommit=True) as conn:
                try:
                    insert_cost_records(conn, batch)
                    return None
                except psycopg.Error:
                    return _write_rows_one_by_one(conn, batch)
        except psycopg.OperationalError:
            return batch
