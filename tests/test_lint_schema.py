"""Schema rules on grafana-foundation-sdk's 11.6 models (the default); Grafana's JSON Schema as a cross-check."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from lintcases import rules, run, valid_dashboard

from bo1dash.lint import schema


def test_valid_dashboard_is_clean(env):
    assert run(env, valid_dashboard()) == []


def test_unknown_panel_option_key(env):
    dash = valid_dashboard()
    dash["panels"][1]["options"]["legend"]["showLegendd"] = True
    hits = [f for f in run(env, dash) if f.rule == "schema/panel"]
    assert [(f.panel, "showLegendd" in f.message) for f in hits] == [("Request rate by status", True)]


def test_wrong_enum_value_and_wrong_type(env):
    dash = valid_dashboard()
    dash["panels"][1]["options"]["legend"]["placement"] = "middle"
    dash["panels"][2]["fieldConfig"]["defaults"]["custom"]["fillOpacity"] = "ten"
    found = run(env, dash)
    assert any(
        f.rule == "schema/panel" and f.panel == "Request rate by status" and "middle" in f.message for f in found
    )
    assert any(f.rule == "schema/panel" and f.panel == "Latency p95" and "fillOpacity" in f.message for f in found)


def test_unknown_query_key(env):
    dash = valid_dashboard()
    dash["panels"][1]["targets"][0]["exprr"] = "up"
    assert [f.ref_id for f in run(env, dash) if f.rule == "schema/query" and "exprr" in f.message] == ["A"]


def test_deprecated_angular_panel(env):
    dash = valid_dashboard()
    dash["panels"][1]["type"] = "graph"
    assert [f.panel for f in run(env, dash) if f.rule == "schema/deprecated-panel"] == ["Request rate by status"]


def test_dashboard_level_unknown_key(env):
    dash = valid_dashboard()
    dash["refreshh"] = "1m"
    assert any(f.rule == "schema/dashboard" and "refreshh" in f.message for f in run(env, dash))


def test_unknown_panel_type_is_a_warning(env):
    dash = valid_dashboard()
    dash["panels"][1]["type"] = "acme-fancy-panel"
    found = [f for f in run(env, dash) if f.rule == "schema/unknown-panel-type"]
    assert [(f.panel, f.severity) for f in found] == [("Request rate by status", "warning")]
    assert "schema/unknown-panel-type" not in rules(run(env, valid_dashboard()))


def test_keys_grafana_11_writes_itself_are_accepted(env):
    """Issue 11: fieldMinMax, unitScale, style, timepicker.time_options, definition/queryValue are Grafana's own."""
    dash = valid_dashboard()
    dash["style"] = "dark"
    dash["timepicker"] = {"time_options": ["5m", "1h"], "refresh_intervals": ["30s"]}
    dash["templating"]["list"][0]["definition"] = "label_values(http_requests_total, job)"
    dash["templating"]["list"][0]["queryValue"] = ""
    dash["panels"][1]["fieldConfig"]["defaults"]["fieldMinMax"] = False
    dash["panels"][1]["fieldConfig"]["defaults"]["unitScale"] = True
    assert run(env, dash) == []
    dash["panels"][1]["fieldConfig"]["defaults"]["unitScalee"] = True  # a typo of one is still caught
    assert "schema/panel" in rules(run(env, dash))


def test_wrong_types_at_the_top_are_findings_not_crashes(env):
    for key, value, rule in (
        ("templating", "x", "schema/dashboard"),
        ("panels", "abc", "schema/dashboard"),
        ("annotations", [1], "schema/dashboard"),
    ):
        dash = valid_dashboard()
        dash[key] = value
        assert any(f.rule == rule and key in f.message for f in run(env, dash)), key
    dash = valid_dashboard()
    dash["panels"][1]["fieldConfig"] = "x"
    assert any(f.rule == "schema/panel" and f.panel == "Request rate by status" for f in run(env, dash))


def test_model_fields_are_read_once_per_class():
    schema._model_fields.cache_clear()
    source = schema.schema_source(None)
    assert source is schema.schema_source(None)
    source.dashboard(valid_dashboard())
    first = schema._model_fields.cache_info()
    source.dashboard(valid_dashboard())
    second = schema._model_fields.cache_info()
    assert second.misses == first.misses and second.hits > first.hits


# --- cross-check against Grafana's published JSON Schema (../shared, when present) ------------------
BREAKS = {
    "unknown option key": lambda d: d["panels"][1]["options"]["legend"].update(showLegendd=True),
    "wrong enum": lambda d: d["panels"][1]["options"]["legend"].update(placement="middle"),
    "unknown query key": lambda d: d["panels"][1]["targets"][0].update(exprr="up"),
    "unknown dashboard key": lambda d: d.update(refreshh="1m"),
    "templating not an object": lambda d: d.update(templating="x"),
}


@pytest.fixture()
def json_schema_dir(shared_dir: Path) -> Path:
    return shared_dir / "grafana-jsonschema" / "v11.6"


def test_cross_check_sdk_and_json_schema_agree(env, json_schema_dir):
    assert run(env, valid_dashboard(), schema_dir=json_schema_dir) == []
    schema_rules = {"schema/dashboard", "schema/panel", "schema/query"}
    for name, breaks in BREAKS.items():
        dash = copy.deepcopy(valid_dashboard())
        breaks(dash)
        sdk = rules(run(env, dash)) & schema_rules
        published = rules(run(env, dash, schema_dir=json_schema_dir)) & schema_rules
        assert sdk and sdk == published, name


def test_cross_check_our_dashboards_on_json_schema(repo_root, json_schema_dir):
    from bo1dash.lint import lint_dashboards

    files = sorted((repo_root / "infra" / "grafana" / "dashboards").glob("*.json"))
    found = [f for f in lint_dashboards(files, schema_dir=json_schema_dir) if f.rule.startswith("schema/")]
    assert found == []


def test_keys_old_prometheus_query_editors_stored_are_accepted(env):
    dash = valid_dashboard()
    dash["panels"][1]["targets"][0].update(
        {"format": "time_series", "intervalFactor": 2, "step": 10, "metric": "", "hide": False, "instant": False}
    )
    assert run(env, dash) == []
    dash["panels"][1]["targets"][0]["intervalFactorr"] = 2
    assert "schema/query" in rules(run(env, dash))
