"""infra/postgres/cost-rollup.sql against a real PostgreSQL 15 with bo1's schema: the rollup equals the
ledger's own per-day, per-provider sums after every kind of write bo1 (or an operator) makes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from servers import postgres_url  # noqa: F401  (fixture)

from bo1dash.workload import apply_schema

ROLLUP_SQL = (Path(__file__).resolve().parents[1] / "infra" / "postgres" / "cost-rollup.sql").read_text()
OWNER = "rollup_bo1"  # owns the ledger as bo1 does: not a superuser
NOW = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
COLUMNS = "(created_at, provider, model_name, operation_type, total_cost, session_id, user_id)"


def _database(admin_url: str, name: str, owner: str | None = None) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}" + (f" OWNER {owner}" if owner else ""))
    return make_conninfo(admin_url, dbname=name)


def _as(url: str, user: str) -> str:
    return make_conninfo(url, user=user)


@pytest.fixture(scope="module")
def ledger(postgres_url: str) -> Iterator[str]:  # noqa: F811
    """A database with bo1's schema owned by a non-superuser owner; yields the superuser's URL."""
    admin = make_conninfo(postgres_url, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (OWNER,)).fetchone():
            conn.execute(f"CREATE ROLE {OWNER} LOGIN")
    url = _database(admin, "rollup", OWNER)
    apply_schema(_as(url, OWNER))
    yield url


def _install(url: str) -> list[str]:
    notices: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
        conn.execute(ROLLUP_SQL)
    return notices


def _rows(
    day_offset: int, provider: str, cost: str, n: int = 1, session: str | None = None, user: str | None = None
) -> list[tuple[object, ...]]:
    at = NOW + timedelta(days=day_offset)
    return [(at + timedelta(seconds=i), provider, "m", "completion", Decimal(cost), session, user) for i in range(n)]


def _insert(conn: psycopg.Connection, rows: list[tuple[object, ...]]) -> None:
    conn.cursor().executemany(f"INSERT INTO api_costs {COLUMNS} VALUES (%s, %s, %s, %s, %s, %s, %s)", rows)


# Each rollup table, its key, and the ledger rows it sums (what its panel groups the ledger by).
ROLLUPS = {
    "api_costs_daily": ("provider", ""),
    "api_costs_daily_model": ("provider, model_name", ""),
    "api_costs_daily_user": ("user_id", "WHERE user_id IS NOT NULL"),
    "api_costs_daily_session": ("session_id", "WHERE session_id IS NOT NULL"),
}
Sums = dict[tuple[object, ...], tuple[Decimal, int]]


def _all(url: str) -> dict[str, tuple[Sums, Sums]]:
    """Per rollup table, (its rows, the ledger's own GROUP BY) from one snapshot."""
    out = {}
    with psycopg.connect(url) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        for table, (key, where) in ROLLUPS.items():
            rollup = {
                tuple(r[:-2]): (r[-2], r[-1])
                for r in conn.execute(f"SELECT day, {key}, total_cost, calls FROM {table}")
            }
            truth = {
                tuple(r[:-2]): (r[-2], r[-1])
                for r in conn.execute(
                    f"SELECT (created_at AT TIME ZONE 'UTC')::date, {key}, sum(total_cost), count(*) FROM api_costs "
                    f"{where} GROUP BY 1, {key}"
                )
            }
            out[table] = (rollup, truth)
    return out


def _both(url: str) -> tuple[Sums, Sums]:
    """(api_costs_daily, the ledger's per-day, per-provider GROUP BY)."""
    return _all(url)["api_costs_daily"]


def _assert_in_step(url: str) -> Sums:
    """Every rollup table equals the ledger's GROUP BY, no row more (a key without ledger rows has none)."""
    found = _all(url)
    for table, (rollup, truth) in found.items():
        assert rollup == truth, table
    return found["api_costs_daily"][0]


def test_before_bo1s_migrations_it_installs_nothing_and_says_so(postgres_url: str) -> None:  # noqa: F811
    empty = _database(make_conninfo(postgres_url, dbname="postgres"), "rollup_empty")
    notices = _install(empty)
    assert any("api_costs does not exist yet" in n and "run it again" in n for n in notices), notices
    with psycopg.connect(empty) as conn:
        assert conn.execute("SELECT to_regclass('public.api_costs_daily')").fetchone() == (None,)


def test_rollup_is_filled_from_the_ledger_once_and_follows_every_write(ledger: str) -> None:
    owner = _as(ledger, OWNER)
    with psycopg.connect(owner, autocommit=True) as conn:
        conn.execute("INSERT INTO users (id, email) VALUES ('u1', 'u1@example.com')")
        conn.execute("INSERT INTO sessions (id, user_id, status) VALUES ('bo1_s1', 'u1', 'completed')")
        _insert(conn, _rows(-1, "anthropic", "0.125", 3) + _rows(0, "voyage", "0.0001", 2))

    notices = _install(ledger)
    assert any("filled from 5 ledger rows" in n for n in notices), notices
    first = _assert_in_step(ledger)
    assert first[((NOW - timedelta(days=1)).date(), "anthropic")] == (Decimal("0.375"), 3)
    assert not [
        n for n in _install(ledger) if "filled" in n
    ]  # a second run (every compose `up`) neither refills nor double counts
    assert _assert_in_step(ledger) == first

    with psycopg.connect(owner, autocommit=True) as conn:  # bo1's role writes through the triggers
        _insert(conn, _rows(0, "anthropic", "0.5", 4, session="bo1_s1", user="u1") + _rows(-1, "brave", "0.005"))
        # bo1's inserts say ON CONFLICT (request_id, created_at) DO NOTHING: only rows really inserted count.
        rid, at = conn.execute("SELECT request_id, created_at FROM api_costs WHERE provider = 'brave'").fetchone()
        conn.execute(
            f"INSERT INTO api_costs (request_id, {COLUMNS[1:-1]}) VALUES (%s, %s, 'brave', NULL, 'web_search', 9, NULL, NULL), "
            "(gen_random_uuid(), %s, 'tavily', NULL, 'web_search', 0.008, NULL, NULL) "
            "ON CONFLICT (request_id, created_at) DO NOTHING",
            (rid, at, at),
        )
        with conn.cursor().copy(f"COPY api_costs {COLUMNS} FROM STDIN") as copy:
            for row in _rows(2, "anthropic", "1.25", 3):
                copy.write_row(row)
        after_writes = _assert_in_step(ledger)
        assert after_writes[(at.astimezone(UTC).date(), "brave")] == (Decimal("0.005"), 1)

        # An update moving rows to another day and provider, and another changing their cost.
        conn.execute(
            "UPDATE api_costs SET created_at = created_at - interval '1 day', provider = 'tavily' "
            "WHERE provider = 'voyage'"
        )
        conn.execute(
            "UPDATE api_costs SET total_cost = total_cost * 2 WHERE provider = 'anthropic' AND session_id IS NULL"
        )
        _assert_in_step(ledger)

        # A hard-deleted session takes its ledger rows with it (ON DELETE CASCADE): the rollup follows.
        conn.execute("DELETE FROM sessions WHERE id = 'bo1_s1'")
        assert conn.execute("SELECT count(*) FROM api_costs WHERE session_id = 'bo1_s1'").fetchone() == (0,)
        rollup = _assert_in_step(ledger)
    assert (NOW.date(), "anthropic") not in rollup  # only the deleted session spent there
    with psycopg.connect(ledger) as conn:
        owners = conn.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'api_costs_daily'").fetchone()
    assert owners == (OWNER,)  # installed by a superuser, owned (and written) by the ledger's owner


def test_per_model_user_and_session_rollups_follow_every_write(ledger: str) -> None:
    """Models (and calls without one), users and sessions through inserts, updates that move a row to another
    model, user, session or day, a user's deletion (api_costs.user_id ON DELETE SET NULL) and a session's
    (ON DELETE CASCADE): each table keeps exactly the ledger's groups, no row for a group left empty."""
    _install(ledger)
    owner = _as(ledger, OWNER)
    with psycopg.connect(owner, autocommit=True) as conn:
        for user in ("pu1", "pu2"):
            conn.execute("INSERT INTO users (id, email) VALUES (%s, %s)", (user, f"{user}@example.com"))
        conn.execute(
            "INSERT INTO sessions (id, user_id, status) VALUES ('bo1_ps1', 'pu1', 'completed'), ('bo1_ps2', 'pu2', 'running')"
        )
        rows = _rows(-3, "anthropic", "0.3", 2, session="bo1_ps1", user="pu1") + _rows(
            -3, "anthropic", "0.2", 2, user="pu2"
        )
        rows += [
            (at, "brave", None, op, cost, s, u)
            for at, _, _, op, cost, s, u in _rows(-2, "brave", "0.005", 3, user="pu1")
        ]
        rows += [
            (at, p, "claude-x", op, cost, s, u)
            for at, p, _, op, cost, s, u in _rows(-2, "anthropic", "1.5", 2, session="bo1_ps2", user="pu2")
        ]
        _insert(conn, rows)
        _assert_in_step(ledger)
        conn.execute("UPDATE api_costs SET model_name = 'claude-y' WHERE model_name = 'claude-x'")
        conn.execute("UPDATE api_costs SET user_id = 'pu2', session_id = 'bo1_ps2' WHERE session_id = 'bo1_ps1'")
        conn.execute(
            "UPDATE api_costs SET created_at = created_at + interval '1 day' WHERE provider = 'brave' AND user_id = 'pu1'"
        )
        found = _all(ledger)
        assert not [k for k in found["api_costs_daily_session"][0] if k[1] == "bo1_ps1"]  # moved away: row gone
        _assert_in_step(ledger)
        conn.execute("DELETE FROM users WHERE id = 'pu1'")  # its ledger rows stay, without a user
        assert not [k for k in _all(ledger)["api_costs_daily_user"][0] if k[1] == "pu1"]
        conn.execute("DELETE FROM sessions WHERE id = 'bo1_ps2'")
        assert not [k for k in _all(ledger)["api_costs_daily_session"][0] if k[1] == "bo1_ps2"]
        after = _all(ledger)
    _assert_in_step(ledger)
    models = after["api_costs_daily_model"][0]
    assert (((NOW - timedelta(days=1)).date(), "brave", None)) in models  # a call without a model is a group


def test_concurrent_batches_neither_deadlock_nor_lose_a_row(ledger: str) -> None:
    _install(ledger)
    owner = _as(ledger, OWNER)
    providers = ["anthropic", "voyage", "brave", "tavily"]
    errors: list[BaseException] = []
    with psycopg.connect(owner, autocommit=True) as conn:
        for k in range(2):
            conn.execute("INSERT INTO users (id) VALUES (%s) ON CONFLICT DO NOTHING", (f"cu{k}",))
            conn.execute(
                "INSERT INTO sessions (id, user_id, status) VALUES (%s, %s, 'running') ON CONFLICT DO NOTHING",
                (f"bo1_cs{k}", f"cu{k}"),
            )

    def writer(order: list[str]) -> None:
        try:
            with psycopg.connect(owner) as conn:
                for _ in range(15):
                    # the same days, users and sessions from every writer, in different orders
                    rows = [
                        r
                        for k, p in enumerate(order)
                        for r in _rows(k % 2, p, "0.01", 5, session=f"bo1_cs{k % 2}", user=f"cu{(k + 1) % 2}")
                    ]
                    _insert(conn, rows)
                    conn.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=writer, args=(order,))
        for order in (providers, providers[::-1], providers[1:] + providers[:1])
    ]
    before = sum(n for _, n in _both(ledger)[1].values())
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    rollup = _assert_in_step(ledger)
    assert sum(n for _, n in rollup.values()) == before + 3 * 15 * 4 * 5


def test_grafana_reads_it_through_the_monitoring_roles(ledger: str, repo_root: Path) -> None:
    """monitoring-roles.sql after cost-rollup.sql (the documented order) lets grafana_ro read the rollup."""
    _install(ledger)
    roles = (repo_root / "infra" / "postgres" / "monitoring-roles.sql").read_text()
    with psycopg.connect(ledger, autocommit=True) as conn:
        conn.execute("SELECT set_config('bo1.grafana_password', 'ro-secret', false)")
        conn.execute("SELECT set_config('bo1.exporter_password', 'exp-secret', false)")
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'bo1'").fetchone():
            conn.execute("CREATE ROLE bo1")  # the file sets default privileges for bo1's future tables
        conn.execute(roles)
    params = conninfo_to_dict(ledger)
    ro = make_conninfo(ledger, user="grafana_ro", password="ro-secret", host=params.get("host"))
    with psycopg.connect(ro) as conn:
        assert conn.execute("SELECT count(*) >= 0 FROM api_costs_daily").fetchone() == (True,)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("DELETE FROM api_costs_daily")


def _runbook_check_query(url: str):
    """The SQL that docs/runbooks.md gives to compare the rollup with the ledger, as a callable."""
    runbook = (Path(__file__).resolve().parents[1] / "docs" / "runbooks.md").read_text()
    section = runbook[runbook.index("## Cost dashboard: month-to-date rollup") :]
    sql = section.split("```sql", 1)[1].split("```", 1)[0]

    def run() -> list[tuple[object, ...]]:
        with psycopg.connect(url) as conn:
            return conn.execute(sql).fetchall()

    return run


def test_dropping_the_insert_trigger_and_running_again_refills_from_the_ledger(ledger: str) -> None:
    """The runbook's repair: rows written while the triggers were gone are counted after the refill."""
    _install(ledger)
    with psycopg.connect(ledger, autocommit=True) as conn:
        conn.execute("DROP TRIGGER api_costs_daily_insert ON api_costs")
        _insert(conn, _rows(0, "voyage", "0.25", 2))  # not seen by the rollup (today: the check reads this month)
    rollup, truth = _both(ledger)
    assert rollup != truth
    check = _runbook_check_query(ledger)
    assert check(), "the runbook's check query must list the day the rollup missed"
    notices = _install(ledger)
    assert any("installed and filled" in n for n in notices), notices
    _assert_in_step(ledger)
    assert check() == []
    with psycopg.connect(ledger, autocommit=True) as conn:
        _insert(conn, _rows(0, "voyage", "0.25"))
        conn.execute(
            "DELETE FROM api_costs WHERE provider = 'voyage' AND total_cost = 0.25 AND id = "
            "(SELECT min(id) FROM api_costs WHERE provider = 'voyage' AND total_cost = 0.25)"
        )
    _assert_in_step(ledger)  # all three triggers are back


def test_a_writer_without_grants_on_the_rollup_still_writes_the_ledger(ledger: str) -> None:
    """An application role that is not the ledger's owner (INSERT on api_costs only) writes through the
    trigger: the function runs with the owner's rights, so bo1's cost tracker never fails on the rollup."""
    _install(ledger)
    with psycopg.connect(ledger, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'rollup_app'").fetchone():
            conn.execute("CREATE ROLE rollup_app LOGIN BYPASSRLS")
        conn.execute("GRANT INSERT, SELECT ON api_costs TO rollup_app")
        conn.execute("GRANT USAGE ON SEQUENCE api_costs_id_seq TO rollup_app")
    with psycopg.connect(_as(ledger, "rollup_app"), autocommit=True) as app:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("SELECT 1 FROM api_costs_daily")
        _insert(app, _rows(1, "tavily", "0.008", 2))
    _assert_in_step(ledger)


# The panels as they read the ledger alone (before the rollup): what the rollup-backed panels must equal.
LEDGER_PANELS = {
    "Daily LLM spend": """SELECT floor(extract(epoch from created_at)/86400)*86400 AS "time", sum(total_cost)::float8
        FROM api_costs WHERE created_at BETWEEN %(from)s AND %(to)s GROUP BY 1 ORDER BY 1""",
    "Spend by model": """SELECT coalesce(model_name, provider), sum(total_cost)::float8 FROM api_costs
        WHERE created_at BETWEEN %(from)s AND %(to)s GROUP BY 1 ORDER BY 2 DESC""",
    "Top 10 users by spend": """SELECT coalesce(u.email, c.user_id), sum(c.total_cost)::float8 FROM api_costs c
        LEFT JOIN users u ON u.id = c.user_id
        WHERE c.user_id IS NOT NULL AND c.created_at BETWEEN %(from)s AND %(to)s GROUP BY 1 ORDER BY 2 DESC LIMIT 10""",
    "Average cost per session": """SELECT (sum(total_cost) / NULLIF(count(DISTINCT session_id), 0))::float8
        FROM api_costs WHERE session_id IS NOT NULL AND created_at BETWEEN %(from)s AND %(to)s""",
}


def test_the_cost_panels_on_the_rollup_equal_the_ledger_over_any_range(ledger: str, repo_root: Path) -> None:
    """Top users, daily spend, cost per session and spend by model read whole UTC days from the rollup and the
    range's partial days from the ledger: for ranges with partial days at both ends, aligned on midnight, inside
    one day, across one midnight, and rows exactly on the range's ends and on midnight, each panel returns
    exactly what the same panel over the ledger alone returns."""
    from bo1dash.grafana.sql_macros import sql_macros
    from bo1dash.grafana.time_range import TimeRange

    _install(ledger)
    owner = _as(ledger, OWNER)
    midnight = NOW.replace(hour=0)
    users = [f"ru{k}" for k in range(4)]
    with psycopg.connect(owner, autocommit=True) as conn:
        for k, user in enumerate(users):
            conn.execute("INSERT INTO users (id, email) VALUES (%s, %s)", (user, f"{user}@example.com" if k else None))
            conn.execute("INSERT INTO sessions (id, user_id, status) VALUES (%s, %s, 'completed')", (f"bo1_r{k}", user))
        rows: list[tuple[object, ...]] = []
        for hours in range(-24 * 9, 24, 5):  # every 5 hours over 10 days: sessions spend across midnights
            at = midnight + timedelta(hours=hours, minutes=hours % 7)
            k = hours % 4
            model = None if k == 3 else f"model-{k}"
            session = None if hours % 3 == 0 else f"bo1_r{k}"
            spender = None if hours % 5 == 0 else users[k]
            rows.append(
                (
                    at,
                    "brave" if model is None else "anthropic",
                    model,
                    "completion",
                    Decimal(f"0.{abs(hours) + 7:04d}"),
                    session,
                    spender,
                )
            )
        for day in range(-3, 1):  # rows exactly on midnight
            rows.append(
                (
                    midnight + timedelta(days=day),
                    "anthropic",
                    "model-0",
                    "completion",
                    Decimal("0.0101"),
                    "bo1_r0",
                    "ru0",
                )
            )
        _insert(conn, rows)
    _assert_in_step(ledger)

    panels = {}
    dashboard = json.loads((repo_root / "infra" / "grafana" / "dashboards" / "cost.json").read_text())
    for panel in dashboard["panels"]:
        if panel.get("title") in LEDGER_PANELS:
            (target,) = panel["targets"]
            panels[panel["title"]] = target["rawSql"]
    assert set(panels) == set(LEDGER_PANELS)
    for title, sql in panels.items():
        assert "api_costs_daily" in sql, f"{title} does not read the rollup"

    ranges = [
        (NOW - timedelta(days=7, minutes=23), NOW + timedelta(minutes=37)),  # partial days at both ends
        (midnight - timedelta(days=3), midnight),  # on midnight at both ends (a row exactly on each)
        (midnight - timedelta(days=30), NOW),
        (midnight + timedelta(hours=1), midnight + timedelta(hours=5)),  # inside one day
        (midnight - timedelta(hours=2), midnight + timedelta(hours=2)),  # across one midnight, no whole day
        (midnight - timedelta(days=2), midnight - timedelta(days=1)),  # one whole day
    ]
    with psycopg.connect(ledger) as conn:
        for start, end in ranges:
            window = {"from": start, "to": end}
            for title, sql in panels.items():
                expanded, _ = sql_macros(sql, TimeRange(start, end))
                got = [tuple(r) for r in conn.execute(expanded.encode()).fetchall()]
                want = [tuple(r) for r in conn.execute(LEDGER_PANELS[title], window).fetchall()]
                assert got == want, (title, start, end)
            assert conn.execute(LEDGER_PANELS["Daily LLM spend"], window).fetchall(), (start, end)  # not vacuous


def test_an_install_without_the_newer_rollup_tables_gets_them_filled(ledger: str) -> None:
    """An install from before the per-model, per-user and per-session tables (here: one of them missing) is
    refilled from the ledger as a whole when the file runs again, the existing tables included."""
    _install(ledger)
    with psycopg.connect(ledger, autocommit=True) as conn:
        _insert(conn, _rows(-1, "anthropic", "0.75", 2, session=None, user=None))
        conn.execute("DROP TABLE api_costs_daily_user")
        conn.execute("UPDATE api_costs_daily SET total_cost = total_cost + 1")  # out of step, to be refilled
    notices = _install(ledger)
    assert any("installed and filled" in n for n in notices), notices
    _assert_in_step(ledger)
