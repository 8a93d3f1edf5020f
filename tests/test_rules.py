"""The mixin's recording rules and alerts, through real `promtool check rules` and `promtool test rules`."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from bo1dash.checks import check_rules, evaluate_rule_files, run_rule_tests, write_rule_files
from bo1dash.compile import compile_mixin
from bo1dash.promql_tree import selectors

ROOT = Path(__file__).resolve().parent.parent
RULE_TESTS = sorted((ROOT / "tests" / "rules").glob("*_test.yaml"))
RUNBOOK = ROOT / "docs" / "runbooks.md"

pytestmark = pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian: prometheus) missing")


@pytest.fixture(scope="module")
def rendered() -> dict:
    return evaluate_rule_files(ROOT)


@pytest.fixture(scope="module")
def rules_dir(rendered, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("rules")
    write_rule_files(rendered, out)
    return out


def _rules(rendered, kind):
    return [r for g in rendered[kind]["groups"] for r in g["rules"]]


def test_promtool_check_rules(rules_dir):
    assert check_rules(sorted(rules_dir.glob("bo1-*.yml"))) == []


@pytest.mark.parametrize("test_file", RULE_TESTS, ids=lambda p: p.name)
def test_promtool_unit_tests(rules_dir, test_file):
    findings = run_rule_tests([test_file], rules_dir)
    assert findings == [], findings[0].message if findings else ""


def unit_tested(test_docs: list[dict]) -> tuple[set[str], set[str]]:
    """(records, alerts) the promtool tests check: a record read by a `promql_expr_test` expression that expects
    samples, an alert an `alert_rule_test` expects to fire. Input series do not count."""
    records: set[str] = set()
    alerts: set[str] = set()
    for doc in test_docs:
        for test in doc.get("tests") or []:
            for case in test.get("promql_expr_test") or []:
                if case.get("exp_samples"):
                    records.update(sel.name for sel in selectors(str(case["expr"])))
            for case in test.get("alert_rule_test") or []:
                if case.get("exp_alerts"):
                    alerts.add(str(case["alertname"]))
    return records, alerts


def test_every_alert_and_record_is_unit_tested(rendered):
    records, alerts = unit_tested([yaml.safe_load(p.read_text()) for p in RULE_TESTS])
    assert {r["alert"] for r in _rules(rendered, "alerts")} - alerts == set()
    assert {r["record"] for r in _rules(rendered, "rules")} - records == set()


def test_a_record_only_fed_as_input_series_is_not_tested():
    fed_only = {
        "tests": [
            {
                "input_series": [{"series": "job:http_requests:rate5m", "values": "1x5"}],
                "promql_expr_test": [{"expr": "sum(job:http_requests:rate5m)", "eval_time": "1m", "exp_samples": []}],
                "alert_rule_test": [{"alertname": "Bo1ApiDown", "eval_time": "1m", "exp_alerts": []}],
            }
        ]
    }
    assert unit_tested([fed_only]) == (set(), set())
    checked = {
        "tests": [
            {
                "promql_expr_test": [
                    {"expr": "sum(job:http_requests:rate5m)", "eval_time": "1m", "exp_samples": [{"value": 1}]}
                ],
                "alert_rule_test": [{"alertname": "Bo1ApiDown", "eval_time": "1m", "exp_alerts": [{}]}],
            }
        ]
    }
    assert unit_tested([checked]) == ({"job:http_requests:rate5m"}, {"Bo1ApiDown"})


def test_alert_conventions(rendered):
    runbook = RUNBOOK.read_text()
    anchors = {m.lower() for m in re.findall(r"^## (\w+)", runbook, re.M)}
    for rule in _rules(rendered, "alerts"):
        name = rule["alert"]
        assert re.fullmatch(r"(?:[A-Z][a-z0-9]*|[A-Z]{2,}(?=[A-Z][a-z]|$))+", name), name
        assert rule["labels"]["severity"] in {"warning", "critical"}, name
        ann = rule["annotations"]
        assert ann["summary"] and ann["description"], name
        assert ann["runbook_url"].endswith("runbooks.md#" + name.lower()), name
        assert name.lower() in anchors, f"docs/runbooks.md has no section '## {name}'"


def test_record_names_follow_level_metric_operations(rendered):
    for rule in _rules(rendered, "rules"):
        level, metric, ops = rule["record"].split(":")
        assert level and metric and ops, rule["record"]
        if "[" in rule["expr"] or ":rate" in rule["expr"]:  # reads a range, itself or through a rule
            assert re.search(r"\d+[smhd]|month", ops), f"{rule['record']}: no window in the name"
        else:  # an instant aggregation of a gauge has no window: the operation is the aggregation
            assert ops in {"sum", "max", "min", "avg", "count"}, f"{rule['record']}: not named for its aggregation"


def test_no_literal_job_selectors_outside_config(rendered, tmp_path):
    """Every job name in the rules comes from _config: overriding it re-targets every query."""
    entry = tmp_path / "consumer.jsonnet"
    entry.write_text(
        "(import 'mixin.libsonnet') + { _config+:: { apiJobRegex: 'zz-api', redisExporterJob: 'zz-redis',"
        " postgresExporterJob: 'zz-pg', nodeExporterJob: 'zz-node', processExporterJob: 'zz-proc',"
        " cadvisorJob: 'zz-cadvisor', prometheusJob: 'zz-prom' } }\n"
    )
    consumer = compile_mixin(entry, root=ROOT)
    out = {"rules": consumer.rules, "alerts": consumer.alerts}
    exprs = " ".join(r["expr"] for kind in out.values() for g in kind["groups"] for r in g["rules"])
    assert re.findall(r'job=~?"([^"]*)"', exprs) and all(
        j.startswith("zz-") for j in re.findall(r'job=~?"([^"]*)"', exprs)
    )
    for job in [
        "bo1-api",
        "bo1-backend",
        "redis-exporter",
        "postgres-exporter",
        "node-exporter",
        "cadvisor",
        "prometheus",
    ]:
        assert not re.search(rf'"(\S*\|)?{job}', exprs), job
