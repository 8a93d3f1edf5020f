"""Grafana (when installed) on 127.0.0.1 with a run-specific copy of the repo's provisioning.

The repo's provisioning points at the compose stack (`http://prometheus:9090`, `postgres:5432`,
`/var/lib/grafana/dashboards`); the copy written under the temp root points at this stack instead.
With `dashboards_by_file=False` the copy provisions only the datasources, and `apply_dashboards` delivers
the folder and dashboards over the HTTP API (bo1dash apply): one uid never comes by both paths.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import yaml

from bo1dash.stack.core import RunningStack
from bo1dash.stack.process import Service, spawn, wait_until


def _rewrite_datasources(doc: dict[str, Any], urls: Mapping[str, str], time_interval: str) -> dict[str, Any]:
    for ds in doc.get("datasources") or []:
        uid = ds.get("uid")
        if uid in urls:
            ds["url"] = urls[uid]
        if ds.get("type") == "prometheus":
            # $__rate_interval is derived from the scrape interval, which is this stack's, not prod's.
            ds.setdefault("jsonData", {})["timeInterval"] = time_interval
    return doc


def _rewrite_providers(doc: dict[str, Any], dashboards_dir: Path) -> dict[str, Any]:
    for provider in doc.get("providers") or []:
        if provider.get("type", "file") == "file":
            provider.setdefault("options", {})["path"] = str(dashboards_dir)
    return doc


def write_provisioning(
    source: Path,
    target: Path,
    *,
    config: Mapping[str, Any],
    prometheus_url: str,
    postgres_address: str,
    dashboards_dir: Path,
    scrape_interval: str,
    dashboards_by_file: bool = True,
) -> Path:
    """Copy `source` (a Grafana provisioning dir) to `target`, pointing datasources and dashboards here.

    `dashboards_by_file=False` leaves the dashboard providers out (the dashboards then come by the API)."""
    datasources = config.get("datasources", {})
    urls = {
        datasources.get("prometheus", {}).get("uid", "prometheus"): prometheus_url,
        datasources.get("postgres", {}).get("uid", "bo1-postgres"): postgres_address,
    }
    shutil.copytree(source, target)
    if not dashboards_by_file:
        for provider_file in sorted((target / "dashboards").glob("*.y*ml")):
            provider_file.unlink()
    for path in sorted(target.rglob("*.y*ml")):
        doc = yaml.safe_load(path.read_text()) or {}
        if path.parent.name == "datasources":
            doc = _rewrite_datasources(doc, urls, scrape_interval)
        elif path.parent.name == "dashboards":
            doc = _rewrite_providers(doc, dashboards_dir.resolve())
        path.write_text(yaml.safe_dump(doc, sort_keys=True))
    return target


def _home_path(binary: str) -> Path | None:
    """Grafana's install dir (holds conf/defaults.ini): <home>/bin/grafana, or Debian's /usr/share/grafana."""
    real = Path(binary).resolve()
    for candidate in (real.parent.parent, Path("/usr/share/grafana")):
        if (candidate / "conf" / "defaults.ini").is_file():
            return candidate
    return None


def start_grafana(
    binary: str,
    stack: RunningStack,
    *,
    provisioning_source: Path,
    dashboards_dir: Path,
    port: int,
    scrape_interval: str,
    timeout: float = 60.0,
    dashboards_by_file: bool = True,
) -> Service:
    base = stack.root / "grafana"
    provisioning = write_provisioning(
        provisioning_source,
        base / "provisioning",
        config=stack.config,
        prometheus_url=stack.prometheus_url,
        postgres_address=f"127.0.0.1:{stack.postgres_port}",
        dashboards_dir=dashboards_dir,
        scrape_interval=scrape_interval,
        dashboards_by_file=dashboards_by_file,
    )
    argv = [binary] + (["server"] if Path(binary).name == "grafana" else [])
    home = _home_path(binary)
    if home is not None:
        argv.append(f"--homepath={home}")
    env = {
        **os.environ,
        "GF_SERVER_HTTP_ADDR": "127.0.0.1",
        "GF_SERVER_HTTP_PORT": str(port),
        "GF_PATHS_DATA": str(base / "data"),
        "GF_PATHS_LOGS": str(base / "logs"),
        "GF_PATHS_PLUGINS": str(base / "plugins"),
        "GF_PATHS_PROVISIONING": str(provisioning),
        "GF_SECURITY_ADMIN_USER": "admin",
        "GF_SECURITY_ADMIN_PASSWORD": "admin",
        "GF_USERS_ALLOW_SIGN_UP": "false",
        "GF_ANALYTICS_REPORTING_ENABLED": "false",
        "GF_ANALYTICS_CHECK_FOR_UPDATES": "false",
        "GF_PLUGINS_PLUGIN_ADMIN_ENABLED": "false",
        "BO1_GRAFANA_PG_PASSWORD": stack.grafana_pg_password,
    }
    service = spawn("grafana", argv, stack.logs_dir / "grafana.log", env=env, cwd=base)
    stack.services.append(service)  # stopped with the stack, first

    def healthy() -> bool:
        return httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=5).status_code == 200

    wait_until(service, healthy, what="healthy", timeout=timeout, interval=0.2)
    return service


def apply_dashboards(url: str, user: str, password: str, emit: Callable[[str], None] = print) -> bool:
    """Deliver the mixin's folder and dashboards to the Grafana at `url` over its HTTP API; True when all went."""
    from bo1dash.deliver.apply import apply
    from bo1dash.deliver.client import open_grafana
    from bo1dash.deliver.connection import Connection
    from bo1dash.deliver.errors import DeliverError
    from bo1dash.deliver.resources import load_resources

    try:
        grafana = open_grafana(Connection(url, "the stack's Grafana", (user, password), "the stack's admin login"))
        report = apply(load_resources(), grafana, emit=emit)
    except DeliverError as exc:
        emit(f"apply to {url} failed: {exc.message}")
        return False
    for line in report.summary():
        emit(line)
    return report.ok
