"""What PostgreSQL does for a panel's SQL: EXPLAIN (ANALYZE, FORMAT JSON), and the seq scans that read
whole api_costs partitions."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg

LEDGER = "api_costs"


@dataclass(frozen=True)
class ScanNode:
    node_type: str
    relation: str
    index: str | None
    actual_rows: float
    rows_removed_by_filter: float


@dataclass
class PlanReport:
    execution_ms: float
    planning_ms: float
    wall_ms: float
    scans: list[ScanNode] = field(default_factory=list)
    plan: Any = None

    def seq_scanned_partitions(self) -> list[str]:
        """api_costs partitions (or the table itself) read by a sequential scan, i.e. read whole."""
        return sorted({s.relation for s in self.scans if s.node_type == "Seq Scan" and is_ledger(s.relation)})

    def ledger_access(self) -> list[str]:
        """How each api_costs relation is read: `relation: Seq Scan` / `relation: Index Only Scan idx`."""
        return sorted(
            {
                f"{s.relation}: {s.node_type}{' ' + s.index if s.index else ''}"
                for s in self.scans
                if is_ledger(s.relation)
            }
        )


def is_ledger(relation: str) -> bool:
    return relation == LEDGER or relation.startswith(LEDGER + "_2") or relation.startswith(LEDGER + "_1")


def walk(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield node
    for child in node.get("Plans") or []:
        yield from walk(child)


def scans_of(plan: Mapping[str, Any]) -> list[ScanNode]:
    out = []
    for node in walk(plan):
        relation = node.get("Relation Name")
        if relation is None:
            continue
        out.append(
            ScanNode(
                node_type=str(node.get("Node Type")),
                relation=str(relation),
                index=node.get("Index Name"),
                actual_rows=float(node.get("Actual Rows", 0)) * float(node.get("Actual Loops", 1)),
                rows_removed_by_filter=float(node.get("Rows Removed by Filter", 0)),
            )
        )
    return out


def explain(dsn: str, sql: str, statement_timeout_ms: int = 60_000, settings: tuple[str, ...] = ()) -> PlanReport:
    """EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) the query in a read-only transaction, as Grafana would run it
    (`settings`: `name = value` planner settings for this transaction only)."""
    with psycopg.connect(dsn, autocommit=False) as conn:
        conn.read_only = True
        with conn.cursor() as cur:
            cur.execute(f"SET LOCAL statement_timeout = {int(statement_timeout_ms)}")
            for setting in settings:
                cur.execute(f"SET LOCAL {setting}".encode())
            started = time.perf_counter()
            cur.execute(b"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql.encode())
            wall_ms = (time.perf_counter() - started) * 1000
            row = cur.fetchone()
        conn.rollback()
    doc = row[0] if row else []
    if isinstance(doc, str):
        doc = json.loads(doc)
    top = doc[0]
    return PlanReport(
        execution_ms=float(top.get("Execution Time", 0.0)),
        planning_ms=float(top.get("Planning Time", 0.0)),
        wall_ms=wall_ms,
        scans=scans_of(top["Plan"]),
        plan=top["Plan"],
    )
