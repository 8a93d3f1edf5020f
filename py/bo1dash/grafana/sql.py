"""Run a panel's SQL as Grafana's PostgreSQL datasource does: one read-only transaction, a statement timeout."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from bo1dash.grafana.frames import QueryResult, Table


class SqlError(RuntimeError):
    """PostgreSQL rejected the query; the message quotes PostgreSQL's error."""


@dataclass(frozen=True)
class SqlRunner:
    dsn: str
    statement_timeout_ms: int = 10_000

    def run(self, sql: str) -> QueryResult:
        try:
            with psycopg.connect(self.dsn, autocommit=False, connect_timeout=10) as conn:
                conn.read_only = True
                with conn.cursor() as cur:
                    cur.execute(f"SET LOCAL statement_timeout = {int(self.statement_timeout_ms)}")
                    cur.execute(sql.encode())
                    columns = tuple(d.name for d in cur.description or ())
                    rows = tuple(tuple(row) for row in cur.fetchall()) if cur.description else ()
                conn.rollback()
        except psycopg.OperationalError as exc:
            raise SqlError(f"cannot connect to PostgreSQL: {str(exc).strip()}") from exc
        except psycopg.Error as exc:
            diag = getattr(exc, "diag", None)
            primary = (diag.message_primary if diag and diag.message_primary else str(exc)).strip()
            raise SqlError(f"SQL error: {primary}") from exc
        return QueryResult(query=sql, table=Table(columns=columns, rows=rows), kind="sql")
