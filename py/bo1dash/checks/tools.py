"""Wrappers around promtool, amtool and docker-compose that return findings."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bo1dash.checks.findings import Finding

# Debian package that ships each tool (named in the finding when it is missing).
TOOL_PACKAGES = {
    "promtool": "prometheus",
    "amtool": "prometheus-alertmanager",
    "docker-compose": "docker-compose",
}

# Every variable docker-compose.yml requires (`${VAR:?...}`), with a dummy value for `config`.
COMPOSE_DUMMY_ENV = {
    "GF_SECURITY_ADMIN_PASSWORD": "dummy-admin-password",
    "BO1_GRAFANA_PG_PASSWORD": "dummy-grafana-ro-password",
    "POSTGRES_PASSWORD": "dummy-postgres-password",
    "REDIS_PASSWORD": "dummy-redis-password",
    "POSTGRES_EXPORTER_PASSWORD": "dummy-exporter-password",
    "ALERTMANAGER_WEBHOOK_URL": "http://127.0.0.1:9/alerts",
    "IMAGE_TAG": "latest",
}

# Profiles of docker-compose.yml; "" is the default (no profile).
COMPOSE_PROFILES = ("", "monitoring")


def _missing(tool: str, file: str, rule: str) -> Finding:
    return Finding(
        file=file,
        rule=rule,
        severity="error",
        message=f"{tool} is not installed, so this check could not run",
        fix=f"apt-get install {TOOL_PACKAGES[tool]}",
    )


def _run(
    argv: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run(list(argv), capture_output=True, text=True, env=full_env, cwd=cwd, timeout=timeout)


def _output_findings(proc: subprocess.CompletedProcess[str], file: str, rule: str, fix: str) -> list[Finding]:
    if proc.returncode == 0:
        return []
    text = (proc.stdout + "\n" + proc.stderr).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    problems = [ln for ln in lines if re.search(r"FAILED|error|err=|invalid|unknown|not found", ln, re.I)]
    message = "; ".join(problems or lines[-5:]) or f"exit code {proc.returncode}"
    return [Finding(file=file, rule=rule, severity="error", message=message, fix=fix)]


def check_rules(paths: Iterable[Path]) -> list[Finding]:
    """`promtool check rules` on each rule file."""
    findings: list[Finding] = []
    for path in paths:
        if shutil.which("promtool") is None:
            return [_missing("promtool", str(path), "promtool-check-rules")]
        proc = _run(["promtool", "check", "rules", str(path)])
        findings += _output_findings(
            proc, str(path), "promtool-check-rules", "fix the rule in jsonnet/rules or jsonnet/alerts and rebuild"
        )
    return findings


def check_prometheus_config(path: Path) -> list[Finding]:
    """`promtool check config` (also checks the rule files it references, relative to it)."""
    if shutil.which("promtool") is None:
        return [_missing("promtool", str(path), "promtool-check-config")]
    proc = _run(["promtool", "check", "config", str(path)])
    return _output_findings(
        proc, str(path), "promtool-check-config", "regenerate infra/prometheus/prometheus.yml with `bo1dash build`"
    )


def check_alertmanager_config(path: Path) -> list[Finding]:
    """`amtool check-config`."""
    if shutil.which("amtool") is None:
        return [_missing("amtool", str(path), "amtool-check-config")]
    proc = _run(["amtool", "check-config", str(path)])
    return _output_findings(proc, str(path), "amtool-check-config", "fix infra/alertmanager/config.yml")


def run_rule_tests(test_files: Iterable[Path], rules_dir: Path) -> list[Finding]:
    """`promtool test rules` with each test file copied next to the rendered rule files.

    The tests name the rule files by their build names (bo1-rules.yml, bo1-alerts.yml), which
    promtool resolves relative to the test file, so each test runs from `rules_dir`.
    """
    rules_dir = Path(rules_dir)
    findings: list[Finding] = []
    for test in test_files:
        test = Path(test)
        if shutil.which("promtool") is None:
            return [_missing("promtool", str(test), "promtool-test-rules")]
        target = rules_dir / test.name
        shutil.copyfile(test, target)
        proc = _run(["promtool", "test", "rules", target.name], cwd=rules_dir, timeout=900)
        if proc.returncode != 0:
            text = (proc.stdout + proc.stderr).strip()
            findings.append(
                Finding(
                    file=str(test),
                    rule="promtool-test-rules",
                    severity="error",
                    message=text[-4000:],
                    fix="fix the rule or the expectation",
                )
            )
    return findings


def check_compose(
    compose_file: Path, profiles: Sequence[str] = COMPOSE_PROFILES, env: Mapping[str, str] | None = None
) -> list[Finding]:
    """`docker-compose config` for each profile, with the required variables set to dummies."""
    compose_file = Path(compose_file)
    if shutil.which("docker-compose") is None:
        return [_missing("docker-compose", str(compose_file), "compose-config")]
    run_env = dict(COMPOSE_DUMMY_ENV)
    if env:
        run_env.update(env)
    findings: list[Finding] = []

    def config(profile: str) -> subprocess.CompletedProcess[str]:
        argv = ["docker-compose", "-f", str(compose_file)]
        if profile:
            argv += ["--profile", profile]
        return _run(argv + ["config", "--quiet"], env=run_env, cwd=compose_file.parent)

    # docker-compose takes ~0.4 s of CPU to start: the profiles run side by side.
    with ThreadPoolExecutor(max_workers=len(profiles) or 1) as pool:
        procs = list(pool.map(config, profiles))
    for profile, proc in zip(profiles, procs):
        for f in _output_findings(
            proc, str(compose_file), "compose-config", "fix docker-compose.yml (see the docker-compose message)"
        ):
            label = profile or "default"
            findings.append(Finding(f.file, f.rule, f.severity, f"profile {label}: {f.message}", f.fix))
    return findings


def run_infra_checks(root: Path) -> list[Finding]:
    """Every check of the repository's monitoring files that exist: rules, prometheus.yml,
    Alertmanager config and docker-compose.yml (all profiles)."""
    root = Path(root)
    checks: list[Callable[[], list[Finding]]] = []
    rules = sorted((root / "infra" / "prometheus" / "rules").glob("*.yml"))
    if rules:
        checks.append(lambda: check_rules(rules))
    prom = root / "infra" / "prometheus" / "prometheus.yml"
    if prom.exists():
        checks.append(lambda: _check_prometheus_with_rules(prom, rules))
    am = root / "infra" / "alertmanager" / "config.yml"
    if am.exists():
        checks.append(lambda: check_alertmanager_config(am))
    compose = root / "docker-compose.yml"
    if compose.exists():
        checks.append(lambda: check_compose(compose))
    # Each check waits on its tool's process: they run side by side, findings in the order above.
    with ThreadPoolExecutor(max_workers=len(checks) or 1) as pool:
        return [f for found in pool.map(lambda check: check(), checks) for f in found]


def _check_prometheus_with_rules(prom: Path, rules: list[Path]) -> list[Finding]:
    """prometheus.yml names the rule files by their in-container paths; check it with those
    paths pointed at the repository's files (a temporary copy side by side)."""
    import tempfile

    import yaml

    doc = yaml.safe_load(prom.read_text()) or {}
    with tempfile.TemporaryDirectory() as tmp:
        local = []
        for path in rules:
            target = Path(tmp) / path.name
            shutil.copyfile(path, target)
            local.append(str(target))
        if doc.get("rule_files"):
            doc["rule_files"] = local
        copy = Path(tmp) / "prometheus.yml"
        copy.write_text(yaml.safe_dump(doc))
        return [
            Finding(str(prom), f.rule, f.severity, f.message.replace(str(copy), str(prom)), f.fix)
            for f in check_prometheus_config(copy)
        ]


def run_all_checks(root: Path, *, json_format: bool = False) -> int:
    """CLI entry (`bo1dash lint`): print the findings, return 1 if any is an error."""
    import json
    import sys

    findings = run_infra_checks(root)
    if json_format:
        print(json.dumps([f.__dict__ for f in findings], indent=2, sort_keys=True))
    else:
        for f in findings:
            print(f, file=sys.stderr)
    return 1 if any(f.severity == "error" for f in findings) else 0
