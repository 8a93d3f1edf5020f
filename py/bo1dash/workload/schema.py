"""bo1's Postgres schema (users, sessions, partitioned api_costs) and its monthly partitions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
from psycopg import sql

SCHEMA_FILE = Path(__file__).with_name("schema.sql")
MONTHS_BEHIND = 2
MONTHS_AHEAD = 3


def month_start(day: date) -> date:
    return date(day.year, day.month, 1)


def add_months(first: date, months: int) -> date:
    index = first.year * 12 + (first.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def partition_name(first: date) -> str:
    return f"api_costs_{first.year:04d}_{first.month:02d}"


def ensure_partitions(conn: psycopg.Connection, days: list[date]) -> None:
    """Create the monthly api_costs partitions covering `days` (bo1's api_costs_YYYY_MM children)."""
    for first in sorted({month_start(d) for d in days}):
        stmt = sql.SQL("CREATE TABLE IF NOT EXISTS {} PARTITION OF api_costs FOR VALUES FROM ({}) TO ({})").format(
            sql.Identifier(partition_name(first)),
            sql.Literal(f"{first.isoformat()} 00:00:00+00"),
            sql.Literal(f"{add_months(first, 1).isoformat()} 00:00:00+00"),
        )
        conn.execute(stmt)


def apply_schema(conninfo: str) -> None:
    """Create bo1's tables, indexes, RLS and partitions (from 2 months back to 3 ahead); idempotent."""
    today = datetime.now(UTC).date()
    first = month_start(today)
    months = [add_months(first, k) for k in range(-MONTHS_BEHIND, MONTHS_AHEAD + 1)]
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(4711001)")
        try:
            conn.execute(SCHEMA_FILE.read_text())
            ensure_partitions(conn, months)
        finally:
            conn.execute("SELECT pg_advisory_unlock(4711001)")
