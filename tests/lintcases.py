"""Builders the lint tests share: a valid dashboard as our build writes it, and ways to break it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bo1dash.lint import lint_dashboards

PROVISIONING = """\
apiVersion: 1
datasources:
  - name: Prometheus
    type: prometheus
    uid: prometheus
    url: http://prometheus:9090
    isDefault: true
  - name: bo1 Postgres
    type: grafana-postgresql-datasource
    uid: bo1-postgres
    url: postgres:5432
"""
PROM = {"type": "prometheus", "uid": "prometheus"}
PG = {"type": "grafana-postgresql-datasource", "uid": "bo1-postgres"}


def prom_panel(pid: int, title: str, expr: str, *, x: int = 0, y: int = 1, unit: str = "reqps", **target: Any) -> dict:
    return {
        "type": "timeseries",
        "id": pid,
        "title": title,
        "description": f"{title}: from bo1's /metrics.",
        "datasource": PROM,
        "gridPos": {"x": x, "y": y, "w": 12, "h": 8},
        "fieldConfig": {
            "defaults": {"unit": unit, "custom": {"drawStyle": "line", "fillOpacity": 10}},
            "overrides": [],
        },
        "options": {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True, "calcs": []},
            "tooltip": {"mode": "multi", "sort": "none"},
        },
        "targets": [{"refId": "A", "datasource": PROM, "expr": expr, "range": True, **target}],
    }


def sql_panel(pid: int, title: str, sql: str, *, x: int = 0, y: int = 9) -> dict:
    return {
        "type": "stat",
        "id": pid,
        "title": title,
        "description": f"{title}: from the bo1 database.",
        "datasource": PG,
        "gridPos": {"x": x, "y": y, "w": 6, "h": 4},
        "fieldConfig": {"defaults": {"unit": "short"}, "overrides": []},
        "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "graphMode": "none"},
        "targets": [
            {"refId": "A", "datasource": PG, "format": "table", "rawQuery": True, "editorMode": "code", "rawSql": sql}
        ],
    }


def valid_dashboard(uid: str = "bo1-api", title: str = "bo1 / API") -> dict:
    """A small dashboard as our build writes it, clean under every rule."""
    return {
        "uid": uid,
        "title": title,
        "schemaVersion": 41,
        "id": None,
        "editable": False,
        "tags": ["bo1"],
        "timezone": "utc",
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "30s",
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        },
        "templating": {
            "list": [
                {
                    "name": "job",
                    "type": "query",
                    "datasource": PROM,
                    "multi": True,
                    "includeAll": True,
                    "allValue": "bo1-api|bo1-backend-.*",
                    "refresh": 2,
                    "current": {"text": "All", "value": "$__all"},
                    "query": {
                        "query": "label_values(http_requests_total, job)",
                        "refId": "PrometheusVariableQueryEditor-VariableQuery",
                    },
                }
            ]
        },
        "panels": [
            {
                "type": "row",
                "title": "Traffic",
                "id": 1,
                "collapsed": False,
                "panels": [],
                "gridPos": {"x": 0, "y": 0, "w": 24, "h": 1},
            },
            prom_panel(
                2,
                "Request rate by status",
                'sum by (status) (rate(http_requests_total{job=~"$job"}[$__rate_interval]))',
            ),
            prom_panel(
                3,
                "Latency p95",
                "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket"
                '{job=~"$job", handler!~".*/stream"}[$__rate_interval])))',
                x=12,
                unit="s",
            ),
            sql_panel(4, "Sessions started", "SELECT count(*) AS value FROM sessions WHERE $__timeFilter(created_at)"),
        ],
    }


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, Path]:
    """A provisioning directory with our two datasources; the schema is the SDK's (no files needed)."""
    ds = tmp_path / "datasources"
    ds.mkdir()
    (ds / "datasources.yaml").write_text(PROVISIONING)
    return {"tmp": tmp_path, "datasources": ds}


def run(env: dict[str, Path], *dashboards: dict, **kwargs: Any) -> list:
    paths = []
    for i, dash in enumerate(dashboards):
        path = env["tmp"] / f"dash{i}.json"
        path.write_text(json.dumps(dash))
        paths.append(path)
    kwargs.setdefault("datasources_dir", env["datasources"])
    return lint_dashboards(paths, **kwargs)


def rules(findings: list) -> set[str]:
    return {f.rule for f in findings}


def with_expr(expr: str, **target: Any) -> dict:
    dash = valid_dashboard()
    dash["panels"][1] = prom_panel(2, "Request rate by status", expr, **target)
    return dash


def with_sql(sql: str) -> dict:
    dash = valid_dashboard()
    dash["panels"][3] = sql_panel(4, "Sessions started", sql)
    return dash
