"""`bo1dash lint` as a user runs it: exit codes, one line per problem, no traceback, JSON that parses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from lintcases import valid_dashboard, with_expr

from bo1dash.lint import main

BAD = Path(__file__).resolve().parent / "bad_inputs" / "lint"
FIELDS = {"file", "dashboard", "panel", "ref_id", "rule", "severity", "message", "fix"}


def bo1dash(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bo1dash", *args], capture_output=True, text=True, timeout=300, cwd=cwd
    )


def assert_clean_failure(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    """Non-zero exit, no traceback, and one line holding every needle (file, key, ...)."""
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = (proc.stdout + proc.stderr).splitlines()
    assert any(all(n in line for n in needles) for line in lines), (needles, proc.stdout, proc.stderr)


# file, what the one line must name besides the file
CORPUS = {
    "binary.json": ("file/invalid-json",),
    "deeply-nested.json": ("file/invalid-json", "nested"),
    "templating-string.json": ("schema/dashboard", "templating"),
    "fieldconfig-string.json": ("schema/panel", "fieldConfig", "Request rate by status"),
    "panels-string.json": ("schema/dashboard", "panels"),
    "no-queries.json": ("panel/no-targets", "Request rate by status"),
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_bad_dashboard_file(name):
    path = str(BAD / name)
    assert_clean_failure(bo1dash("lint", "--retention", "15d", path), path, *CORPUS[name])
    proc = bo1dash("lint", "--retention", "15d", "--format=json", path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    assert any(r["file"] == path and r["rule"] == CORPUS[name][0] for r in report)
    assert all(set(r) == FIELDS for r in report)


def test_datasource_provisioning_that_is_a_list():
    ds = BAD / "datasources-list"
    dash = str(BAD / "no-queries.json")
    proc = bo1dash("lint", "--retention", "15d", "--datasources", str(ds), dash)
    assert_clean_failure(proc, str(ds / "datasources.yaml"), "datasource/provisioning", "list")
    proc = bo1dash("lint", "--retention", "15d", "--format", "json", "--datasources", str(ds), dash)
    assert any(r["rule"] == "datasource/provisioning" for r in json.loads(proc.stdout))


def test_format_json_with_equals_prints_only_json_for_our_own_build(repo_root):
    proc = bo1dash("lint", "--format=json", cwd=repo_root)
    assert "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)  # nothing but the JSON document
    assert isinstance(report, list) and all(FIELDS <= set(r) for r in report)


def test_help_prints_help():
    proc = bo1dash("lint", "--help")
    assert proc.returncode == 0 and "--format" in proc.stdout and "--datasources" in proc.stdout


def test_bad_option_value_is_one_line_and_json_stays_valid(tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps(valid_dashboard()))
    proc = bo1dash("lint", "--retention", "fortnight", "--format", "json", str(path))
    assert proc.returncode == 2 and json.loads(proc.stdout) == []
    assert_clean_failure(proc, "--retention", "fortnight")


def test_json_report_shape_and_exit_status(env, capsys):
    bad = with_expr('sum(http_requests_total{status="500"})')
    path = env["tmp"] / "bad.json"
    path.write_text(json.dumps(bad))
    code = main(["--format", "json", "--datasources", str(env["datasources"]), str(path)])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert {"promql/counter-without-rate", "promql/unknown-label-value"} <= {r["rule"] for r in report}
    for row in report:
        assert set(row) == FIELDS
        assert row["file"] == str(path) and row["dashboard"] == "bo1-api"
    assert any(r["panel"] == "Request rate by status" and r["ref_id"] == "A" for r in report)

    good = env["tmp"] / "good.json"
    good.write_text(json.dumps(valid_dashboard()))
    assert main(["--datasources", str(env["datasources"]), str(good)]) == 0
    assert "no findings" in capsys.readouterr().out


def test_warnings_alone_exit_zero(env, capsys):
    path = env["tmp"] / "warn.json"
    path.write_text(json.dumps(with_expr('sum(rate(http_requests_total{job=~"$job"}[$__interval]))')))
    code = main(["--datasources", str(env["datasources"]), str(path)])
    lines = [line for line in capsys.readouterr().out.splitlines() if "[promql/range-window]" in line]
    assert code == 0 and len(lines) == 1 and lines[0].startswith(f"{path}: WARNING")


def test_real_dashboards_lint_clean(repo_root):
    from bo1dash.lint import lint_dashboards
    from bo1dash.lint.recorded import recorded_series

    files = sorted((repo_root / "infra" / "grafana" / "dashboards").glob("*.json"))
    assert files, "infra/grafana/dashboards is committed with the compiled dashboards"
    findings = lint_dashboards(
        files,
        datasources_dir=repo_root / "infra" / "grafana" / "provisioning" / "datasources",
        extra_metrics=recorded_series(repo_root / "infra" / "prometheus" / "rules"),
        retention="35d",
    )
    errors = [f for f in findings if f.severity == "error"]
    assert errors == [], "\n".join(f"{f.dashboard} / {f.panel} / {f.ref_id}: [{f.rule}] {f.message}" for f in errors)


def test_recording_rules_are_known_series_only_when_given(repo_root, tmp_path):
    from bo1dash.lint import lint_dashboards
    from bo1dash.lint.recorded import recorded_series

    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yml").write_text(
        "groups:\n- name: g\n  rules:\n  - record: job:things:rate1m\n    expr: sum(rate(things_total[1m]))\n"
        "  - alert: Ignored\n    expr: vector(1)\n"
    )
    assert recorded_series(rules) == ["job:things:rate1m"]
    assert recorded_series(tmp_path / "missing") == []
    path = tmp_path / "d.json"
    path.write_text(json.dumps(with_expr('sum(job:things:rate1m{job=~"$job"})')))
    unknown = [f.rule for f in lint_dashboards([path])]
    known = [f.rule for f in lint_dashboards([path], extra_metrics=recorded_series(rules))]
    assert "promql/unknown-metric" in unknown and "promql/unknown-metric" not in known
