"""dashboard-linter parity: variables, rate windows, editable; --fix for the mechanical ones."""

from __future__ import annotations

import json

from lintcases import PROM, rules, run, valid_dashboard, with_expr

from bo1dash.lint import main
from bo1dash.lint.settings import load_settings


def test_variable_queries_are_parsed_and_checked(env):
    dash = valid_dashboard()
    var = dash["templating"]["list"][0]
    for query in (
        "label_values(http_requests_total{job=~, job)",  # does not parse
        "label_values(http_request_total, job)",  # unknown series
        "label_values(http_requests_total, user_id)",  # no such label
        "label_vals(http_requests_total, job)",  # no such function
    ):
        var["query"]["query"] = query
        found = [f for f in run(env, dash) if f.rule == "template/label-promql"]
        assert [f.severity for f in found] == ["error"], query
    for query in ("label_values(http_requests_total, job)", "label_values(job)", "query_result(up)"):
        var["query"]["query"] = query
        assert "template/label-promql" not in rules(run(env, dash)), query


def test_variable_refresh_on_time_change(env):
    dash = valid_dashboard()
    dash["templating"]["list"][0]["refresh"] = 1
    assert [f.severity for f in run(env, dash) if f.rule == "template/on-time-change-reload"] == ["warning"]


def test_editable_dashboard(env):
    dash = valid_dashboard()
    dash["editable"] = True
    assert [f.severity for f in run(env, dash) if f.rule == "template/uneditable"] == ["warning"]


def test_rate_over_a_fixed_window(env):
    found = run(env, with_expr('sum(rate(http_requests_total{job=~"$job"}[5m]))'))
    assert [(f.rule, f.ref_id) for f in found] == [("promql/rate-interval", "A")]
    assert run(env, with_expr('sum(increase(http_requests_total{job=~"$job"}[1h]))')) == []


def test_opinionated_rules_are_off_until_turned_on(env, tmp_path):
    assert not rules(run(env, valid_dashboard())) & {"template/datasource", "template/job", "template/instance"}
    (tmp_path / "s.yaml").write_text("rules:\n  template/datasource: warning\n  template/instance: warning\n")
    found = rules(run(env, valid_dashboard(), settings=load_settings(tmp_path / "s.yaml")))
    assert {"template/datasource", "template/instance"} <= found and "template/job" not in found


def test_fix_rewrites_the_mechanical_findings(env, tmp_path, capsys):
    dash = with_expr('sum(rate(http_requests_total{job=~"$job"}[5m])) / sum(irate(http_requests_total[1m30s]))')
    dash["editable"] = True
    dash["templating"]["list"][0]["refresh"] = 1
    path = tmp_path / "d.json"
    path.write_text(json.dumps(dash, indent=2))
    settings = tmp_path / "s.yaml"
    settings.write_text("rules:\n  template/datasource: warning\n")
    args = ["--datasources", str(env["datasources"]), "--config", str(settings), str(path)]
    assert main(args) == 0
    before = capsys.readouterr().out
    assert all(r in before for r in ("promql/rate-interval", "template/uneditable", "template/datasource"))

    assert main(["--fix", *args]) == 0
    out = capsys.readouterr()
    assert "no findings" in out.out and str(path) in out.err
    fixed = json.loads(path.read_text())
    assert fixed["editable"] is False
    expr = fixed["panels"][1]["targets"][0]["expr"]
    assert expr.count("[$__rate_interval]") == 2 and "[5m]" not in expr
    variables = {v["name"]: v for v in fixed["templating"]["list"]}
    assert variables["datasource"]["current"]["value"] == PROM["uid"]
    assert variables["job"]["refresh"] == 2
    assert fixed["panels"][1]["datasource"]["uid"] == "${datasource}"
    assert fixed["panels"][3]["datasource"]["type"] != "prometheus"  # the Postgres panel is left alone
    assert list(fixed) == list(dash)  # key order kept
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_fix_that_cannot_write_is_one_line_and_leaves_the_file(env, tmp_path, capsys):
    path = tmp_path / "d.json"
    original = json.dumps(with_expr('sum(rate(http_requests_total{job=~"$job"}[5m]))'))
    path.write_text(original)
    (tmp_path / ".d.json.bo1dash-fix.tmp").mkdir()  # the temporary file cannot be created
    assert main(["--fix", str(path)]) == 2
    err = capsys.readouterr().err
    assert "--fix" in err and "Traceback" not in err
    assert path.read_text() == original
