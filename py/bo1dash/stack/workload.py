"""The bo1 look-alike API (`python -m bo1dash.workload`) on 127.0.0.1."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

import bo1dash
from bo1dash.stack.process import Service, StackError, spawn, wait_until


@dataclass(frozen=True)
class WorkloadInfo:
    service: Service
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def schema_applier() -> Callable[[str], None]:
    """`bo1dash.workload.schema.apply_schema(conninfo)`, or a StackError saying what is missing."""
    try:
        module = importlib.import_module("bo1dash.workload.schema")
        return module.apply_schema
    except (ImportError, AttributeError) as exc:
        raise StackError(
            f"the workload's schema is not available ({exc}): bo1dash.workload.schema.apply_schema is needed "
            "to create bo1's tables; install the package with its 'workload' extra "
            "(pip install -e '.[workload]') or start the stack with workload=False"
        ) from exc


def _package_parent() -> str:
    return str(Path(bo1dash.__file__).resolve().parent.parent)


def start_workload(
    root: Path,
    port: int,
    *,
    database_url: str,
    redis_url: str,
    seed: int,
    time_scale: float | None,
    timeout: float,
) -> WorkloadInfo:
    argv = [
        sys.executable,
        "-m",
        "bo1dash.workload",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--database-url",
        database_url,
        "--redis-url",
        redis_url,
        "--seed",
        str(seed),
    ]
    if time_scale is not None:
        argv += ["--time-scale", repr(time_scale)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_package_parent(), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    service = spawn("workload", argv, root / "logs" / "workload.log", env=env, cwd=root)

    def serves_metrics() -> bool:
        return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).status_code == 200

    wait_until(service, serves_metrics, what="serving /metrics", timeout=timeout, interval=0.1)
    return WorkloadInfo(service=service, port=port)
