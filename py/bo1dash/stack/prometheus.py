"""Prometheus 2.x on 127.0.0.1 scraping the stack, and the wait until every target has been scraped."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bo1dash.prometheus_config import dump_yaml, retention_comment
from bo1dash.stack.process import Service, StackError, spawn, wait_until


@dataclass(frozen=True)
class PrometheusInfo:
    service: Service
    port: int
    config_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_prometheus(
    binary: str,
    root: Path,
    port: int,
    *,
    config: Mapping[str, Any],
    prometheus_yml: Mapping[str, Any],
    timeout: float,
) -> PrometheusInfo:
    base = root / "prometheus"
    (base / "data").mkdir(parents=True, exist_ok=True)  # it may hold backfilled blocks
    config_path = base / "prometheus.yml"
    config_path.write_text(dump_yaml(prometheus_yml, comment=retention_comment(config)))
    argv = [
        binary,
        f"--config.file={config_path}",
        f"--storage.tsdb.path={base / 'data'}",
        f"--storage.tsdb.retention.time={config.get('retention', '15d')}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--web.enable-lifecycle",
        "--web.enable-admin-api",
    ]
    service = spawn("prometheus", argv, root / "logs" / "prometheus.log", cwd=base)

    def ready() -> bool:
        return httpx.get(f"http://127.0.0.1:{port}/-/ready", timeout=5).status_code == 200

    wait_until(service, ready, what="ready", timeout=timeout, interval=0.1)
    return PrometheusInfo(service=service, port=port, config_path=config_path)


def _up_by_job(url: str) -> dict[str, float]:
    response = httpx.get(f"{url}/api/v1/query", params={"query": "up"}, timeout=5)
    response.raise_for_status()
    return {r["metric"]["job"]: float(r["value"][1]) for r in response.json()["data"]["result"]}


def _target_errors(url: str) -> list[str]:
    response = httpx.get(f"{url}/api/v1/targets", params={"state": "active"}, timeout=5)
    response.raise_for_status()
    return [
        f"{t['labels'].get('job')} {t['scrapeUrl']}: {t['health']} {t.get('lastError') or ''}".rstrip()
        for t in response.json()["data"]["activeTargets"]
        if t["health"] != "up"
    ]


def wait_for_first_scrapes(
    prometheus: PrometheusInfo, jobs: list[str], *, require_up: bool, timeout: float
) -> dict[str, float]:
    """Wait until `up` exists for every job (each target scraped once); with require_up, until it is 1."""
    state: dict[str, dict[str, float]] = {"up": {}}

    def scraped() -> bool:
        state["up"] = _up_by_job(prometheus.url)
        known = all(job in state["up"] for job in jobs)
        return known and (not require_up or all(state["up"][job] == 1 for job in jobs))

    try:
        wait_until(prometheus.service, scraped, what="done with its first scrapes", timeout=timeout, interval=0.2)
    except StackError as exc:
        if not prometheus.service.running():
            raise
        detail = "; ".join(_target_errors(prometheus.url)) or "no scrape errors reported"
        raise StackError(
            f"Prometheus did not see every job {'up' if require_up else 'scraped'} within {timeout:.0f}s: "
            f"up by job {state['up']}, expected jobs {jobs}. Targets not up: {detail}. "
            f"Exporter and workload logs are in {prometheus.service.log_path.parent}"
        ) from exc
    return state["up"]
