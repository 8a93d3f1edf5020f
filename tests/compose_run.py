"""Run a service of docker-compose.yml on this host as its container would run it (no Docker engine here).

`docker-compose config` interpolates the environment into the file exactly as `up` does; the service's
entrypoint + command then run on the host with every container path replaced by what is mounted there:
a bind mount by its host path, a named volume or a tmpfs by a fresh directory, and the binaries the image
would provide by host programs the test names.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"


def resolved_service(name: str, env: Mapping[str, str]) -> dict:
    """The service as `docker-compose --profile monitoring config` resolves it with `env` as the environment."""
    if shutil.which("docker-compose") is None:
        pytest.fail("docker-compose is not installed (Debian: docker-compose; scripts/install-debian-deps)")
    proc = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "--profile", "monitoring", "config"],
        capture_output=True,
        text=True,
        env=dict(env),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return yaml.safe_load(proc.stdout)["services"][name]


def container_env(service: Mapping) -> dict[str, str]:
    """The environment the container gets (`config` prints a literal `$` of a value as `$$`)."""
    env = service.get("environment") or {}
    return {key: _unescape(str(value)) for key, value in env.items()}


@dataclass(frozen=True)
class HostRun:
    argv: list[str]
    mounts: dict[str, Path]  # container path -> host path


def _unescape(text: str) -> str:
    """`docker-compose config` keeps `$$` (a literal `$` for the container) escaped in its output."""
    return text.replace("$$", "$")


def host_argv(service: Mapping, scratch: Path, programs: Mapping[str, str]) -> HostRun:
    """The service's entrypoint + command with container paths mapped to host paths.

    `programs` maps a program path inside the image (e.g. /bin/alertmanager) to a host program.
    """
    mounts: dict[str, Path] = {}
    for spec in service.get("volumes", []):
        parts = spec.split(":")
        source, target = parts[0], parts[1]
        if source.startswith("/"):
            mounts[target] = Path(source)
        else:  # a named volume: an empty directory
            mounts[target] = scratch / "volumes" / source
            mounts[target].mkdir(parents=True, exist_ok=True)
    tmpfs = service.get("tmpfs", [])
    for target in [tmpfs] if isinstance(tmpfs, str) else tmpfs:
        mounts[target] = scratch / "tmpfs" / target.strip("/").replace("/", "_")
        mounts[target].mkdir(parents=True, exist_ok=True)
    exact = {**{k: str(v) for k, v in mounts.items()}, **programs}
    alternatives = "|".join(re.escape(p) for p in sorted(exact, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w./-])({alternatives})(/[^\s'\"]*)?(?![\w.-])")

    def mapped(match: re.Match[str]) -> str:
        path, rest = match.group(1), match.group(2) or ""
        if path in programs and not rest:
            return programs[path]
        return exact[path] + rest

    def as_list(value: object) -> list[str]:
        if value is None:
            return []
        return [value] if isinstance(value, str) else [str(v) for v in value]  # type: ignore[union-attr]

    argv = [
        pattern.sub(mapped, _unescape(arg))
        for arg in as_list(service.get("entrypoint")) + as_list(service.get("command"))
    ]
    return HostRun(argv=argv, mounts=mounts)
