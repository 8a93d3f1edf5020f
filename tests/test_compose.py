"""docker-compose.yml, the compose prometheus.yml and the provisioning agree with the mixin's _config."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from bo1dash.checks import check_alertmanager_config, check_compose, check_prometheus_config, evaluate_rule_files
from bo1dash.checks.tools import COMPOSE_DUMMY_ENV
from bo1dash.compile import compile_mixin
from bo1dash.compose import COMPOSE_TARGETS, compose_prometheus_config

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"


@pytest.fixture(scope="module")
def config() -> dict:
    return compile_mixin(ROOT / "jsonnet" / "mixin.libsonnet", root=ROOT).config


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def _seconds(d: str) -> int:
    return int(d[:-1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[d[-1]]


def test_every_scrape_job_has_a_compose_service_and_a_selector(config, compose):
    prom = compose_prometheus_config(config)
    jobs = {j["job_name"]: j["static_configs"][0]["targets"] for j in prom["scrape_configs"]}
    selectors = " ".join(t["selector"] for t in config["scrapeTargets"])
    assert len(jobs) == len(COMPOSE_TARGETS)
    for key, (service, port) in COMPOSE_TARGETS.items():
        job = config[key]
        assert jobs[job] == [f"{service}:{port}"]
        assert service in compose["services"], f"{job}: no compose service {service}"
        assert re.search(rf'job(=~?)"({re.escape(job)}|[^"]*\b{re.escape(job)}\b[^"]*)"', selectors), job
    # Exporter services are named as their jobs; the databases are only scraped through them.
    for key in ("redisExporterJob", "postgresExporterJob", "nodeExporterJob", "cadvisorJob", "prometheusJob"):
        assert COMPOSE_TARGETS[key][0] == config[key]
    assert not any(t.endswith((":5432", ":6379")) for ts in jobs.values() for t in ts)


def test_monitoring_services_are_profiled_pinned_and_local(compose):
    monitoring = {
        "prometheus",
        "alertmanager",
        "grafana",
        "cadvisor",
        "redis-exporter",
        "postgres-exporter",
        "node-exporter",
        "process-exporter",
    }
    for name, svc in compose["services"].items():
        image = svc["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name}: unpinned image {image}"
        if name in monitoring:
            assert svc.get("profiles") == ["monitoring"], name
        for port in svc.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name}: {port} is not bound to 127.0.0.1"
    assert compose["services"]["grafana"]["ports"] == ["127.0.0.1:3001:3000"]
    assert compose["services"]["grafana"]["image"].startswith("grafana/grafana:11.")


def test_secrets_come_from_the_environment(compose):
    text = COMPOSE.read_text()
    env = compose["services"]["grafana"]["environment"]
    assert env["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GF_SECURITY_ADMIN_PASSWORD:?")
    assert env["GF_USERS_ALLOW_SIGN_UP"] == "false"
    assert env["BO1_GRAFANA_PG_PASSWORD"].startswith("${BO1_GRAFANA_PG_PASSWORD:?")
    # No committed default for any password/URL variable.
    for var in re.findall(r"\$\{(\w+)", text):
        if re.search(r"PASSWORD|URL|TOKEN|SECRET", var):
            assert re.search(rf"\$\{{{var}:\?", text), var
            assert not re.search(rf"\$\{{{var}:-", text), var
    assert set(re.findall(r"\$\{(\w+):\?", text)) <= set(COMPOSE_DUMMY_ENV)


def test_retention_covers_every_range_read(config, compose):
    """The month-to-date spend reads 31 days of a recorded series; _config.retention must fit too."""
    cmd = " ".join(compose["services"]["prometheus"]["command"])
    retention = re.search(r"retention\.time=\$\{PROMETHEUS_RETENTION:-(\w+)\}", cmd).group(1)
    rules = evaluate_rule_files(ROOT)
    text = json.dumps(rules)
    longest = max(_seconds(m) for m in re.findall(r"\[(\d+[smhdw])(?::\d+[smhdw])?\]", text))
    assert _seconds(retention) >= longest
    assert _seconds(retention) >= _seconds(config["retention"])


def test_every_path_mounted_by_compose_exists(compose):
    built = {"infra/prometheus/prometheus.yml"}  # written by `bo1dash build` (compose_prometheus_config)
    for name, svc in compose["services"].items():
        for vol in svc.get("volumes", []):
            src = vol.split(":")[0]
            if src.startswith("./"):
                rel = src[2:].rstrip("/")
                assert (ROOT / rel).exists() or rel in built, f"{name}: {src} does not exist"


def test_dashboard_datasource_uids_are_provisioned():
    provisioned = set()
    for f in (ROOT / "infra" / "grafana" / "provisioning" / "datasources").glob("*.yml"):
        provisioned |= {d["uid"] for d in (yaml.safe_load(f.read_text()) or {}).get("datasources", [])}
    used = set()

    def walk(node):
        if isinstance(node, dict):
            ds = node.get("datasource")
            if isinstance(ds, dict) and isinstance(ds.get("uid"), str) and not ds["uid"].startswith("$"):
                used.add(ds["uid"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    dashboards = sorted((ROOT / "infra" / "grafana" / "dashboards").glob("*.json"))
    for f in dashboards:
        walk(json.loads(f.read_text()))
    if not dashboards:
        pytest.skip("no dashboards built yet")
    assert used and used <= provisioned, used - provisioned


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose (Debian: docker-compose) missing")
def test_docker_compose_config_passes_for_every_profile():
    assert check_compose(COMPOSE) == []


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose missing")
def test_docker_compose_refuses_to_start_without_the_admin_password():
    env = {k: v for k, v in COMPOSE_DUMMY_ENV.items() if k != "GF_SECURITY_ADMIN_PASSWORD"}
    import os
    import subprocess

    full = {k: v for k, v in os.environ.items() if k != "GF_SECURITY_ADMIN_PASSWORD"} | env
    proc = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "--profile", "monitoring", "config", "--quiet"],
        capture_output=True,
        text=True,
        env=full,
    )
    assert proc.returncode != 0 and "GF_SECURITY_ADMIN_PASSWORD" in proc.stderr


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian: prometheus) missing")
def test_compose_prometheus_config_passes_promtool(config, tmp_path):
    from bo1dash.checks import write_rule_files
    from bo1dash.prometheus_config import dump_yaml

    rules = write_rule_files(evaluate_rule_files(ROOT), tmp_path)
    doc = compose_prometheus_config(config)
    assert doc["rule_files"] == ["/etc/prometheus/rules/bo1-rules.yml", "/etc/prometheus/rules/bo1-alerts.yml"]
    doc["rule_files"] = [str(rules["rules"]), str(rules["alerts"])]
    path = tmp_path / "prometheus.yml"
    path.write_text(dump_yaml(doc))
    assert check_prometheus_config(path) == []


@pytest.mark.skipif(shutil.which("amtool") is None, reason="amtool (Debian: prometheus-alertmanager) missing")
def test_alertmanager_config_routes_both_severities():
    path = ROOT / "infra" / "alertmanager" / "config.yml"
    assert check_alertmanager_config(path) == []
    doc = yaml.safe_load(path.read_text())
    routed = {m for r in doc["route"]["routes"] for m in r["matchers"]}
    assert routed == {'severity="critical"', 'severity="warning"'}


def test_a_missing_tool_is_a_finding_not_a_crash(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    findings = check_compose(COMPOSE)
    assert len(findings) == 1 and "apt-get install docker-compose" in findings[0].fix
    assert "prometheus-alertmanager" in check_alertmanager_config(Path("x.yml"))[0].fix


def test_monitoring_services_take_each_secret_whole_from_the_environment(compose):
    """A secret of the monitoring profile is a whole environment value of its service, never put into a command
    line, a PGOPTIONS string or a config by text substitution (where spaces, quotes, `&` or `\\` would break it)."""
    secret = re.compile(r"\$\{(\w*(?:PASSWORD|URL|TOKEN|SECRET)\w*)")
    checked = 0
    for name, svc in compose["services"].items():
        if svc.get("profiles") != ["monitoring"]:
            continue
        for key, value in (svc.get("environment") or {}).items():
            found = secret.findall(str(value))
            if found:
                checked += 1
                assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", str(value)), f"{name}: {key} embeds {found} in text"
        rest = {k: v for k, v in svc.items() if k != "environment"}
        assert not secret.findall(json.dumps(rest)), f"{name}: a secret outside its environment"
    assert checked >= 5
