"""SQL rules: each broken once and kept once."""

from __future__ import annotations

from lintcases import rules, run, with_sql


def test_parse(env):
    found = run(env, with_sql("SELECT count(* FROM sessions WHERE $__timeFilter(created_at)"))
    assert [(f.panel, f.ref_id) for f in found if f.rule == "sql/parse"] == [("Sessions started", "A")]
    assert run(env, with_sql("SELECT count(*) FROM sessions WHERE $__timeFilter(created_at)")) == []


def test_read_only(env):
    for sql in (
        "DELETE FROM sessions WHERE $__timeFilter(created_at)",
        "SELECT 1 FROM sessions WHERE $__timeFilter(created_at); SELECT 2",
        "WITH d AS (DELETE FROM sessions RETURNING id) SELECT count(*) FROM d",
        "SELECT id FROM sessions WHERE $__timeFilter(created_at) FOR UPDATE",
    ):
        found = run(env, with_sql(sql))
        assert any(f.rule == "sql/not-read-only" and f.panel == "Sessions started" for f in found), sql


def test_time_bounded(env):
    found = run(env, with_sql("SELECT $__timeGroupAlias(created_at, '1h'), count(*) FROM sessions GROUP BY 1"))
    assert any(f.rule == "sql/not-time-bounded" and f.severity == "error" for f in found)
    found = run(env, with_sql("SELECT count(*) FROM sessions WHERE created_at > now() - interval '1 day'"))
    assert any(f.rule == "sql/not-time-bounded" and f.severity == "warning" for f in found)
    assert run(env, with_sql("SELECT count(*) FROM api_costs WHERE created_at < $__timeTo()")) == []


def test_tables_columns_and_values(env):
    found = run(env, with_sql("SELECT count(*) FROM session WHERE $__timeFilter(created_at)"))
    assert "sql/unknown-table" in rules(found)
    found = run(env, with_sql("SELECT sum(a.cost) FROM api_costs a WHERE $__timeFilter(a.created_at)"))
    assert "sql/unknown-column" in rules(found)
    found = run(
        env,
        with_sql(
            "SELECT avg(extract(epoch FROM completed_at - created_at)) FROM sessions WHERE $__timeFilter(created_at)"
        ),
    )
    assert "sql/never-written" in rules(found)
    found = run(env, with_sql("SELECT count(*) FROM sessions WHERE status = 'complete' AND $__timeFilter(updated_at)"))
    assert "sql/unknown-value" in rules(found)
    good = (
        "WITH c AS (SELECT s.user_id, sum(a.total_cost) AS spend FROM api_costs a JOIN sessions s "
        "ON s.id = a.session_id WHERE $__timeFilter(a.created_at) AND s.status IN ('completed', 'failed') "
        "GROUP BY 1) SELECT u.email, c.spend FROM c JOIN users u ON u.id = c.user_id ORDER BY 2 DESC LIMIT 10"
    )
    assert run(env, with_sql(good)) == []
