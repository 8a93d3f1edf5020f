"""Prometheus exporters on 127.0.0.1: redis_exporter, postgres_exporter, node_exporter, process-exporter."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from bo1dash.stack.process import Service, spawn, wait_until

# node_exporter collectors that read only world-readable /proc and /sys and say something about a shared
# host; filesystem (disk usage) included. The rest (hwmon, rapl, systemd, textfile, ...) are off.
NODE_COLLECTORS: tuple[str, ...] = (
    "cpu",
    "diskstats",
    "filefd",
    "filesystem",
    "loadavg",
    "meminfo",
    "netdev",
    "pressure",
    "stat",
    "time",
    "uname",
    "vmstat",
)


@dataclass(frozen=True)
class Exporter:
    service: Service
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _metrics_contain(port: int, needle: str | None) -> Callable[[], bool]:
    def check() -> bool:
        response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        return response.status_code == 200 and (needle is None or needle in response.text)

    return check


def _start(
    name: str,
    argv: list[str],
    root: Path,
    port: int,
    *,
    ready_when: str | None,
    timeout: float,
    env: dict[str, str] | None = None,
) -> Exporter:
    service = spawn(name, argv, root / "logs" / f"{name}.log", env=env, cwd=root)
    what = "serving /metrics" + (f" with {ready_when!r}" if ready_when else "")
    wait_until(service, _metrics_contain(port, ready_when), what=what, timeout=timeout, interval=0.1)
    return Exporter(service=service, port=port)


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, **extra}


def start_redis_exporter(
    binary: str, root: Path, port: int, *, redis_port: int, password: str | None, timeout: float
) -> Exporter:
    argv = [binary, f"-web.listen-address=127.0.0.1:{port}", f"-redis.addr=redis://127.0.0.1:{redis_port}"]
    # The password travels in the environment, not on the command line (ps shows that to everybody).
    env = _env(REDIS_PASSWORD=password) if password else _env()
    return _start("redis-exporter", argv, root, port, ready_when="redis_up 1", timeout=timeout, env=env)


def start_postgres_exporter(binary: str, root: Path, port: int, *, dsn: str, timeout: float) -> Exporter:
    argv = [binary, f"--web.listen-address=127.0.0.1:{port}"]
    env = _env(DATA_SOURCE_NAME=dsn)
    return _start("postgres-exporter", argv, root, port, ready_when="pg_up 1", timeout=timeout, env=env)


def start_node_exporter(binary: str, root: Path, port: int, *, timeout: float) -> Exporter:
    argv = [binary, f"--web.listen-address=127.0.0.1:{port}", "--collector.disable-defaults"]
    argv += [f"--collector.{name}" for name in NODE_COLLECTORS]
    return _start("node-exporter", argv, root, port, ready_when="node_filesystem_size_bytes", timeout=timeout)


@dataclass(frozen=True)
class ProcessGroup:
    """A process-exporter group: `name` for every process whose command line matches `cmdline` (a regex)."""

    name: str
    cmdline: str


def process_exporter_config(groups: list[ProcessGroup]) -> dict[str, object]:
    return {"process_names": [{"name": group.name, "cmdline": [group.cmdline]} for group in groups]}


# The process-exporter group of each stack service; the names are `_config.processGroupSelector`'s.
PROCESS_GROUPS = {"workload": "bo1-api", "postgres": "postgres", "redis-server": "redis-server"}


def stack_process_groups(*, postgres_data_dir: Path, redis_port: int, api_port: int | None) -> list[ProcessGroup]:
    """Group only this stack's processes (other people run PostgreSQL and Redis on the same machine).

    Children (PostgreSQL's backends) are counted in their parent's group.
    """
    groups = []
    if api_port is not None:
        groups.append(ProcessGroup(PROCESS_GROUPS["workload"], rf"bo1dash\.workload .*--port {api_port}( |$)"))
    groups.append(ProcessGroup(PROCESS_GROUPS["postgres"], rf"postgres -D {re.escape(str(postgres_data_dir))}( |$)"))
    # Redis rewrites its title to "redis-server 127.0.0.1:<port>".
    groups.append(ProcessGroup(PROCESS_GROUPS["redis-server"], rf"redis-server[^ ]* 127\.0\.0\.1:{redis_port}( |$)"))
    return groups


def start_process_exporter(
    binary: str, root: Path, port: int, *, groups: list[ProcessGroup], timeout: float
) -> Exporter:
    config = root / "process-exporter.yml"
    config.write_text(yaml.safe_dump(process_exporter_config(groups), sort_keys=True))
    argv = [
        binary,
        f"-web.listen-address=127.0.0.1:{port}",
        f"-config.path={config}",
        "-threads=false",
        "-recheck",
        "-gather-smaps=false",
    ]
    needle = f'namedprocess_namegroup_num_procs{{groupname="{groups[-1].name}"}}'
    return _start("process-exporter", argv, root, port, ready_when=needle, timeout=timeout)
