"""Postgres targets (`rawSql`): one read-only statement, bounded in time, on catalogued tables/columns.

Parsed with sqlglot (postgres dialect) after Grafana's macros are expanded; columns are resolved
with sqlglot's qualify() against the table catalog, so aliases, joins and CTEs are understood.
  sql/parse              the statement does not parse
  sql/not-read-only      more than one statement, or anything but SELECT (DML, DDL, COPY, FOR UPDATE)
  sql/not-time-bounded   no $__timeFilter / $__timeFrom / $__timeTo / $__unixEpoch* macro
                         (a fixed now()-relative window is a warning; $__timeGroup alone does not bound)
  sql/unknown-table      a table the catalog does not know
  sql/unknown-column     a column no table of the query has
  sql/never-written      a column bo1 never writes (always NULL)
  sql/unknown-value      a literal compared with a column whose values are a closed set
"""

from __future__ import annotations

from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError, SqlglotError
from sqlglot.optimizer.qualify import qualify

from bo1dash.catalog import Catalog
from bo1dash.lint.model import ERROR, POSTGRES_TYPES, WARNING, Dashboard, Finding, LintContext, Target, iter_targets
from bo1dash.lint.substitute import SQL_TIME_BOUNDING_MACROS, interpolate_sql, is_marker, sql_macros_used

WRITE_NODES = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.Command,
    exp.Merge,
    exp.TruncateTable,
    exp.Copy,
)
NOW_FUNCTIONS = (exp.CurrentTimestamp, exp.CurrentDate, exp.CurrentTime)


def _schema(catalog: Catalog) -> dict[str, object]:
    return {t.name: {c: (kind or "text") for c, kind in t.columns.items()} for t in catalog.tables.values()}


def _bounded_by_now(tree: exp.Expression) -> bool:
    for cmp in tree.find_all(exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between):
        has_col = cmp.find(exp.Column) is not None
        has_now = cmp.find(*NOW_FUNCTIONS) is not None or any(
            isinstance(f, exp.Anonymous) and f.name.lower() == "now" for f in cmp.find_all(exp.Anonymous)
        )
        if has_col and has_now:
            return True
    return False


def _table_of(column: exp.Column, aliases: dict[str, str]) -> str | None:
    return aliases.get(column.table) if column.table else None


def check_sql(dashboard: Dashboard, target: Target, catalog: Catalog) -> list[Finding]:
    raw = str(target.data.get("rawSql") or "")
    title, ref_id = target.panel_title, target.ref_id
    findings: list[Finding] = []

    def add(rule: str, severity: str, message: str, fix: str) -> None:
        f = dashboard.finding(rule, severity, message, fix, panel=title, ref_id=ref_id)
        if f not in findings:
            findings.append(f)

    if not raw.strip():
        add("sql/parse", ERROR, "the Postgres target has an empty rawSql", "write the query or remove the target")
        return findings
    macros = sql_macros_used(raw)
    text = interpolate_sql(raw, dashboard.variables())
    try:
        statements = [s for s in sqlglot.parse(text, read="postgres") if s is not None]
    except (ParseError, SqlglotError) as exc:
        add(
            "sql/parse",
            ERROR,
            f"does not parse as PostgreSQL after macro expansion: {exc}",
            "fix the SQL (run it in psql with the macros replaced by timestamps)",
        )
        return findings
    if len(statements) != 1:
        add(
            "sql/not-read-only",
            ERROR,
            f"holds {len(statements)} statements; a panel query must be exactly one SELECT",
            "keep one SELECT (WITH ... SELECT) per target",
        )
        return findings
    tree = statements[0]
    writes = [n for n in tree.walk() if isinstance(n, WRITE_NODES)]
    if writes or not isinstance(tree, (exp.Select, exp.SetOperation)):
        kind = type(writes[0] if writes else tree).__name__.upper()
        add(
            "sql/not-read-only",
            ERROR,
            f"is a {kind} statement: dashboards may only read",
            "rewrite as a SELECT; the Grafana role must be read-only anyway",
        )
        return findings
    if tree.find(exp.Lock):
        add(
            "sql/not-read-only",
            ERROR,
            "SELECT ... FOR UPDATE/SHARE takes row locks on bo1's tables",
            "drop the locking clause",
        )
    if not macros & SQL_TIME_BOUNDING_MACROS:
        if _bounded_by_now(tree):
            add(
                "sql/not-time-bounded",
                WARNING,
                "bounded by a fixed now()-relative window, not by the dashboard time range",
                "use $__timeFilter(<time column>) (or $__timeFrom()/$__timeTo()) so the panel follows the time picker",
            )
        else:
            grouped = (
                " ($__timeGroup only groups, it does not filter)"
                if macros & {"__timeGroup", "__timeGroupAlias"}
                else ""
            )
            add(
                "sql/not-time-bounded",
                ERROR,
                f"reads its tables without a time bound{grouped}: it scans all history on every refresh",
                "add WHERE $__timeFilter(<time column>) (created_at for api_costs/sessions, date for daily_* tables)",
            )

    if catalog.open_tables:
        return findings  # no table list to check against (--catalog none, or a catalog without tables)
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    aliases: dict[str, str] = {}
    unknown_tables = False
    for table in tree.find_all(exp.Table):
        name = table.name
        if not name or name in ctes:
            continue
        if name not in catalog.tables:
            unknown_tables = True
            add(
                "sql/unknown-table",
                ERROR,
                f"reads table {name!r}, which the catalog does not know (known: {', '.join(sorted(catalog.tables))})",
                "use one of bo1's tables (py/bo1dash/catalog/tables.yaml); add a table there only if bo1 has it "
                "or infra/postgres/ creates it",
            )
            continue
        aliases[table.alias_or_name] = name
        aliases[name] = name
    if unknown_tables:
        return findings
    try:
        qualified = qualify(
            tree.copy(),
            schema=_schema(catalog),
            dialect="postgres",
            validate_qualify_columns=True,
            quote_identifiers=False,
        )
    except OptimizeError as exc:
        add(
            "sql/unknown-column",
            ERROR,
            f"column reference does not resolve: {exc}",
            "use the columns listed for the table in py/bo1dash/catalog/tables.yaml",
        )
        return findings
    except SqlglotError:
        return findings
    q_aliases: dict[str, str] = {}
    for table in qualified.find_all(exp.Table):
        if table.name in catalog.tables:
            q_aliases[table.alias_or_name] = table.name
    for column in qualified.find_all(exp.Column):
        table_name = _table_of(column, q_aliases)
        if table_name is None:
            continue
        if column.name in catalog.tables[table_name].never_written:
            add(
                "sql/never-written",
                ERROR,
                f"reads {table_name}.{column.name}, which bo1 never writes (always NULL)",
                "derive it from written columns (e.g. updated_at - created_at for a finished session's duration)",
            )
    for cmp in [*qualified.find_all(exp.EQ), *qualified.find_all(exp.In)]:
        sides: list[Any] = list(cmp.expressions) if isinstance(cmp, exp.In) else [cmp.this, cmp.expression]
        compared = cmp.this if isinstance(cmp, exp.In) else next((s for s in sides if isinstance(s, exp.Column)), None)
        if not isinstance(compared, exp.Column):
            continue
        literals = sides
        table_name = _table_of(compared, q_aliases)
        closed = catalog.tables[table_name].values.get(compared.name) if table_name else None
        if not closed:
            continue
        for lit in literals:
            if isinstance(lit, exp.Literal) and lit.is_string and not is_marker(lit.this) and lit.this not in closed:
                add(
                    "sql/unknown-value",
                    ERROR,
                    f"{table_name}.{compared.name} = {lit.this!r}: not a value bo1 writes (values: {', '.join(closed)})",
                    f"use one of: {', '.join(closed)}",
                )
    return findings


def check(dashboard: Dashboard, ctx: LintContext) -> list[Finding]:
    findings: list[Finding] = []
    for target in iter_targets(dashboard, ctx):
        if target.data.get("hide") is True:
            continue
        if target.ds_type in POSTGRES_TYPES or (target.ds_type is None and "rawSql" in target.data):
            findings.extend(check_sql(dashboard, target, ctx.catalog))
    return findings
