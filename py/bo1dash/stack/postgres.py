"""An ephemeral PostgreSQL 15 on 127.0.0.1: bo1's database, its owner, a read-only Grafana role, an exporter role.

Roles (passwords are random per run):
- `postgres`: superuser (the admin DSN).
- `bo1`: owns database `boardofone` and the tables the workload's schema creates, like bo1's own login.
- `grafana_ro`: Grafana's Postgres datasource, made by infra/postgres/monitoring-roles.sql (as in compose):
  SELECT on the columns the dashboards read and nothing else, read-only by default, no BYPASSRLS (a
  SELECT-only row level security policy of its own on the tables it reads).
- `postgres_exporter`: member of pg_monitor, for postgres_exporter.

Every DSN is a libpq conninfo built by psycopg (`make_conninfo`, which quotes each value) and every password
reaches SQL as a literal psycopg quotes: a password may hold spaces, quotes, backslashes, `@`, `/`.
"""

from __future__ import annotations

import errno
import os
import pwd
import secrets
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from bo1dash.paths import infra_dir, repo_root
from bo1dash.stack.process import Service, StackError, failure, free_port, spawn, wait_until

DATABASE = "boardofone"
OWNER_ROLE = "bo1"
GRAFANA_ROLE = "grafana_ro"
EXPORTER_ROLE = "postgres_exporter"
SERVER_USER = "postgres"  # initdb refuses to run as root


@dataclass(frozen=True)
class PostgresInfo:
    service: Service
    port: int
    admin_dsn: str  # superuser, database boardofone
    database_url: str  # bo1 (owner): what the workload uses
    grafana_dsn: str  # grafana_ro (reads the dashboards' columns only)
    exporter_dsn: str  # postgres_exporter (pg_monitor)
    grafana_password: str


def new_password(role: str) -> str:
    """A random password for `role`, for this run only (hex: easy to copy from `bo1dash up`'s output)."""
    return secrets.token_hex(16)


def _dsn(user: str, password: str, port: int, database: str = DATABASE) -> str:
    """A libpq conninfo (`key='value' ...`), each value quoted as libpq reads it back."""
    return make_conninfo(
        host="127.0.0.1", port=str(port), dbname=database, user=user, password=password, sslmode="disable"
    )


def _server_user() -> tuple[str | None, int | None, int | None]:
    """Run the server as `postgres` when we are root, else as ourselves."""
    if os.geteuid() != 0:
        return None, None, None
    try:
        entry = pwd.getpwnam(SERVER_USER)
    except KeyError as exc:
        raise StackError(
            "running as root, the stack runs PostgreSQL as the system user 'postgres', which does not exist: "
            "install the Debian package postgresql-15 (it creates that user)"
        ) from exc
    return SERVER_USER, entry.pw_uid, entry.pw_gid


def _check_reachable(path: Path, uid: int, gid: int) -> None:
    """The server user must be able to traverse every directory above its own."""
    for parent in reversed(path.parents):
        st = parent.stat()
        if st.st_uid == uid:
            ok = bool(st.st_mode & 0o100)
        elif st.st_gid == gid:
            ok = bool(st.st_mode & 0o010)
        else:
            ok = bool(st.st_mode & 0o001)
        if not ok:
            raise StackError(
                f"PostgreSQL runs as the user '{SERVER_USER}', which cannot enter {parent} "
                f"(mode {st.st_mode & 0o777:o}), so it cannot reach {path}: put the stack's temp root "
                "under a directory every user may traverse (the default, the system temp dir, is)"
            )


def _run_initdb(
    initdb: str, data_dir: Path, password: str, log: Path, user: str | None, owner: tuple[int, int] | None
) -> None:
    """initdb with the superuser's password read from a FIFO: it passes through the kernel, never the disk."""
    fifo = data_dir.parent / "superuser-password.fifo"
    os.mkfifo(fifo, 0o600)
    try:
        if owner is not None:
            os.chown(fifo, *owner)
        argv = [
            initdb,
            "-D",
            str(data_dir),
            "-U",
            "postgres",
            f"--pwfile={fifo}",
            "--auth-host=scram-sha-256",
            "--auth-local=peer",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]
        service = spawn("initdb", argv, log, user=user, cwd=data_dir.parent)
        _write_when_read(fifo, (password + "\n").encode(), service)
        code = service.popen.wait(timeout=120)
    finally:
        fifo.unlink()
    if code != 0:
        raise failure(service, "failed")


def _write_when_read(fifo: Path, data: bytes, reader: Service, timeout: float = 120.0) -> None:
    """Write `data` into `fifo` once `reader` opens it; give up if it exits first (its log says why)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:  # ENXIO: nobody reads it yet
            if exc.errno != errno.ENXIO:
                raise
            if reader.popen.poll() is not None or time.monotonic() > deadline:
                return
            time.sleep(0.02)
            continue
        try:
            os.set_blocking(fd, True)
            os.write(fd, data)
        except BrokenPipeError:
            pass
        finally:
            os.close(fd)
        return


def start_postgres(
    binaries: dict[str, str],
    root: Path,
    *,
    apply_schema: Callable[[str], None] | None,
    timeout: float,
) -> PostgresInfo:
    """initdb, start, create roles and database, apply the schema as bo1, then grant grafana_ro SELECT."""
    user, uid, gid = _server_user()
    base = root / "postgres"
    if uid is not None and gid is not None:
        _check_reachable(base, uid, gid)
    base.mkdir()
    data_dir = base / "data"
    passwords = {name: new_password(name) for name in ("postgres", OWNER_ROLE, GRAFANA_ROLE, EXPORTER_ROLE)}
    owner = (uid, gid) if uid is not None and gid is not None else None
    if owner is not None:
        os.chown(base, *owner)
    _run_initdb(binaries["initdb"], data_dir, passwords["postgres"], root / "logs" / "initdb.log", user, owner)

    port = free_port()  # picked just before the server binds it (others start servers on this machine too)
    argv = [
        binaries["postgres"],
        "-D",
        str(data_dir),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        f"port={port}",
        "-c",
        "unix_socket_directories=",
        "-c",
        "max_connections=100",
        "-c",
        "shared_buffers=32MB",
        # Throwaway data: skip durability work so the stack starts and runs fast.
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
        "-c",
        "log_min_messages=warning",
        "-c",
        "track_activities=on",
    ]
    # SIGINT is PostgreSQL's fast shutdown (SIGTERM would wait for every client to leave).
    service = spawn("postgres", argv, root / "logs" / "postgres.log", user=user, cwd=base, stop_signal=signal.SIGINT)
    admin_server_dsn = _dsn("postgres", passwords["postgres"], port, "postgres")

    def accepts_connections() -> bool:
        with psycopg.connect(admin_server_dsn, connect_timeout=2):
            return True

    wait_until(service, accepts_connections, what="accepting connections", timeout=timeout)

    info = PostgresInfo(
        service=service,
        port=port,
        admin_dsn=_dsn("postgres", passwords["postgres"], port),
        database_url=_dsn(OWNER_ROLE, passwords[OWNER_ROLE], port),
        grafana_dsn=_dsn(GRAFANA_ROLE, passwords[GRAFANA_ROLE], port),
        exporter_dsn=_dsn(EXPORTER_ROLE, passwords[EXPORTER_ROLE], port),
        grafana_password=passwords[GRAFANA_ROLE],
    )
    _create_roles_and_database(admin_server_dsn, passwords)
    if apply_schema is not None:
        try:
            apply_schema(info.database_url)
        except Exception as exc:
            raise StackError(f"applying the workload's schema to {DATABASE} as {OWNER_ROLE} failed: {exc}") from exc
        _install_cost_rollup(info.admin_dsn)
    _grant_read_only(info.admin_dsn, passwords)
    return info


def _create_roles_and_database(dsn: str, passwords: dict[str, str]) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        # Utility statements take no bind parameters: the password goes in as a literal psycopg quotes.
        create = sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
            sql.Identifier(OWNER_ROLE), sql.Literal(passwords[OWNER_ROLE])
        )
        conn.execute(create)
        conn.execute(f"CREATE DATABASE {DATABASE} OWNER {OWNER_ROLE}")
        # Only the owner may create temporary tables; everyone else just reads.
        conn.execute(f"REVOKE TEMPORARY ON DATABASE {DATABASE} FROM PUBLIC")


def _run_infra_sql(admin_dsn: str, name: str, settings: dict[str, str] | None = None) -> None:
    """Run infra/postgres/<name> as the superuser in bo1's database, the very file the compose profile runs,
    with `settings` (custom GUCs the file reads with current_setting) set for the session first."""
    sql = (infra_dir(repo_root()) / "postgres" / name).read_text()
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        for key, value in (settings or {}).items():
            conn.execute("SELECT set_config(%s, %s, false)", (key, value))
        conn.execute(sql)


def _install_cost_rollup(admin_dsn: str) -> None:
    """The cost dashboard's daily rollup and its triggers on api_costs (infra/postgres/cost-rollup.sql); before
    the roles, which grant grafana_ro SELECT on it."""
    try:
        _run_infra_sql(admin_dsn, "cost-rollup.sql")
    except psycopg.Error as exc:
        raise StackError(f"infra/postgres/cost-rollup.sql failed on {DATABASE}: {exc}") from exc


def _grant_read_only(admin_dsn: str, passwords: dict[str, str]) -> None:
    """The monitoring roles (infra/postgres/monitoring-roles.sql)."""
    _run_infra_sql(
        admin_dsn,
        "monitoring-roles.sql",
        {
            "bo1.grafana_password": passwords[GRAFANA_ROLE],
            "bo1.exporter_password": passwords[EXPORTER_ROLE],
        },
    )
