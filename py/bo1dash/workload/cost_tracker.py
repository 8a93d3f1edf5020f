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
from dataclasses import dataclass, field

import psycopg

from bo1dash.workload.ledger import CostRecord, insert_cost_records
from bo1dash.workload.metrics import Bo1Metrics, normalize_model


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
        metrics.llm_cache_total.labels("hit" if record.cache_hit else "miss").inc()


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


@dataclass
class CostTracker:
    database_url: str
    metrics: Bo1Metrics
    batch_size: int = 20
    buffer: list[CostRecord] = field(default_factory=list)
    retry_queue: list[CostRecord] = field(default_factory=list)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def track(self, record: CostRecord) -> None:
        emit_call_metrics(self.metrics, record)
        self.buffer.append(record)

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
