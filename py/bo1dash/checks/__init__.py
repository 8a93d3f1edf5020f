"""Checks that run the monitoring stack's own validators (promtool, amtool, docker-compose).

Each check returns a list of `Finding`s; a missing tool is a finding too (never an exception), so
`nox -s lint` can report everything at once.
"""

from bo1dash.checks.findings import Finding
from bo1dash.checks.rulefiles import RULE_FILE_NAMES, evaluate_rule_files, write_rule_files
from bo1dash.checks.tools import (
    check_alertmanager_config,
    check_compose,
    check_prometheus_config,
    check_rules,
    run_all_checks,
    run_infra_checks,
    run_rule_tests,
)

__all__ = [
    "Finding",
    "RULE_FILE_NAMES",
    "check_alertmanager_config",
    "check_compose",
    "check_prometheus_config",
    "check_rules",
    "evaluate_rule_files",
    "run_all_checks",
    "run_infra_checks",
    "run_rule_tests",
    "write_rule_files",
]
