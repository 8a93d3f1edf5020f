"""A small Prometheus HTTP API client: the queries Grafana's backend sends, plus what a diagnosis needs."""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from bo1dash.verify.frames import QueryResult, Series


class PrometheusError(RuntimeError):
    """Prometheus refused a query (bad PromQL, timeout) or could not be reached; the message is Prometheus'."""


def _value(text: str) -> float:
    return float(text)  # Prometheus encodes NaN/+Inf/-Inf as strings that float() reads


@functools.cache
def _http() -> httpx.Client:
    """One connection pool for every query (a client per request loads the CA bundle each time: ~40 ms)."""
    return httpx.Client()


@dataclass
class PrometheusClient:
    url: str
    timeout: float = 30.0

    def _get(self, path: str, params: Mapping[str, Any]) -> Any:
        try:
            response = _http().post(f"{self.url.rstrip('/')}{path}", data=params, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise PrometheusError(f"cannot reach Prometheus at {self.url}: {exc}") from exc
        try:
            body = response.json()
        except ValueError as exc:
            raise PrometheusError(f"{path}: HTTP {response.status_code}: {response.text[:200]}") from exc
        if body.get("status") != "success":
            raise PrometheusError(f"{body.get('errorType', 'error')}: {body.get('error', response.text[:200])}")
        return body["data"]

    def query_range(self, expr: str, start: float, end: float, step: float) -> QueryResult:
        data = self._get("/api/v1/query_range", {"query": expr, "start": start, "end": end, "step": step})
        series = tuple(
            Series(
                name=item["metric"].get("__name__", ""),
                labels=dict(item["metric"]),
                points=tuple((float(t), _value(v)) for t, v in item.get("values", [])),
            )
            for item in data.get("result", [])
        )
        return QueryResult(query=expr, series=series, kind="range")

    def query(self, expr: str, at: float) -> QueryResult:
        data = self._get("/api/v1/query", {"query": expr, "time": at})
        kind = data.get("resultType")
        result = data.get("result", [])
        if kind == "scalar":
            t, v = result
            return QueryResult(
                query=expr, series=(Series(name="scalar", points=((float(t), _value(v)),)),), kind="instant"
            )
        if kind == "matrix":  # an instant query of a range selector
            series = tuple(
                Series(
                    name=item["metric"].get("__name__", ""),
                    labels=dict(item["metric"]),
                    points=tuple((float(t), _value(v)) for t, v in item.get("values", [])),
                )
                for item in result
            )
            return QueryResult(query=expr, series=series, kind="instant")
        series = tuple(
            Series(
                name=item["metric"].get("__name__", ""),
                labels=dict(item["metric"]),
                points=((float(item["value"][0]), _value(item["value"][1])),),
            )
            for item in result
        )
        return QueryResult(query=expr, series=series, kind="instant")

    def scalar(self, expr: str, at: float) -> float | None:
        """The single number an aggregate query returns, None when it returns nothing."""
        result = self.query(expr, at)
        values = [v for s in result.series for v in s.finite()]
        return values[0] if values else None

    def series(self, match: str, start: float, end: float) -> list[dict[str, str]]:
        data = self._get("/api/v1/series", {"match[]": [match], "start": start, "end": end})
        return [dict(item) for item in data]

    def retention_seconds(self, default: float = 15 * 86400) -> float:
        try:
            flags = self._get("/api/v1/status/flags", {})
        except PrometheusError:
            return default
        text = str(flags.get("storage.tsdb.retention.time") or flags.get("storage.tsdb.retention") or "")
        from bo1dash.interpolate import InterpolationError, parse_interval_ms

        try:
            seconds = parse_interval_ms(text) / 1000
        except InterpolationError:
            return default
        return seconds if seconds > 0 and math.isfinite(seconds) else default

    def jobs(self) -> set[str]:
        """Every scrape job this Prometheus knows: configured targets (active or dropped) and `up` series."""
        jobs: set[str] = set()
        try:
            data = self._get("/api/v1/targets", {"state": "any"})
            for target in data.get("activeTargets", []):
                jobs.add(str(target.get("scrapePool") or target.get("labels", {}).get("job", "")))
            for target in data.get("droppedTargets", []):
                jobs.add(str(target.get("discoveredLabels", {}).get("job", "")))
        except PrometheusError:
            pass
        jobs.discard("")
        return jobs
