"""infra/postgres/monitoring-roles.sql and the passwords of the monitoring roles, against a real PostgreSQL 15.

The server is the stack's own (`bo1dash.stack.postgres.start_postgres`: scram passwords over TCP, bo1's
schema applied as bo1, cost-rollup.sql and monitoring-roles.sql run as they run in compose), started with
passwords that need quoting everywhere (spaces, quotes, backslashes, `-c`, `@`, `/`): every DSN the stack
builds must still log in.

- grafana_ro reads what every SQL panel of the compiled dashboards reads, the rows the owner sees (bo1's
  row level security included), and nothing else: no other table, no other column, no later table.
- The compose one-shot (postgres-monitoring-roles) run as its container runs it, with such passwords.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from compose_run import ROOT, container_env, host_argv, resolved_service
from psycopg import sql
from psycopg.conninfo import make_conninfo

from bo1dash.checks.tools import COMPOSE_DUMMY_ENV
from bo1dash.grafana.interpolate import interpolate_sql
from bo1dash.grafana.intervals import QueryContext
from bo1dash.grafana.sql import SqlError, SqlRunner
from bo1dash.grafana.time_range import TimeRange
from bo1dash.stack import postgres as stack_postgres
from bo1dash.stack.binaries import INITDB, POSTGRES, POSTGRES_EXPORTER, find_binaries
from bo1dash.stack.exporters import start_postgres_exporter
from bo1dash.stack.process import free_port, stop
from bo1dash.workload.schema import apply_schema

DASHBOARDS = ROOT / "infra" / "grafana" / "dashboards"
GRAFANA = "grafana_ro"


def awkward_password(role: str) -> str:
    """What a password manager may hand out: a space, both quotes, backslashes, a `-c x=y`, URL delimiters.
    postgres_exporter cannot take white space (monitoring-roles.sql refuses it), so its own has none."""
    base = f"{role} p@ss/w:rd 'q' \"dq\" back\\slash \\\\ -c x=y #1 %20 ?&="
    return base.replace(" ", "") if role == stack_postgres.EXPORTER_ROLE else base


@pytest.fixture(scope="module")
def pg(pg_started: tuple[stack_postgres.PostgresInfo, Path]) -> stack_postgres.PostgresInfo:
    return pg_started[0]


@pytest.fixture(scope="module")
def pg_started() -> Iterator[tuple[stack_postgres.PostgresInfo, Path]]:
    binaries = find_binaries((INITDB, POSTGRES))
    root = Path(tempfile.mkdtemp(prefix="bo1roles-test-"))
    root.chmod(0o755)  # PostgreSQL (as user postgres when we are root) must traverse it
    (root / "logs").mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stack_postgres, "new_password", awkward_password)
        info = stack_postgres.start_postgres(binaries, root, apply_schema=apply_schema, timeout=120)
    try:
        _fill(info.database_url)
        yield info, root
    finally:
        stop(info.service)


def _fill(owner_dsn: str) -> None:
    """Two users' sessions and costs over the last days, written as bo1 writes them (the owner)."""
    now = datetime.now(UTC)
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        for user in ("u1", "u2"):
            conn.execute(
                "INSERT INTO users (id, email, stripe_customer_id) VALUES (%s, %s, %s)",
                (user, f"{user}@example.invalid", f"cus_{user}"),
            )
            for i, status in enumerate(("completed", "failed", "running", "completed")):
                at = now - timedelta(hours=3 + 7 * i)
                session = f"{user}-s{i}"
                conn.execute(
                    "INSERT INTO sessions (id, user_id, status, round_number, created_at, updated_at)"
                    " VALUES (%s, %s, %s, %s, %s, %s)",
                    (session, user, status, 2 + i, at, at + timedelta(minutes=5 + i)),
                )
                conn.execute(
                    "INSERT INTO api_costs (created_at, provider, model_name, operation_type, total_cost,"
                    " session_id, user_id) VALUES (%s, 'anthropic', 'claude', 'completion', %s, %s, %s)",
                    (at, 0.25 + i, session, user),
                )


def _sql_targets() -> list[tuple[str, str, str]]:
    """(dashboard file, panel title, rawSql) of every SQL target of the compiled dashboards."""
    found: list[tuple[str, str, str]] = []

    def walk(node: object, file: str, title: str) -> None:
        if isinstance(node, dict):
            title = node.get("title", title) if isinstance(node.get("title"), str) else title
            if isinstance(node.get("rawSql"), str):
                found.append((file, title, node["rawSql"]))
            for value in node.values():
                walk(value, file, title)
        elif isinstance(node, list):
            for value in node:
                walk(value, file, title)

    for path in sorted(DASHBOARDS.glob("*.json")):
        walk(json.loads(path.read_text()), path.name, "")
    return found


TARGETS = _sql_targets()


def test_the_compiled_dashboards_have_sql_panels() -> None:
    assert {file for file, _, _ in TARGETS} >= {"cost.json", "deliberation.json"}


def _as_grafana_runs_it(raw: str) -> str:
    now = datetime.now(UTC)
    ctx = QueryContext(
        time_range=TimeRange(now - timedelta(days=7), now), datasource_type="grafana-postgresql-datasource"
    )
    return interpolate_sql(raw, {}, ctx)


def test_grafana_ro_sees_what_the_owner_sees_in_every_sql_panel(pg: stack_postgres.PostgresInfo) -> None:
    """Every SQL target, interpolated as Grafana sends it, run as grafana_ro (the verifier's runner) and as bo1."""
    numbers: list[float] = []
    for file, title, raw in TARGETS:
        query = _as_grafana_runs_it(raw)
        as_grafana = SqlRunner(pg.grafana_dsn).run(query).table
        as_owner = SqlRunner(pg.database_url).run(query).table
        assert as_grafana == as_owner, f"{file}: {title}"
        assert as_grafana.rows, f"{file}: {title} returned no row"
        numbers += [float(v) for row in as_grafana.rows for v in row if isinstance(v, int | float) and v]
    assert numbers, "every panel read zeros: the filled rows were not seen"


def _relations(admin_dsn: str) -> dict[str, list[str]]:
    """Every table, partition and view of schema public with its columns."""
    with psycopg.connect(admin_dsn) as conn:
        rows = conn.execute(
            "SELECT c.relname, a.attname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY 1, a.attnum"
        ).fetchall()
    relations: dict[str, list[str]] = {}
    for rel, col in rows:
        relations.setdefault(rel, []).append(col)
    return relations


def _readable(dsn: str, relation: str, column: str | None) -> bool:
    what = sql.SQL("count(*)") if column is None else sql.SQL("count({})").format(sql.Identifier(column))
    try:
        with psycopg.connect(dsn) as conn:
            conn.execute(sql.SQL("SELECT {} FROM {}").format(what, sql.Identifier(relation)))
    except psycopg.errors.InsufficientPrivilege:
        return False
    return True


def test_grafana_ro_reads_no_other_table_and_no_other_column(pg: stack_postgres.PostgresInfo) -> None:
    """Each column grafana_ro can read is read by some SQL panel; every other table is refused."""
    panel_sql = "\n".join(raw for _, _, raw in TARGETS)
    tables_read = {t for t in _relations(pg.admin_dsn) if re.search(rf"\b(FROM|JOIN)\s+{t}\b", panel_sql)}
    assert tables_read == {
        "api_costs",
        "api_costs_daily",
        "api_costs_daily_model",
        "api_costs_daily_session",
        "api_costs_daily_user",
        "sessions",
        "users",
    }
    refused_tables, refused_columns = [], []
    for relation, columns in _relations(pg.admin_dsn).items():
        if relation not in tables_read:
            assert not _readable(pg.grafana_dsn, relation, None), f"grafana_ro reads {relation}"
            refused_tables.append(relation)
            continue
        for column in columns:
            if _readable(pg.grafana_dsn, relation, column):
                assert re.search(rf"\b{column}\b", panel_sql), f"grafana_ro reads {relation}.{column}, no panel does"
            else:
                refused_columns.append(f"{relation}.{column}")
    # What the issue names: a user's Stripe ids, bo1's other tables, api_costs' partitions read directly.
    assert {"users.stripe_customer_id", "users.tier_override", "sessions.problem_statement"} <= set(refused_columns)
    assert {"daily_cost_summary", "daily_user_feature_costs"} <= set(refused_tables)
    assert any(t.startswith("api_costs_2") for t in refused_tables)
    with psycopg.connect(pg.admin_dsn) as conn:
        assert conn.execute("SELECT rolbypassrls FROM pg_roles WHERE rolname = %s", (GRAFANA,)).fetchone() == (False,)
    with psycopg.connect(pg.grafana_dsn) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT * FROM users")


def test_tables_bo1_creates_later_stay_closed_and_its_migrations_are_not_held_back(
    pg: stack_postgres.PostgresInfo,
) -> None:
    with psycopg.connect(pg.database_url, autocommit=True) as owner:
        owner.execute("CREATE TABLE later_migration (id int, secret text)")
        owner.execute("INSERT INTO later_migration VALUES (1, 'x')")
        # A migration changing a column the dashboards read (a view over it would make PostgreSQL refuse).
        owner.execute("ALTER TABLE sessions ALTER COLUMN status TYPE varchar(60)")
        try:
            assert not _readable(pg.grafana_dsn, "later_migration", None)
            assert _readable(pg.grafana_dsn, "sessions", "status")
        finally:
            owner.execute("DROP TABLE later_migration")
            owner.execute("ALTER TABLE sessions ALTER COLUMN status TYPE varchar(50)")


def test_every_dsn_the_stack_builds_logs_in_with_a_password_that_needs_quoting(
    pg: stack_postgres.PostgresInfo, pg_started: tuple[stack_postgres.PostgresInfo, Path], tmp_path: Path
) -> None:
    """start_postgres ran with awkward passwords (initdb, role creation, monitoring-roles.sql): each DSN logs in
    as its role, and postgres_exporter, given the exporter's DSN, is up."""
    for dsn, role in (
        (pg.admin_dsn, "postgres"),
        (pg.database_url, stack_postgres.OWNER_ROLE),
        (pg.grafana_dsn, GRAFANA),
        (pg.exporter_dsn, stack_postgres.EXPORTER_ROLE),
    ):
        assert "\\" in awkward_password(role) and "'" in awkward_password(role)
        with psycopg.connect(dsn) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (role,)
    assert " " in pg.grafana_password and pg.grafana_password == awkward_password(GRAFANA)
    # No password on disk: initdb read the superuser's from a FIFO, the roles got theirs over the connection.
    root = pg_started[1]
    secrets = [awkward_password(role).encode() for role in ("postgres", "bo1", GRAFANA, "postgres_exporter")]
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            content = path.read_bytes()
            assert not any(secret in content for secret in secrets), path
    exporter_binary = find_binaries((POSTGRES_EXPORTER,))["postgres-exporter"]
    (tmp_path / "logs").mkdir()
    exporter = start_postgres_exporter(exporter_binary, tmp_path, free_port(), dsn=pg.exporter_dsn, timeout=60)
    stop(exporter.service)


def _one_shot(pg: stack_postgres.PostgresInfo, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    """The compose service postgres-monitoring-roles, run as its container runs it, against this server."""
    service = resolved_service("postgres-monitoring-roles", {**os.environ, **COMPOSE_DUMMY_ENV, **env})
    run = host_argv(service, tmp_path, {})
    # The container reaches the database as postgres:5432 on the compose network; here it is 127.0.0.1.
    assert container_env(service)["PGHOST"] == "postgres"
    net = {"PGHOST": "127.0.0.1", "PGPORT": str(pg.port)}
    return subprocess.run(
        run.argv, env={**os.environ, **container_env(service), **net}, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def owner_is_superuser(pg: stack_postgres.PostgresInfo) -> Iterator[str]:
    """In compose, bo1 is the image's superuser (POSTGRES_USER): the one-shot logs in as bo1."""
    with psycopg.connect(pg.admin_dsn, autocommit=True) as admin:
        admin.execute(f"ALTER ROLE {stack_postgres.OWNER_ROLE} SUPERUSER")
        try:
            yield awkward_password(stack_postgres.OWNER_ROLE)
        finally:
            admin.execute(f"ALTER ROLE {stack_postgres.OWNER_ROLE} NOSUPERUSER")


def test_the_compose_one_shot_sets_passwords_that_need_quoting(
    pg: stack_postgres.PostgresInfo, owner_is_superuser: str, tmp_path: Path
) -> None:
    exporter_password = "ex'po\"rt\\er-c=x@/:#1"
    env = {
        "POSTGRES_PASSWORD": owner_is_superuser,
        "BO1_GRAFANA_PG_PASSWORD": pg.grafana_password,
        "POSTGRES_EXPORTER_PASSWORD": exporter_password,
    }
    proc = _one_shot(pg, env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert pg.grafana_password not in proc.stdout + proc.stderr  # nothing prints a password
    params = {"host": "127.0.0.1", "port": pg.port, "dbname": stack_postgres.DATABASE}
    for role, password in ((GRAFANA, pg.grafana_password), (stack_postgres.EXPORTER_ROLE, exporter_password)):
        with psycopg.connect(make_conninfo(**params, user=role, password=password)) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (role,)
    # The same grants as the stack's own run of the file: the panels still read what they read.
    raw = next(raw for _, title, raw in TARGETS if title == "Top 10 users by spend")
    assert SqlRunner(pg.grafana_dsn).run(_as_grafana_runs_it(raw)).table.rows


@pytest.mark.parametrize(
    "override, names",
    [
        ({"POSTGRES_EXPORTER_PASSWORD": "has a space"}, "POSTGRES_EXPORTER_PASSWORD"),
    ],
)
def test_the_one_shot_refuses_an_exporter_password_postgres_exporter_cannot_take(
    pg: stack_postgres.PostgresInfo, owner_is_superuser: str, tmp_path: Path, override: dict, names: str
) -> None:
    env = {"POSTGRES_PASSWORD": owner_is_superuser, "BO1_GRAFANA_PG_PASSWORD": pg.grafana_password, **override}
    proc = _one_shot(pg, env, tmp_path)
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and names in errors[0], proc.stderr
    with pytest.raises(SqlError):
        SqlRunner(make_conninfo(pg.exporter_dsn, password=override["POSTGRES_EXPORTER_PASSWORD"])).run("SELECT 1")


def test_running_it_again_takes_back_what_earlier_versions_granted(pg: stack_postgres.PostgresInfo) -> None:
    """An existing installation: grafana_ro had SELECT on every table, present and future, and BYPASSRLS."""
    with psycopg.connect(pg.admin_dsn, autocommit=True) as admin:
        admin.execute("ALTER ROLE grafana_ro BYPASSRLS")
        admin.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO grafana_ro")
        admin.execute("GRANT SELECT (stripe_customer_id) ON users TO grafana_ro")
        admin.execute("ALTER DEFAULT PRIVILEGES FOR ROLE bo1 IN SCHEMA public GRANT SELECT ON TABLES TO grafana_ro")
        assert _readable(pg.grafana_dsn, "daily_cost_summary", None)
        admin.execute("SELECT set_config('bo1.grafana_password', %s, false)", (pg.grafana_password,))
        admin.execute("SELECT set_config('bo1.exporter_password', 'exporter', false)")
        admin.execute((ROOT / "infra" / "postgres" / "monitoring-roles.sql").read_text())
        assert admin.execute("SELECT rolbypassrls FROM pg_roles WHERE rolname = 'grafana_ro'").fetchone() == (False,)
        defaults = admin.execute(
            "SELECT count(*) FROM pg_default_acl WHERE defaclacl::text LIKE '%grafana_ro%'"
        ).fetchone()
    assert defaults == (0,)
    assert not _readable(pg.grafana_dsn, "daily_cost_summary", None)
    assert not _readable(pg.grafana_dsn, "users", "stripe_customer_id")
    assert _readable(pg.grafana_dsn, "users", "email")
    with psycopg.connect(pg.database_url, autocommit=True) as owner:
        owner.execute("CREATE TABLE after_the_upgrade (id int)")
        try:
            assert not _readable(pg.grafana_dsn, "after_the_upgrade", None)
        finally:
            owner.execute("DROP TABLE after_the_upgrade")
