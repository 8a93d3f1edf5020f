"""Rule settings kept in the repository: .bo1dash-lint.yaml, dashboard-linter's .lint, --strict."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from lintcases import rules, run, valid_dashboard, with_expr

from bo1dash.lint import main
from bo1dash.lint.settings import SettingsError, load_settings


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def no_description() -> dict:
    dash = valid_dashboard()
    dash["panels"][1]["description"] = ""
    return dash


def test_rule_severity_can_be_raised_lowered_or_turned_off(env, tmp_path):
    assert [f.severity for f in run(env, no_description()) if f.rule == "layout/missing-description"] == ["warning"]
    for severity, expected in (("error", ["error"]), ("warning", ["warning"]), ("off", [])):
        settings = load_settings(write(tmp_path / "s.yaml", f"rules:\n  layout/missing-description: {severity}\n"))
        found = run(env, no_description(), settings=settings)
        assert [f.severity for f in found if f.rule == "layout/missing-description"] == expected, severity
    settings = load_settings(write(tmp_path / "s.yaml", "rules:\n  layout/*: off\n"))
    assert run(env, no_description(), settings=settings) == []


def test_exclusions_by_dashboard_panel_and_ref_id(env, tmp_path):
    dash = with_expr('sum(rate(http_requests_total{status="500"}[$__rate_interval]))')
    assert "promql/unknown-label-value" in rules(run(env, dash))
    cases = {
        "dashboard: bo1-api": [],
        "dashboard: other-dashboard": ["promql/unknown-label-value"],
        "panel: Request rate by status": [],
        "panel: Latency p95": ["promql/unknown-label-value"],
        "ref_id: A": [],
        "ref_id: B": ["promql/unknown-label-value"],
    }
    for where, expected in cases.items():
        text = f"exclude:\n  - rule: promql/unknown-label-value\n    {where}\n    reason: theirs\n"
        settings = load_settings(write(tmp_path / "s.yaml", text))
        assert sorted(rules(run(env, dash, settings=settings))) == expected, where


def test_strict_turns_warnings_into_errors(env):
    assert {f.severity for f in run(env, no_description(), strict=True)} == {"error"}
    assert run(env, valid_dashboard(), strict=True) == []


@pytest.mark.parametrize(
    "text, needle",
    [
        ("rules:\n  layout/missing-description: loud\n", "loud"),
        ("rules:\n  nosuchfamily/x: off\n", "nosuchfamily/x"),
        ("exclude:\n  - rule: promql/parse\n    panell: x\n", "panell"),
        ("rules: [\n", "line"),
        ("- a list\n", "list"),
    ],
)
def test_bad_settings_file_is_one_line_naming_file_and_key(tmp_path, text, needle):
    path = write(tmp_path / ".bo1dash-lint.yaml", text)
    with pytest.raises(SettingsError) as err:
        load_settings(path)
    assert str(path) in str(err.value) and needle in str(err.value) and "\n" not in str(err.value)


def test_dashboard_linter_lint_file_beside_the_dashboards(env, tmp_path):
    """dashboard-linter's .lint: exclusions and warnings by rule, dashboard title, panel title, target index."""
    dash = with_expr('sum(http_requests_total{job=~"$job"})')
    dash["panels"][2]["description"] = ""
    folder = tmp_path / "dashboards"
    folder.mkdir()
    path = folder / "api.json"
    path.write_text(json.dumps(dash))
    ds = str(env["datasources"])

    def lint() -> list[dict]:
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from bo1dash.lint import main; sys.exit(main(sys.argv[1:]))",
                "--format",
                "json",
                "--datasources",
                ds,
                str(path),
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )
        return json.loads(out.stdout)

    before = {(r["rule"], r["severity"]) for r in lint()}
    assert {("promql/counter-without-rate", "error"), ("layout/missing-description", "warning")} <= before
    (folder / ".lint").write_text(
        "exclusions:\n"
        "  target-counter-agg-rule:\n"
        "    reason: reviewed\n"
        "    entries:\n"
        "    - dashboard: bo1 / API\n"
        "      panel: Request rate by status\n"
        "      targetIdx: '0'\n"
        "  panel-title-description-rule:\n"
    )
    after = {(r["rule"], r["severity"]) for r in lint()}
    assert not {r for r, _ in after} & {"promql/counter-without-rate", "layout/missing-description"}
    (folder / ".lint").write_text(
        "warnings:\n  target-counter-agg-rule:\n    entries:\n    - dashboard: bo1 / API\n      targetIdx: '1'\n"
    )
    assert ("promql/counter-without-rate", "error") in {(r["rule"], r["severity"]) for r in lint()}
    (folder / ".lint").write_text("warnings:\n  target-counter-agg-rule:\n")
    assert ("promql/counter-without-rate", "warning") in {(r["rule"], r["severity"]) for r in lint()}


def test_config_option_and_default_file_through_main(env, tmp_path, capsys, monkeypatch):
    path = tmp_path / "d.json"
    path.write_text(json.dumps(no_description()))
    ds = str(env["datasources"])
    assert main(["--datasources", ds, str(path)]) == 0
    assert main(["--strict", "--datasources", ds, str(path)]) == 1
    config = write(tmp_path / "mine.yaml", "rules:\n  layout/missing-description: error\n")
    assert main(["--config", str(config), "--datasources", ds, str(path)]) == 1
    monkeypatch.chdir(tmp_path)
    write(tmp_path / ".bo1dash-lint.yaml", "rules:\n  layout/missing-description: error\n")
    assert main(["--datasources", ds, str(path)]) == 1
    write(tmp_path / ".bo1dash-lint.yaml", "rules:\n  layout/missing-description: maybe\n")
    capsys.readouterr()
    assert main(["--format", "json", "--datasources", ds, str(path)]) == 2
    out = capsys.readouterr()
    assert json.loads(out.out) == [] and ".bo1dash-lint.yaml" in out.err and "maybe" in out.err


def test_lint_file_rules_without_counterpart_are_ignored_as_dashboard_linter_does(tmp_path):
    path = write(
        tmp_path / ".lint",
        "exclusions:\n  template-instance-rule:\n  some-future-rule:\n    reason: x\n"
        "  panel-units-rule:\n    entries:\n    - dashboard: D\n      panel: P\n      targetIdx: '2'\n",
    )
    settings = load_settings(path)
    assert [(m.rules, m.dashboard_title, m.panel, m.target_index) for m in settings.exclusions] == [
        (("layout/missing-unit",), "D", "P", 2)
    ]
    write(path, "exclusions:\n  panel-units-rule:\n    entries:\n    - targetIdx: first\n")
    with pytest.raises(SettingsError) as err:
        load_settings(path)
    assert str(path) in str(err.value) and "targetIdx" in str(err.value)
