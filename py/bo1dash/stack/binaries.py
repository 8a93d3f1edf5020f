"""Find the programs the stack runs, and say which Debian package provides a missing one."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

# Debian keeps the PostgreSQL server programs (initdb, postgres) off PATH.
POSTGRES_BIN_DIR = "/usr/lib/postgresql/15/bin"


@dataclass(frozen=True)
class Tool:
    """A program: the names it goes by (Debian's first, upstream's after) and its Debian package."""

    key: str
    names: tuple[str, ...]
    package: str


PROMETHEUS = Tool("prometheus", ("prometheus",), "prometheus")
REDIS_SERVER = Tool("redis-server", ("redis-server",), "redis-server")
REDIS_EXPORTER = Tool("redis-exporter", ("prometheus-redis-exporter", "redis_exporter"), "prometheus-redis-exporter")
POSTGRES_EXPORTER = Tool(
    "postgres-exporter", ("prometheus-postgres-exporter", "postgres_exporter"), "prometheus-postgres-exporter"
)
NODE_EXPORTER = Tool("node-exporter", ("prometheus-node-exporter", "node_exporter"), "prometheus-node-exporter")
PROCESS_EXPORTER = Tool(
    "process-exporter", ("prometheus-process-exporter", "process-exporter"), "prometheus-process-exporter"
)
INITDB = Tool("initdb", ("initdb",), "postgresql-15")
POSTGRES = Tool("postgres", ("postgres",), "postgresql-15")
GRAFANA = Tool("grafana", ("grafana", "grafana-server"), "grafana (Grafana's own apt repository)")

STACK_TOOLS: tuple[Tool, ...] = (
    INITDB,
    POSTGRES,
    REDIS_SERVER,
    REDIS_EXPORTER,
    POSTGRES_EXPORTER,
    NODE_EXPORTER,
    PROCESS_EXPORTER,
    PROMETHEUS,
)


class MissingBinaryError(RuntimeError):
    """One or more programs are not installed; the message names each Debian package."""

    def __init__(self, missing: list[Tool], search_path: str) -> None:
        self.missing = missing
        self.packages = sorted({tool.package for tool in missing})
        lines = [
            f"- {tool.key}: none of {', '.join(tool.names)} found; install the Debian package {tool.package}"
            for tool in missing
        ]
        super().__init__(
            "the local stack needs programs that are not installed:\n"
            + "\n".join(lines)
            + f"\nInstall them with: sudo apt-get install --no-install-recommends {' '.join(self.packages)}"
            + " (or run scripts/install-debian-deps)"
            + f"\nSearched: {search_path or '(empty path)'}"
        )


def default_search_path() -> str:
    """Debian's PostgreSQL 15 server directory (so initdb and postgres are 15 and match), then $PATH."""
    return os.pathsep.join(p for p in (POSTGRES_BIN_DIR, os.environ.get("PATH", "")) if p)


def which(tool: Tool, search_path: str) -> str | None:
    for name in tool.names:
        found = shutil.which(name, path=search_path)
        if found:
            return found
    return None


def find_binaries(tools: tuple[Tool, ...], search_path: str | None = None) -> dict[str, str]:
    """Map each tool's key to its absolute path, or raise MissingBinaryError naming every missing one."""
    path = default_search_path() if search_path is None else search_path
    found: dict[str, str] = {}
    missing: list[Tool] = []
    for tool in tools:
        location = which(tool, path)
        if location is None:
            missing.append(tool)
        else:
            found[tool.key] = location
    if missing:
        raise MissingBinaryError(missing, path)
    return found
