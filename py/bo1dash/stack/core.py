"""Start and stop the whole local stack in dependency order; one temp root holds every data dir and log.

Order: PostgreSQL -> schema and roles -> Redis -> exporters -> workload -> Prometheus (then wait until
Prometheus has scraped every target). Stop runs in reverse and removes the temp root.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from bo1dash.compile import CompileError, compile_mixin
from bo1dash.paths import mixin_entry, repo_root, rules_dir
from bo1dash.prometheus_config import render_prometheus_config
from bo1dash.stack import binaries as bins
from bo1dash.stack.exporters import (
    stack_process_groups,
    start_node_exporter,
    start_postgres_exporter,
    start_process_exporter,
    start_redis_exporter,
)
from bo1dash.stack.postgres import start_postgres
from bo1dash.stack.process import Service, StackError, free_port, stop
from bo1dash.stack.prometheus import start_prometheus, wait_for_first_scrapes
from bo1dash.stack.redis import start_redis
from bo1dash.stack.workload import schema_applier, start_workload

log = logging.getLogger("bo1dash.stack")


@dataclass(frozen=True)
class StackOptions:
    """What to start. Everything has a default; `config` defaults to the repository's `_config`."""

    config: Mapping[str, Any] | None = None
    repo: Path | None = None
    seed: int = 1
    time_scale: float | None = None
    workload: bool = True  # run `python -m bo1dash.workload` (needs schema)
    schema: bool = True  # apply bo1dash.workload.schema.apply_schema before granting grafana_ro SELECT
    redis_password: str | None = None
    scrape_interval: str = "5s"
    rules_dir: Path | None = None  # default: <repo>/infra/prometheus/rules when it exists
    # Evaluate every rule group this often (default: the scrape interval), so that a run of a few
    # minutes holds enough recording-rule samples; production keeps the groups' own interval.
    rule_interval: str | None = None
    temp_parent: Path | None = None  # where the temp root is made (default: the system temp dir)
    search_path: str | None = None  # where to look for programs (default: $PATH + PostgreSQL 15's bin dir)
    require_up: bool = True  # wait until `up` is 1 for every job, not just known
    timeout: float = 60.0  # per health check
    # Called once the exporters run and before Prometheus starts, with Prometheus' (empty) TSDB directory and
    # every scrape job's target (job -> host:port): backfills history there (scenario/history.py).
    history: Callable[[Path, Mapping[str, str]], Any] | None = None


def _local_rule_files(rules: Path | None, root: Path, interval: str) -> list[str]:
    """The repository's rule files, copied under the stack root with every group evaluated at `interval`."""
    if rules is None or not rules.is_dir():
        return []
    out = root / "prometheus-rules"
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(rules.glob("*.yml")):
        doc = yaml.safe_load(path.read_text()) or {}
        for group in doc.get("groups") or []:
            group["interval"] = interval
        (out / path.name).write_text(yaml.safe_dump(doc, sort_keys=False))
    return [str(out / "*.yml")]


@dataclass
class RunningStack:
    """A started stack. Use as a context manager, or call `stop()`; an atexit hook stops it too."""

    root: Path
    config: Mapping[str, Any]
    services: list[Service] = field(default_factory=list)
    prometheus_url: str = ""
    api_url: str | None = None
    admin_dsn: str = ""  # superuser `postgres`, database boardofone
    database_url: str = ""  # `bo1`, owner of boardofone (the workload's DATABASE_URL)
    grafana_dsn: str = ""  # `grafana_ro`: reads the columns the dashboards read, nothing else
    grafana_pg_password: str = ""
    postgres_port: int = 0
    redis_url: str = ""
    exporter_urls: dict[str, str] = field(default_factory=dict)  # job name -> http://127.0.0.1:port
    prometheus_config: dict[str, Any] = field(default_factory=dict)
    jobs: list[str] = field(default_factory=list)
    history: Any = None  # what StackOptions.history returned
    _stopped: bool = False

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    def pids(self) -> list[int]:
        return [service.pid for service in self.services]

    def stop(self) -> None:
        """Stop every service in reverse start order and remove the temp root. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        atexit.unregister(self.stop)
        for service in reversed(self.services):
            stop(service)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> RunningStack:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def load_config(repo: Path) -> dict[str, Any]:
    """The repository mixin's `_config`, compiled as `bo1dash build` compiles it."""
    try:
        return compile_mixin(mixin_entry(repo), root=repo).config
    except CompileError as exc:
        raise StackError(f"the mixin does not compile: {exc}") from None


def _make_root(parent: Path | None) -> Path:
    root = Path(tempfile.mkdtemp(prefix="bo1dash-stack-", dir=parent)).resolve()
    if os.geteuid() == 0:
        # PostgreSQL runs as `postgres`: it must traverse the root to reach its own (postgres-owned) dir.
        root.chmod(0o711)
    (root / "logs").mkdir()
    return root


def start_stack(options: StackOptions | None = None) -> RunningStack:
    """Start everything, health-checked, in dependency order. On any failure, stop what started and re-raise."""
    options = options or StackOptions()
    found = bins.find_binaries(bins.STACK_TOOLS, options.search_path)
    apply_schema: Callable[[str], None] | None = schema_applier() if options.schema or options.workload else None
    repo = options.repo
    if repo is None and (options.config is None or options.rules_dir is None):
        repo = repo_root()
    config = dict(options.config) if options.config is not None else load_config(repo)  # type: ignore[arg-type]
    rules = options.rules_dir or (rules_dir(repo / "infra") if repo is not None else None)

    stack = RunningStack(root=_make_root(options.temp_parent), config=config)
    atexit.register(stack.stop)
    try:
        _start_all(stack, options, found, apply_schema, rules)
    except BaseException:
        stack.stop()
        raise
    return stack


def _start_all(
    stack: RunningStack,
    options: StackOptions,
    found: dict[str, str],
    apply_schema: Callable[[str], None] | None,
    rules: Path | None,
) -> None:
    root, config, timeout = stack.root, stack.config, options.timeout

    pg = start_postgres(found, root, apply_schema=apply_schema, timeout=timeout)
    stack.services.append(pg.service)
    stack.admin_dsn, stack.database_url, stack.grafana_dsn = pg.admin_dsn, pg.database_url, pg.grafana_dsn
    stack.grafana_pg_password, stack.postgres_port = pg.grafana_password, pg.port
    log.info("postgres on 127.0.0.1:%d (database boardofone)", pg.port)

    redis = start_redis(found["redis-server"], root, free_port(), password=options.redis_password, timeout=timeout)
    stack.services.append(redis.service)
    stack.redis_url = redis.url
    log.info("redis on 127.0.0.1:%d", redis.port)

    api_port = free_port() if options.workload else None
    redis_exporter = start_redis_exporter(
        found["redis-exporter"], root, free_port(), redis_port=redis.port, password=redis.password, timeout=timeout
    )
    stack.services.append(redis_exporter.service)
    postgres_exporter = start_postgres_exporter(
        found["postgres-exporter"], root, free_port(), dsn=pg.exporter_dsn, timeout=timeout
    )
    stack.services.append(postgres_exporter.service)
    node_exporter = start_node_exporter(found["node-exporter"], root, free_port(), timeout=timeout)
    stack.services.append(node_exporter.service)
    groups = stack_process_groups(
        postgres_data_dir=root / "postgres" / "data", redis_port=redis.port, api_port=api_port
    )
    process_exporter = start_process_exporter(
        found["process-exporter"], root, free_port(), groups=groups, timeout=timeout
    )
    stack.services.append(process_exporter.service)

    targets: dict[str, list[str]] = {
        "redisExporterJob": [f"127.0.0.1:{redis_exporter.port}"],
        "postgresExporterJob": [f"127.0.0.1:{postgres_exporter.port}"],
        "nodeExporterJob": [f"127.0.0.1:{node_exporter.port}"],
        "processExporterJob": [f"127.0.0.1:{process_exporter.port}"],
    }
    stack.exporter_urls = {
        config["redisExporterJob"]: redis_exporter.url,
        config["postgresExporterJob"]: postgres_exporter.url,
        config["nodeExporterJob"]: node_exporter.url,
        config["processExporterJob"]: process_exporter.url,
    }

    if api_port is not None:
        workload = start_workload(
            root,
            api_port,
            database_url=pg.database_url,
            redis_url=redis.url,
            seed=options.seed,
            time_scale=options.time_scale,
            timeout=timeout,
        )
        stack.services.append(workload.service)
        stack.api_url = workload.url
        targets["apiJob"] = [f"127.0.0.1:{api_port}"]
        log.info("workload (bo1 look-alike API) on %s", workload.url)

    log.info("no cAdvisor in the local stack (no Debian package): job %r is not scraped", config["cadvisorJob"])
    prometheus_port = free_port()
    targets["prometheusJob"] = [f"127.0.0.1:{prometheus_port}"]
    rule_files = _local_rule_files(rules, root, options.rule_interval or options.scrape_interval)
    stack.prometheus_config = render_prometheus_config(
        config, targets, scrape_interval=options.scrape_interval, rule_files=rule_files
    )
    stack.jobs = [job["job_name"] for job in stack.prometheus_config["scrape_configs"]]
    if options.history is not None:
        (root / "prometheus" / "data").mkdir(parents=True)
        instances = {config[key]: addresses[0] for key, addresses in targets.items()}
        stack.history = options.history(root / "prometheus" / "data", instances)
    prometheus = start_prometheus(
        found["prometheus"],
        root,
        prometheus_port,
        config=config,
        prometheus_yml=stack.prometheus_config,
        timeout=timeout,
    )
    stack.services.append(prometheus.service)
    stack.prometheus_url = prometheus.url
    log.info("prometheus on %s, rule files %s", prometheus.url, rule_files or "none")
    wait_for_first_scrapes(prometheus, stack.jobs, require_up=options.require_up, timeout=timeout)
    log.info("every job scraped: %s", ", ".join(stack.jobs))
