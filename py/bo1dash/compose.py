"""The compose stack (docker-compose.yml, profile `monitoring`) as Prometheus sees it.

`COMPOSE_TARGETS` maps each `_config` job field to the compose `service:port` Prometheus scrapes;
`compose_prometheus_config(config)` renders the stack's prometheus.yml (the build writes it to
infra/prometheus/prometheus.yml, mounted read-only into the prometheus service).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bo1dash.paths import RULE_FILE_NAMES
from bo1dash.prometheus_config import render_prometheus_config

# _config job field -> (compose service, port). Exporters are the targets for Redis and Postgres,
# never the raw database ports.
COMPOSE_TARGETS: dict[str, tuple[str, int]] = {
    "apiJob": ("api", 8000),
    "redisExporterJob": ("redis-exporter", 9121),
    "postgresExporterJob": ("postgres-exporter", 9187),
    "nodeExporterJob": ("node-exporter", 9100),
    "processExporterJob": ("process-exporter", 9256),
    "cadvisorJob": ("cadvisor", 8080),
    "prometheusJob": ("prometheus", 9090),
}

# Where the prometheus service finds the rule files (the build's infra/prometheus/rules/ mounted).
RULE_FILES = tuple(f"/etc/prometheus/rules/{RULE_FILE_NAMES[kind]}" for kind in ("rules", "alerts"))
ALERTMANAGERS = ("alertmanager:9093",)


def compose_targets() -> dict[str, list[str]]:
    """{_config job field: ["service:port"]} for every scrape job of the compose stack."""
    return {key: [f"{service}:{port}"] for key, (service, port) in COMPOSE_TARGETS.items()}


def compose_prometheus_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """prometheus.yml of the compose stack; job names from `config` (the mixin's `_config`)."""
    return render_prometheus_config(
        config,
        compose_targets(),
        scrape_interval=str(config.get("scrapeInterval", "15s")),
        evaluation_interval=str(config.get("ruleEvaluationInterval", "1m")),
        rule_files=RULE_FILES,
        alertmanagers=ALERTMANAGERS,
    )
