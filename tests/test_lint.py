"""Every lint rule: a realistic dashboard that breaks it, and the valid dashboard that passes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bo1dash.catalog import load_catalog
from bo1dash.lint import lint_dashboards, main

PROVISIONING = """\
apiVersion: 1
datasources:
  - name: Prometheus
    type: prometheus
    uid: prometheus
    url: http://prometheus:9090
    isDefault: true
  - name: bo1 Postgres
    type: grafana-postgresql-datasource
    uid: bo1-postgres
    url: postgres:5432
"""
PROM = {"type": "prometheus", "uid": "prometheus"}
PG = {"type": "grafana-postgresql-datasource", "uid": "bo1-postgres"}


def prom_panel(pid: int, title: str, expr: str, *, x: int = 0, y: int = 1, unit: str = "reqps", **target: Any) -> dict:
    return {
        "type": "timeseries",
        "id": pid,
        "title": title,
        "description": f"{title}: from bo1's /metrics.",
        "datasource": PROM,
        "gridPos": {"x": x, "y": y, "w": 12, "h": 8},
        "fieldConfig": {
            "defaults": {"unit": unit, "custom": {"drawStyle": "line", "fillOpacity": 10}},
            "overrides": [],
        },
        "options": {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True, "calcs": []},
            "tooltip": {"mode": "multi", "sort": "none"},
        },
        "targets": [{"refId": "A", "datasource": PROM, "expr": expr, "range": True, **target}],
    }


def sql_panel(pid: int, title: str, sql: str, *, x: int = 0, y: int = 9) -> dict:
    return {
        "type": "stat",
        "id": pid,
        "title": title,
        "description": f"{title}: from the bo1 database.",
        "datasource": PG,
        "gridPos": {"x": x, "y": y, "w": 6, "h": 4},
        "fieldConfig": {"defaults": {"unit": "short"}, "overrides": []},
        "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "graphMode": "none"},
        "targets": [
            {"refId": "A", "datasource": PG, "format": "table", "rawQuery": True, "editorMode": "code", "rawSql": sql}
        ],
    }


def valid_dashboard(uid: str = "bo1-api", title: str = "bo1 / API") -> dict:
    """A small dashboard as our build writes it, clean under every rule."""
    return {
        "uid": uid,
        "title": title,
        "schemaVersion": 41,
        "id": None,
        "editable": False,
        "tags": ["bo1"],
        "timezone": "utc",
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "30s",
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        },
        "templating": {
            "list": [
                {
                    "name": "job",
                    "type": "query",
                    "datasource": PROM,
                    "multi": True,
                    "includeAll": True,
                    "allValue": "bo1-api|bo1-backend-.*",
                    "refresh": 2,
                    "current": {"text": "All", "value": "$__all"},
                    "query": {
                        "query": "label_values(http_requests_total, job)",
                        "refId": "PrometheusVariableQueryEditor-VariableQuery",
                    },
                }
            ]
        },
        "panels": [
            {
                "type": "row",
                "title": "Traffic",
                "id": 1,
                "collapsed": False,
                "panels": [],
                "gridPos": {"x": 0, "y": 0, "w": 24, "h": 1},
            },
            prom_panel(
                2,
                "Request rate by status",
                'sum by (status) (rate(http_requests_total{job=~"$job"}[$__rate_interval]))',
            ),
            prom_panel(
                3,
                "Latency p95",
                "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket"
                '{job=~"$job", handler!~".*/stream"}[$__rate_interval])))',
                x=12,
                unit="s",
            ),
            sql_panel(4, "Sessions started", "SELECT count(*) AS value FROM sessions WHERE $__timeFilter(created_at)"),
        ],
    }


@pytest.fixture()
def env(tmp_path: Path, shared_dir: Path) -> dict[str, Path]:
    ds = tmp_path / "datasources"
    ds.mkdir()
    (ds / "datasources.yaml").write_text(PROVISIONING)
    return {"tmp": tmp_path, "datasources": ds, "schema": shared_dir / "grafana-jsonschema" / "v11.6"}


def run(env: dict[str, Path], *dashboards: dict, **kwargs: Any) -> list:
    paths = []
    for i, dash in enumerate(dashboards):
        path = env["tmp"] / f"dash{i}.json"
        path.write_text(json.dumps(dash))
        paths.append(path)
    kwargs.setdefault("schema_dir", env["schema"])
    return lint_dashboards(paths, datasources_dir=env["datasources"], **kwargs)


def rules(findings: list) -> set[str]:
    return {f.rule for f in findings}


def with_expr(expr: str, **target: Any) -> dict:
    dash = valid_dashboard()
    dash["panels"][1] = prom_panel(2, "Request rate by status", expr, **target)
    return dash


def with_sql(sql: str) -> dict:
    dash = valid_dashboard()
    dash["panels"][3] = sql_panel(4, "Sessions started", sql)
    return dash


def test_valid_dashboard_is_clean_with_json_schema(env):
    assert run(env, valid_dashboard()) == []


def test_valid_dashboard_is_clean_with_sdk_models(env):
    assert run(env, valid_dashboard(), schema_dir=None) == []


# --- schema ------------------------------------------------------------------------------------
@pytest.mark.parametrize("schema", ["json", "sdk"])
def test_schema_unknown_panel_option_key(env, schema):
    dash = valid_dashboard()
    dash["panels"][1]["options"]["legend"]["showLegendd"] = True
    found = run(env, dash, schema_dir=env["schema"] if schema == "json" else None)
    hits = [f for f in found if f.rule == "schema/panel"]
    assert hits and hits[0].panel == "Request rate by status" and "showLegendd" in hits[0].message


def test_schema_wrong_enum_and_unknown_query_key(env):
    dash = valid_dashboard()
    dash["panels"][1]["options"]["legend"]["placement"] = "middle"
    dash["panels"][1]["targets"][0]["exprr"] = "up"
    found = run(env, dash)
    assert any(f.rule == "schema/panel" and "middle" in f.message for f in found)
    assert any(f.rule == "schema/query" and f.ref_id == "A" and "exprr" in f.message for f in found)


def test_schema_deprecated_angular_panel(env):
    dash = valid_dashboard()
    dash["panels"][1]["type"] = "graph"
    found = run(env, dash)
    assert [f.panel for f in found if f.rule == "schema/deprecated-panel"] == ["Request rate by status"]


def test_schema_dashboard_level_unknown_key(env):
    dash = valid_dashboard()
    dash["refreshh"] = "1m"
    assert any(f.rule == "schema/dashboard" and "refreshh" in f.message for f in run(env, dash))


# --- datasources and variables -------------------------------------------------------------------
def test_datasource_unknown_uid_and_type_mismatch(env):
    dash = valid_dashboard()
    dash["panels"][1]["targets"][0]["datasource"] = {"type": "prometheus", "uid": "prom-old"}
    dash["panels"][3]["datasource"] = {"type": "postgres-wrong", "uid": "bo1-postgres"}
    found = run(env, dash)
    assert any(f.rule == "datasource/unknown-uid" and f.ref_id == "A" and "prom-old" in f.message for f in found)
    assert any(f.rule == "datasource/type-mismatch" and f.panel == "Sessions started" for f in found)


def test_datasource_import_inputs_are_errors(env):
    dash = valid_dashboard()
    dash["__inputs"] = [{"name": "DS_PROMETHEUS", "type": "datasource", "pluginId": "prometheus"}]
    dash["panels"][2]["datasource"] = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
    found = [f for f in run(env, dash) if f.rule == "datasource/import-input"]
    assert {f.panel for f in found} == {"", "Latency p95"}


def test_undefined_variable_in_all_syntaxes(env):
    for ref in ("$instance", "${instance}", "${instance:regex}", "[[instance]]"):
        dash = with_expr(f'sum(rate(http_requests_total{{job=~"$job", instance=~"{ref}"}}[$__rate_interval]))')
        found = [f for f in run(env, dash) if f.rule == "variable/undefined"]
        assert len(found) == 1 and "instance" in found[0].message, ref


def test_grafana_builtins_are_known(env):
    dash = with_expr('sum(increase(http_requests_total{job=~"$job"}[$__range])) / $__range_s', interval="")
    assert "variable/undefined" not in rules(run(env, dash))


# --- promql ------------------------------------------------------------------------------------
def test_promql_parse_error(env):
    found = run(env, with_expr('sum(rate(http_requests_total{job=~"$job"}[$__rate_interval])'))
    assert [f.ref_id for f in found if f.rule == "promql/parse"] == ["A"]


def test_promql_unknown_metric_label_and_value(env):
    found = run(env, with_expr("sum(rate(http_requests_in_progress_total[$__rate_interval]))"))
    assert "promql/unknown-metric" in rules(found)
    found = run(env, with_expr('sum(rate(bo1_llm_cost_cents_total{user_id="u1"}[$__rate_interval]))'))
    assert "promql/unknown-label" in rules(found)
    found = run(env, with_expr('sum(rate(http_requests_total{status="500"}[$__rate_interval]))'))
    assert any(f.rule == "promql/unknown-label-value" and "'500'" in f.message for f in found)
    found = run(env, with_expr('sum(rate(http_requests_total{status=~"5.."}[$__rate_interval]))'))
    assert "promql/unknown-label-value" not in rules(found)


def test_promql_never_emitted_family_and_value(env):
    found = run(env, with_expr("max(bo1_active_sessions)"))
    assert "promql/never-emitted" in rules(found)
    found = run(env, with_expr('sum(rate(bo1_sessions_total{status="completed"}[$__rate_interval]))'))
    assert any(f.rule == "promql/never-emitted" and "completed" in f.message for f in found)
    found = run(env, with_expr('sum(rate(bo1_sessions_total{status=~"created|terminated"}[$__rate_interval]))'))
    assert found == []


def test_promql_counter_without_rate(env):
    found = run(env, with_expr('sum(http_requests_total{job=~"$job"})'))
    assert "promql/counter-without-rate" in rules(found)
    found = run(env, with_expr('sum(http_request_duration_seconds_count{job=~"$job"})'))
    assert "promql/counter-without-rate" in rules(found)
    found = run(env, with_expr('sum(http_requests_inprogress{job=~"$job"})'))
    assert "promql/counter-without-rate" not in rules(found)


def test_promql_histogram_quantile_keeps_le(env):
    bad = (
        "histogram_quantile(0.95, sum by (handler) (rate(http_request_duration_seconds_bucket"
        '{job=~"$job"}[$__rate_interval])))'
    )
    assert "promql/histogram-quantile-le" in rules(run(env, with_expr(bad)))
    good = bad.replace("by (handler)", "by (le, handler)")
    assert "promql/histogram-quantile-le" not in rules(run(env, with_expr(good)))


def test_promql_range_window_and_retention(env):
    found = run(env, with_expr("sum(rate(http_requests_total[30s]))"))
    assert any(f.rule == "promql/range-window" and f.severity == "error" for f in found)
    assert "promql/range-window" not in rules(run(env, with_expr("sum(rate(http_requests_total[1m]))")))
    found = run(env, with_expr("sum(rate(http_requests_total[$__interval]))"))
    assert any(f.rule == "promql/range-window" and f.severity == "warning" for f in found)
    found = run(env, with_expr("sum(increase(http_requests_total[30d]))"))
    assert "promql/beyond-retention" in rules(found)
    found = run(env, with_expr("sum(rate(http_requests_total[5m] offset 20d))"))
    assert "promql/beyond-retention" in rules(found)
    assert "promql/beyond-retention" not in rules(
        run(env, with_expr("sum(increase(http_requests_total[30d]))"), retention="90d")
    )


def test_promql_masking_fallbacks(env):
    assert "promql/masking-fallback" in rules(
        run(env, with_expr('sum(rate(http_requests_total{status="5xx"}[$__rate_interval])) or vector(0)'))
    )
    assert "promql/masking-fallback" in rules(
        run(env, with_expr('sum(rate(http_requests_total{status="5xx"}[$__rate_interval])) or on() vector(0)'))
    )
    assert "promql/masking-fallback" in rules(
        run(env, with_expr('absent(up{job="bo1-api"}) * 0 + sum(up{job="bo1-api"})', unit="short"))
    )
    # A true zero from the same family: allowed.
    same = (
        'sum by (handler) (rate(http_requests_total{status="5xx"}[$__rate_interval])) '
        "or (sum by (handler) (rate(http_requests_total[$__rate_interval])) * 0)"
    )
    assert "promql/masking-fallback" not in rules(run(env, with_expr(same)))
    other = (
        'sum by (handler) (rate(http_requests_total{status="5xx"}[$__rate_interval])) '
        "or (sum by (handler) (http_requests_inprogress) * 0)"
    )
    assert "promql/masking-fallback" in rules(run(env, with_expr(other)))


def test_promql_recording_rules_via_extra_metrics(env):
    dash = with_expr('sum(handler:http_requests:rate5m{job=~"$job"})')
    assert "promql/unknown-metric" in rules(run(env, dash))
    assert run(env, dash, extra_metrics=["handler:http_requests:rate5m"]) == []


def test_promql_catalog_can_be_injected(env):
    catalog = load_catalog()
    assert run(env, valid_dashboard(), catalog=catalog) == []


# --- sql ---------------------------------------------------------------------------------------
def test_sql_read_only(env):
    for sql in (
        "DELETE FROM sessions WHERE $__timeFilter(created_at)",
        "SELECT 1 FROM sessions WHERE $__timeFilter(created_at); SELECT 2",
        "WITH d AS (DELETE FROM sessions RETURNING id) SELECT count(*) FROM d",
        "SELECT id FROM sessions WHERE $__timeFilter(created_at) FOR UPDATE",
    ):
        found = run(env, with_sql(sql))
        assert any(f.rule == "sql/not-read-only" and f.panel == "Sessions started" for f in found), sql


def test_sql_time_bounded(env):
    found = run(env, with_sql("SELECT $__timeGroupAlias(created_at, '1h'), count(*) FROM sessions GROUP BY 1"))
    assert any(f.rule == "sql/not-time-bounded" and f.severity == "error" for f in found)
    found = run(env, with_sql("SELECT count(*) FROM sessions WHERE created_at > now() - interval '1 day'"))
    assert any(f.rule == "sql/not-time-bounded" and f.severity == "warning" for f in found)
    assert run(env, with_sql("SELECT count(*) FROM api_costs WHERE created_at < $__timeTo()")) == []


def test_sql_tables_columns_and_values(env):
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


# --- layout ------------------------------------------------------------------------------------
def test_layout_ids_grid_overlap(env):
    dash = valid_dashboard()
    dash["panels"][2]["id"] = 2
    dash["panels"][3]["gridPos"] = {"x": 20, "y": 9, "w": 6, "h": 4}
    found = run(env, dash)
    assert "layout/duplicate-id" in rules(found)
    assert any(f.rule == "layout/grid" and f.panel == "Sessions started" for f in found)
    dash = valid_dashboard()
    dash["panels"][2]["gridPos"]["x"] = 6
    assert any(f.rule == "layout/overlap" and f.panel == "Latency p95" for f in run(env, dash))
    dash = valid_dashboard()
    dash["panels"][1]["gridPos"]["y"] = 0  # overlaps the row header
    assert "layout/overlap" in rules(run(env, dash))


def test_layout_unit_description_titles(env):
    dash = valid_dashboard()
    del dash["panels"][1]["fieldConfig"]["defaults"]["unit"]
    dash["panels"][2]["description"] = ""
    dash["panels"][3]["title"] = "Latency p95"
    dash["panels"].append(
        {
            "type": "text",
            "id": 9,
            "title": "About",
            "description": "What this dashboard shows.",
            "gridPos": {"x": 0, "y": 20, "w": 24, "h": 3},
            "options": {"mode": "markdown", "content": "x"},
        }
    )
    found = run(env, dash)
    assert [f.panel for f in found if f.rule == "layout/missing-unit"] == ["Request rate by status"]
    assert [f.panel for f in found if f.rule == "layout/missing-description"] == ["Latency p95"]
    assert "layout/duplicate-title" in rules(found)


def test_layout_unique_uids_and_titles_across_files(env):
    found = run(env, valid_dashboard(), valid_dashboard())
    assert {"layout/duplicate-uid", "layout/duplicate-dashboard-title"} <= rules(found)
    assert run(env, valid_dashboard(), valid_dashboard("bo1-cost", "bo1 / Cost")) == []


# --- CLI -----------------------------------------------------------------------------------------
def test_main_json_report_and_exit_status(env, capsys):
    bad = with_expr('sum(http_requests_total{status="500"})')
    path = env["tmp"] / "bad.json"
    path.write_text(json.dumps(bad))
    code = main(
        ["--format", "json", "--datasources", str(env["datasources"]), "--schema-dir", str(env["schema"]), str(path)]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert {"promql/counter-without-rate", "promql/unknown-label-value"} <= {r["rule"] for r in report}
    for row in report:
        assert {"file", "dashboard", "panel", "ref_id", "rule", "severity", "message", "fix"} <= set(row)
        assert row["file"] == str(path) and row["dashboard"] == "bo1-api"
    assert any(r["panel"] == "Request rate by status" and r["ref_id"] == "A" for r in report)

    good = env["tmp"] / "good.json"
    good.write_text(json.dumps(valid_dashboard()))
    code = main(["--datasources", str(env["datasources"]), "--schema-dir", str(env["schema"]), str(good)])
    assert code == 0 and "no findings" in capsys.readouterr().out


def test_main_warnings_alone_exit_zero(env, capsys):
    dash = with_expr('sum(rate(http_requests_total{job=~"$job"}[$__interval]))')
    path = env["tmp"] / "warn.json"
    path.write_text(json.dumps(dash))
    code = main(["--datasources", str(env["datasources"]), "--schema-dir", str(env["schema"]), str(path)])
    out = capsys.readouterr().out
    assert code == 0 and "WARNING [promql/range-window]" in out and "fix:" in out


def test_real_dashboards_lint_clean(repo_root, shared_dir):
    files = sorted((repo_root / "infra" / "grafana" / "dashboards").glob("*.json"))
    if not files:
        pytest.skip("no dashboards built yet under infra/grafana/dashboards")
    from bo1dash.lint.recorded import recorded_series

    findings = lint_dashboards(
        files,
        datasources_dir=repo_root / "infra" / "grafana" / "provisioning" / "datasources",
        schema_dir=shared_dir / "grafana-jsonschema" / "v11.6",
        extra_metrics=recorded_series(repo_root / "infra" / "prometheus" / "rules"),
    )
    errors = [f for f in findings if f.severity == "error"]
    assert errors == [], "\n".join(f"{f.dashboard} / {f.panel} / {f.ref_id}: [{f.rule}] {f.message}" for f in errors)


def test_recording_rules_are_known_series_only_when_given(repo_root, tmp_path):
    from bo1dash.lint.recorded import recorded_series

    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yml").write_text(
        "groups:\n- name: g\n  rules:\n  - record: job:things:rate1m\n    expr: sum(rate(things_total[1m]))\n"
        "  - alert: Ignored\n    expr: vector(1)\n"
    )
    assert recorded_series(rules) == ["job:things:rate1m"]
    assert recorded_series(tmp_path / "missing") == []
    dash = with_expr('sum(job:things:rate1m{job=~"$job"})')
    path = tmp_path / "d.json"
    path.write_text(json.dumps(dash))
    ds = repo_root / "infra" / "grafana" / "provisioning" / "datasources"
    unknown = [f.rule for f in lint_dashboards([path], datasources_dir=ds)]
    known = [f.rule for f in lint_dashboards([path], datasources_dir=ds, extra_metrics=recorded_series(rules))]
    assert "promql/unknown-metric" in unknown and "promql/unknown-metric" not in known
