"""Facts only the runner has, for the truth rules (`truth_base.StackFacts`): read from the stack it started,
from PostgreSQL and Redis, from /proc and statvfs, and from Prometheus' raw samples."""

from __future__ import annotations

import os
import socket
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import psycopg

from bo1dash.grafana.prometheus import PrometheusClient, PrometheusError
from bo1dash.grafana.time_range import TimeRange
from bo1dash.stack.exporters import PROCESS_GROUPS
from bo1dash.stack.redis import resp_command
from bo1dash.verify.truth_base import IncrementsProbe, StackFacts, UnseenProbe


def unseen_probe(client: PrometheusClient, scrape_seconds: float = 5.0) -> UnseenProbe:
    """What every series of `selector` held at its first sample in the range, summed by `label`, for series
    born inside the range (more than a scrape after its start): increments rate() and increase() cannot see."""

    def probe(selector: str, label: str, tr: TimeRange) -> Mapping[str, float]:
        start, end = tr.from_ms / 1000, tr.to_ms / 1000
        try:
            raw = client.query(f"{selector}[{max(1, int(end - start))}s]", end)
        except PrometheusError:
            return {}
        out: dict[str, float] = defaultdict(float)
        for s in raw.series:
            first = next(((t, v) for t, v in s.points if v is not None), None)
            if first is not None and first[0] > start + scrape_seconds:
                out[s.labels.get(label, "")] += first[1]
        return dict(out)

    return probe


def increments_probe(client: PrometheusClient) -> IncrementsProbe:
    """Every increase of the counters of `selector` between consecutive raw samples in (start, end], by `label`
    (a drop is a reset: the new value is the increase), with the time of the later sample."""

    def probe(selector: str, label: str, start: float, end: float) -> Mapping[str, list[tuple[float, float]]]:
        try:
            raw = client.query(f"{selector}[{max(1, int(end - start))}s]", end)
        except PrometheusError:
            return {}
        out: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for s in raw.series:
            points = [(t, v) for t, v in s.points if v is not None]
            for (_, a), (t, b) in zip(points, points[1:]):
                if b != a:
                    out[s.labels.get(label, "")].append((t, b - a if b >= a else b))
        return dict(out)

    return probe


def rss_bytes(pid: int) -> float:
    """RSS of a process and all its descendants (process-exporter counts children in the parent's group)."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children[int(fields[1])].append(int(entry.name))
    total, todo = 0.0, [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        try:
            total += int((Path("/proc") / str(current) / "statm").read_text().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total


def disk_used_ratio(mountpoint: str) -> float | None:
    """1 - avail/size as node-exporter computes it (f_bavail and f_blocks of statvfs)."""
    try:
        st = os.statvfs(mountpoint)
    except OSError:
        return None
    return 1 - st.f_bavail / st.f_blocks if st.f_blocks else None


def postgres_max_connections(dsn: str) -> float | None:
    try:
        with psycopg.connect(dsn, connect_timeout=10) as conn:
            row = conn.execute("SHOW max_connections").fetchone()
    except psycopg.Error:
        return None
    return float(row[0]) if row else None


def redis_maxmemory(url: str) -> float | None:
    """CONFIG GET maxmemory over a plain socket (RESP), so no Redis client library is needed."""
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=5) as sock:
            if parsed.password:
                sock.sendall(resp_command("AUTH", unquote(parsed.password)))
                sock.recv(64)
            sock.sendall(b"CONFIG GET maxmemory\r\n")
            reply = sock.recv(256).decode().split("\r\n")
    except OSError:
        return None
    return float(reply[4]) if len(reply) > 4 and reply[4].isdigit() else None


def from_stack(stack: Any) -> StackFacts:
    """Facts of a started `RunningStack` (jobs, maxmemory, max_connections, per-group RSS)."""
    rss = {PROCESS_GROUPS[s.name]: rss_bytes(s.pid) for s in stack.services if s.name in PROCESS_GROUPS}
    return StackFacts(
        jobs=tuple(stack.jobs),
        redis_maxmemory_bytes=redis_maxmemory(stack.redis_url),
        postgres_max_connections=postgres_max_connections(stack.grafana_dsn),
        process_rss_bytes=rss,
        disk_used_ratio=disk_used_ratio,
    )
