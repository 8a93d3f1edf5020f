"""Prometheus on the backfilled TSDB (no scraping), and queries that report the samples they touched."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bo1dash.grafana.prometheus import PrometheusClient, PrometheusError
from bo1dash.stack.process import Service, free_port, spawn, stop, wait_until


@dataclass
class BenchPrometheus:
    service: Service
    port: int
    data_dir: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        stop(self.service)


def start_prometheus(
    binary: str, data_dir: Path, root: Path, *, retention: str = "60d", timeout: float = 180.0
) -> BenchPrometheus:
    """Prometheus serving `data_dir` on a free port: default --query.max-samples, blocks kept as backfilled
    (max block duration = the backfill's, so no compaction runs while we measure)."""
    port = free_port()
    config = root / "prometheus-bench.yml"
    config.write_text("global:\n  scrape_interval: 1m\n  evaluation_interval: 1m\n")
    argv = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={data_dir}",
        f"--storage.tsdb.retention.time={retention}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--storage.tsdb.min-block-duration=2h",
        "--storage.tsdb.max-block-duration=18h",
        "--query.lookback-delta=5m",
    ]
    service = spawn("prometheus-bench", argv, root / "logs" / f"prometheus-{port}.log", cwd=root)

    def ready() -> bool:
        return httpx.get(f"http://127.0.0.1:{port}/-/ready", timeout=5).status_code == 200

    wait_until(service, ready, what="ready", timeout=timeout, interval=0.2)
    return BenchPrometheus(service=service, port=port, data_dir=data_dir)


@dataclass(frozen=True)
class Measured:
    """One query as Grafana's backend sends it: wall time seen by the client, Prometheus' own timings,
    samples touched (stats=all: totalQueryableSamples), series returned, or the error."""

    seconds: float
    eval_seconds: float | None
    samples: int | None
    peak_samples: int | None
    series: int
    error: str | None = None


def measure(
    client: PrometheusClient,
    expr: str,
    *,
    instant_at: float | None = None,
    window: tuple[float, float, float] | None = None,
) -> Measured:
    """Run an instant query (instant_at) or a range query (window = start, end, step) with stats=all."""
    if instant_at is not None:
        path, params = "/api/v1/query", {"query": expr, "time": instant_at, "stats": "all"}
    else:
        assert window is not None
        start, end, step = window
        path, params = "/api/v1/query_range", {"query": expr, "start": start, "end": end, "step": step, "stats": "all"}
    started = time.perf_counter()
    try:
        data: dict[str, Any] = client._get(path, params)  # the verifier's transport and error handling
    except PrometheusError as exc:
        return Measured(time.perf_counter() - started, None, None, None, 0, str(exc))
    seconds = time.perf_counter() - started
    stats = data.get("stats") or {}
    timings = stats.get("timings") or {}
    samples = stats.get("samples") or {}
    return Measured(
        seconds=seconds,
        eval_seconds=timings.get("evalTotalTime"),
        samples=samples.get("totalQueryableSamples"),
        peak_samples=samples.get("peakSamples"),
        series=len(data.get("result") or []) if isinstance(data.get("result"), list) else 1,
    )
