"""The local stack for real: every target up, a read-only Grafana role, clean stop, actionable errors."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg
import pytest

from bo1dash.stack import MissingBinaryError, RunningStack, StackError, StackOptions, start_stack
from bo1dash.stack.process import log_tail
from bo1dash.stack.redis import start_redis

REPO = Path(__file__).resolve().parents[2]


def query(stack: RunningStack, promql: str) -> list[dict]:
    response = httpx.get(f"{stack.prometheus_url}/api/v1/query", params={"query": promql}, timeout=10)
    response.raise_for_status()
    return response.json()["data"]["result"]


def processes_mentioning(text: str, groups: set[int]) -> list[int]:
    """Pids of live (non-zombie) processes whose command line contains `text` or in one of process `groups`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, pgid = fields[0], int(fields[2])
        if (text in cmdline or pgid in groups) and state != "Z":
            pids.append(int(entry.name))
    return pids


@pytest.mark.live
def test_every_job_is_up(live_stack: RunningStack) -> None:
    config = live_stack.config
    expected = {
        config[key]
        for key in (
            "apiJob",
            "redisExporterJob",
            "postgresExporterJob",
            "nodeExporterJob",
            "processExporterJob",
            "prometheusJob",
        )
    }
    up = {r["metric"]["job"]: r["value"][1] for r in query(live_stack, "up")}
    assert set(up) == expected
    assert all(value == "1" for value in up.values()), up
    assert config["cadvisorJob"] not in up  # no cAdvisor here


@pytest.mark.live
def test_exporters_see_their_service(live_stack: RunningStack) -> None:
    assert query(live_stack, "redis_up")[0]["value"][1] == "1"
    assert query(live_stack, "pg_up")[0]["value"][1] == "1"
    maxmemory = query(live_stack, "redis_memory_max_bytes")[0]["value"][1]
    assert int(maxmemory) == 256 * 1024 * 1024
    procs = query(live_stack, "namedprocess_namegroup_num_procs")
    groups = {r["metric"]["groupname"]: int(r["value"][1]) for r in procs}
    assert groups["postgres"] >= 2 and groups["redis-server"] == 1  # postmaster + its children
    assert groups["bo1-api"] >= 1
    assert query(live_stack, 'count(node_filesystem_size_bytes{fstype!~"tmpfs|overlay"}) >= 0')


@pytest.mark.live
def test_grafana_role_reads_but_cannot_write(live_stack: RunningStack) -> None:
    with psycopg.connect(live_stack.admin_dsn, autocommit=True) as admin:
        (bypass,) = admin.execute("SELECT rolbypassrls FROM pg_roles WHERE rolname = 'grafana_ro'").fetchone()
        assert bypass is False  # a SELECT policy of its own on the tables it reads instead
        tables = [
            row[0]
            for row in admin.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            ).fetchall()
        ]
    assert {"sessions", "api_costs"} <= set(tables)

    with psycopg.connect(live_stack.grafana_dsn, autocommit=True) as ro:
        for table in ("sessions", "api_costs", "users"):
            ro.execute(f"SELECT count(*) FROM {table}").fetchone()
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            ro.execute("DELETE FROM users")
        # Even with the read-only default switched off, the role holds no write privilege.
        ro.execute("SET default_transaction_read_only = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            ro.execute("DELETE FROM users")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            ro.execute("CREATE TABLE grafana_was_here (id int)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            ro.execute("CREATE TEMP TABLE grafana_was_here (id int)")


@pytest.mark.live
def test_grafana_role_sees_rows_behind_row_level_security(live_stack: RunningStack) -> None:
    """bo1 enables RLS on sessions/api_costs; grafana_ro (its own SELECT policy there) sees what the owner sees."""
    with psycopg.connect(live_stack.database_url, autocommit=True) as owner:
        owner.execute("INSERT INTO users (id, email) VALUES ('rls-probe', 'rls-probe@example.invalid')")
        try:
            with psycopg.connect(live_stack.grafana_dsn) as ro:
                seen = ro.execute("SELECT count(*) FROM users WHERE id = 'rls-probe'").fetchone()
                rls = ro.execute(
                    "SELECT relname FROM pg_class WHERE relrowsecurity AND relname IN ('sessions', 'api_costs')"
                ).fetchall()
        finally:
            owner.execute("DELETE FROM users WHERE id = 'rls-probe'")
    assert seen == (1,)
    assert sorted(name for (name,) in rls) == ["api_costs", "sessions"]


@pytest.mark.live
def test_stop_leaves_no_process_and_no_directory_even_on_ctrl_c() -> None:
    """A program that starts the stack and is interrupted (KeyboardInterrupt) leaves nothing behind."""
    script = textwrap.dedent(
        f"""
        import json, sys
        sys.path.insert(0, {str(REPO / "py")!r})
        from bo1dash.stack import StackOptions, start_stack
        stack = start_stack(StackOptions(workload=False))
        print(json.dumps({{"root": str(stack.root), "pids": stack.pids()}}), flush=True)
        raise KeyboardInterrupt
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert "KeyboardInterrupt" in result.stderr, result.stderr
    started = json.loads(result.stdout.splitlines()[-1])
    assert len(started["pids"]) == 7  # postgres, redis, 4 exporters, prometheus (no workload)
    for pid in started["pids"]:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    # Each service led its own process group (PostgreSQL's backends included): all gone.
    assert processes_mentioning(started["root"], set(started["pids"])) == []
    assert not Path(started["root"]).exists()


def test_missing_binaries_name_their_debian_packages(tmp_path: Path) -> None:
    (tmp_path / "roots").mkdir()
    options = StackOptions(search_path=str(tmp_path / "empty"), temp_parent=tmp_path / "roots")
    with pytest.raises(MissingBinaryError) as caught:
        start_stack(options)
    message = str(caught.value)
    for package in (
        "prometheus",
        "prometheus-redis-exporter",
        "prometheus-postgres-exporter",
        "prometheus-node-exporter",
        "prometheus-process-exporter",
        "redis-server",
        "postgresql-15",
    ):
        assert f"install the Debian package {package}" in message
    assert caught.value.packages == sorted(caught.value.packages)
    assert list((tmp_path / "roots").iterdir()) == []  # nothing started, nothing left


@pytest.mark.live
def test_failed_health_check_quotes_the_log(tmp_path: Path) -> None:
    """A service that cannot start says why, in its own words (the tail of its log)."""
    from bo1dash.stack.binaries import REDIS_SERVER, find_binaries

    binary = find_binaries((REDIS_SERVER,))["redis-server"]
    (tmp_path / "logs").mkdir()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(StackError) as caught:
            start_redis(binary, tmp_path, port, password=None, timeout=30)
    message = str(caught.value)
    assert "redis-server exited before it was answering PING" in message
    assert "Address already in use" in message
    assert str(tmp_path / "logs" / "redis-server.log") in message
    assert "Address already in use" in log_tail(tmp_path / "logs" / "redis-server.log")


@pytest.mark.live
def test_a_service_failing_mid_start_is_quoted_and_everything_started_is_stopped() -> None:
    """A broken rule file stops Prometheus; the error quotes its log, and what had started is gone."""
    parent = Path(tempfile.mkdtemp(prefix="bo1dash-test-"))
    parent.chmod(0o755)  # PostgreSQL (as user postgres) must traverse it
    try:
        rules = parent / "rules"
        rules.mkdir()
        (rules / "broken.yml").write_text("groups:\n- name: broken\n  rules:\n  - record: x:y:z\n    expr: rate(\n")
        options = StackOptions(workload=False, rules_dir=rules, temp_parent=parent, timeout=30)
        with pytest.raises(StackError) as caught:
            start_stack(options)
        message = str(caught.value)
        assert "prometheus exited before it was ready" in message
        assert "broken.yml" in message  # Prometheus's own words, from the tail of prometheus.log
        assert [p.name for p in parent.iterdir()] == ["rules"]  # the temp root is gone
        assert processes_mentioning(str(parent), set()) == []
    finally:
        shutil.rmtree(parent)


@pytest.mark.live
def test_monitoring_roles_sql_is_idempotent_and_keeps_later_tables_closed(live_stack: RunningStack) -> None:
    """infra/postgres/monitoring-roles.sql (also run by the compose profile) can run again at every `up`;
    a table bo1 creates later stays closed to grafana_ro, a later api_costs partition is read through api_costs."""
    sql = (REPO / "infra" / "postgres" / "monitoring-roles.sql").read_text()
    with psycopg.connect(live_stack.admin_dsn, autocommit=True) as admin:
        admin.execute("SELECT set_config('bo1.grafana_password', %s, false)", (live_stack.grafana_pg_password,))
        admin.execute("SELECT set_config('bo1.exporter_password', 'another-exporter-secret', false)")
        admin.execute(sql)
        admin.execute(sql)
    with psycopg.connect(live_stack.database_url, autocommit=True) as owner:
        owner.execute("CREATE TABLE later_migration (id int)")
        owner.execute(
            "CREATE TABLE api_costs_2099_01 PARTITION OF api_costs"
            " FOR VALUES FROM ('2099-01-01 00:00:00+00') TO ('2099-02-01 00:00:00+00')"
        )
        owner.execute(
            "INSERT INTO api_costs (created_at, provider, operation_type, total_cost)"
            " VALUES ('2099-01-02 00:00:00+00', 'anthropic', 'completion', 7)"
        )
        try:
            with psycopg.connect(live_stack.grafana_dsn, autocommit=True) as ro:
                total = ro.execute("SELECT sum(total_cost) FROM api_costs WHERE created_at >= '2099-01-01'").fetchone()
                assert total == (Decimal(7),)
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    ro.execute("SELECT id FROM later_migration")
        finally:
            owner.execute("DROP TABLE later_migration")
            owner.execute("DELETE FROM api_costs WHERE created_at >= '2099-01-01'")
            owner.execute("DROP TABLE api_costs_2099_01")
            with psycopg.connect(live_stack.admin_dsn, autocommit=True) as admin:
                admin.execute("DELETE FROM api_costs_daily WHERE day >= '2099-01-01'")


@pytest.mark.live
def test_cost_rollup_is_installed_kept_by_bo1s_writes_and_readable_by_grafana(live_stack: RunningStack) -> None:
    """The stack runs infra/postgres/cost-rollup.sql (as the compose profile does): a ledger row bo1's own
    role writes lands in api_costs_daily, which grafana_ro reads."""
    # The first day of the oldest partition the schema keeps (two months back): no panel of any range
    # other tests look at reaches it.
    first = "date_trunc('month', now() AT TIME ZONE 'UTC') - interval '2 months'"
    # grafana_ro reads the columns the dashboards read (day, total_cost), not the provider.
    day = f"SELECT coalesce(sum(total_cost), 0) FROM api_costs_daily WHERE day = ({first})::date"
    with psycopg.connect(live_stack.grafana_dsn) as ro:
        before = ro.execute(day).fetchone()[0]
    with psycopg.connect(live_stack.database_url, autocommit=True) as bo1:
        bo1.execute(
            "INSERT INTO api_costs (created_at, provider, operation_type, total_cost) "
            f"VALUES (({first}) AT TIME ZONE 'UTC' + interval '1 hour', 'brave', 'web_search', 0.005)"
        )
    with psycopg.connect(live_stack.grafana_dsn) as ro:
        assert ro.execute(day).fetchone()[0] - before == Decimal("0.005")
