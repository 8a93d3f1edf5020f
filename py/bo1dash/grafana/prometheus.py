"""A small Prometheus HTTP API client: the queries Grafana's backend sends, plus what a diagnosis needs."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from bo1dash.grafana.durations import InterpolationError, parse_interval_ms
from bo1dash.grafana.frames import QueryResult, Series
from bo1dash.grafana.time_range import time_range_for
from bo1dash.grafana.variables import QueryRunner


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


def variable_query_runner(client: PrometheusClient, dashboard: Mapping[str, Any], now: datetime) -> QueryRunner:
    """Runs a query variable against Prometheus the way Grafana's Prometheus variable support does:
    `label_values([selector,] label)` over the dashboard's time range, `query_result(expr)` at its end."""
    window = time_range_for(dashboard, None, now)
    start, end = window.from_ms / 1000, window.to_ms / 1000

    def run(variable: Mapping[str, Any]) -> list[str]:
        query = variable.get("query")
        if isinstance(query, Mapping):
            query = query.get("query") or ""
        text = str(query or "")
        match = re.fullmatch(r"\s*label_values\((?:(.*),)?\s*(\w+)\s*\)\s*", text)
        if match:
            label, selector = match.group(2), (match.group(1) or "").strip()
            series = client.series(selector or f'{{{label}!=""}}', start, end)
            return sorted({s[label] for s in series if label in s})
        match = re.fullmatch(r"\s*query_result\((.*)\)\s*", text, flags=re.S)
        if match:
            result = client.query(match.group(1), end)
            return [
                "{" + ",".join(f'{k}="{v}"' for k, v in s.labels.items()) + "} " + str(s.values()[-1])
                for s in result.series
            ]
        return []

    return run
