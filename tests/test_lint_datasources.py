"""Datasource references and template variables: each rule broken once and kept once."""

from __future__ import annotations

from lintcases import rules, run, valid_dashboard, with_expr


def test_unknown_uid_and_type_mismatch(env):
    dash = valid_dashboard()
    dash["panels"][1]["targets"][0]["datasource"] = {"type": "prometheus", "uid": "prom-old"}
    dash["panels"][3]["datasource"] = {"type": "postgres-wrong", "uid": "bo1-postgres"}
    found = run(env, dash)
    assert any(f.rule == "datasource/unknown-uid" and f.ref_id == "A" and "prom-old" in f.message for f in found)
    assert any(f.rule == "datasource/type-mismatch" and f.panel == "Sessions started" for f in found)


def test_unknown_uid_needs_a_provisioning_to_compare_with(env):
    """Issue 11: someone else's dashboard is not checked against our provisioning unless asked."""
    dash = valid_dashboard()
    dash["panels"][1]["targets"][0]["datasource"] = {"type": "prometheus", "uid": "their-prometheus"}
    dash["panels"][1]["datasource"] = {"type": "prometheus", "uid": "their-prometheus"}
    assert "datasource/unknown-uid" in rules(run(env, dash))
    assert "datasource/unknown-uid" not in rules(run(env, dash, datasources_dir=None))


def test_import_inputs_are_errors(env):
    dash = valid_dashboard()
    dash["__inputs"] = [{"name": "DS_PROMETHEUS", "type": "datasource", "pluginId": "prometheus"}]
    dash["panels"][2]["datasource"] = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
    found = [f for f in run(env, dash) if f.rule == "datasource/import-input"]
    assert {f.panel for f in found} == {"", "Latency p95"}


def test_ds_named_datasource_variable_is_not_an_import_placeholder(env):
    """Issue 11: `${DS_PROM}` is a variable reference when the dashboard defines DS_PROM."""
    dash = valid_dashboard()
    dash["panels"][2]["datasource"] = {"type": "prometheus", "uid": "${DS_PROM}"}
    dash["panels"][2]["targets"][0]["datasource"] = {"type": "prometheus", "uid": "${DS_PROM}"}
    assert "datasource/import-input" in rules(run(env, dash))
    dash["templating"]["list"].append({"name": "DS_PROM", "type": "datasource", "query": "prometheus"})
    assert run(env, dash) == []


def test_legacy_name_reference(env):
    dash = valid_dashboard()
    dash["panels"][1]["datasource"] = "Prometheus"
    found = [f for f in run(env, dash) if f.rule == "datasource/legacy-ref"]
    assert [(f.panel, f.severity) for f in found] == [("Request rate by status", "warning")]


def test_implicit_default_datasource(env):
    dash = valid_dashboard()
    del dash["panels"][1]["datasource"]
    del dash["panels"][1]["targets"][0]["datasource"]
    found = [f for f in run(env, dash) if f.rule == "datasource/implicit-default"]
    assert [f.panel for f in found] == ["Request rate by status"]
    dash = valid_dashboard()
    del dash["panels"][1]["datasource"]  # the target still names its datasource
    assert "datasource/implicit-default" not in rules(run(env, dash))


def test_unknown_datasource_variable(env):
    dash = valid_dashboard()
    dash["panels"][1]["datasource"] = {"type": "prometheus", "uid": "$prom"}
    dash["panels"][1]["targets"][0]["datasource"] = {"type": "prometheus", "uid": "$prom"}
    found = [f for f in run(env, dash) if f.rule == "datasource/unknown-variable"]
    assert {f.ref_id for f in found} == {"", "A"}
    dash["templating"]["list"].append({"name": "prom", "type": "datasource", "query": "prometheus"})
    assert run(env, dash) == []


def test_provisioning_file_problems(env):
    bad = env["datasources"] / "broken.yaml"
    bad.write_text("apiVersion: 1\ndatasources:\n  - name: NoUid\n    type: prometheus\n")
    found = [f for f in run(env, valid_dashboard()) if f.rule == "datasource/provisioning"]
    assert [f.file for f in found] == [str(bad)] and "NoUid" in found[0].message
    bad.write_text("- name: a list, not a mapping\n")
    found = [f for f in run(env, valid_dashboard()) if f.rule == "datasource/provisioning"]
    assert [f.file for f in found] == [str(bad)]
    bad.write_text("datasources: [\n")
    found = [f for f in run(env, valid_dashboard()) if f.rule == "datasource/provisioning"]
    assert [f.file for f in found] == [str(bad)] and "\n" not in found[0].message
    bad.unlink()
    assert run(env, valid_dashboard()) == []


def test_undefined_variable_in_all_syntaxes(env):
    for ref in ("$instance", "${instance}", "${instance:regex}", "[[instance]]"):
        dash = with_expr(f'sum(rate(http_requests_total{{job=~"$job", instance=~"{ref}"}}[$__rate_interval]))')
        found = [f for f in run(env, dash) if f.rule == "variable/undefined"]
        assert len(found) == 1 and "instance" in found[0].message, ref


def test_grafana_builtins_are_known(env):
    dash = with_expr('sum(increase(http_requests_total{job=~"$job"}[$__range])) / $__range_s', interval="")
    assert "variable/undefined" not in rules(run(env, dash))


def test_a_price_in_a_description_is_not_a_variable(env):
    """Issue 11: `$0.0005` per token is money, not a variable."""
    dash = valid_dashboard()
    dash["panels"][1]["description"] = "Each request costs about $0.0005; see $job for the jobs."
    assert run(env, dash) == []
    dash["panels"][1]["description"] = "Each request costs about $price."
    assert "variable/undefined" in rules(run(env, dash))
