"""verify on someone else's dashboard: a datasource type this stack does not run (Loki, ...) makes its panels
"unprovable here", never failed."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from bo1dash.verify import Endpoints, Status, verify_dashboards

LOKI_PANEL = {
    "id": 1,
    "type": "logs",
    "title": "API logs",
    "datasource": {"type": "loki", "uid": "loki"},
    "targets": [{"refId": "A", "expr": '{job="bo1-api"}', "datasource": {"type": "loki", "uid": "loki"}}],
    "gridPos": {"h": 8, "w": 24, "x": 0, "y": 0},
}


def _provisioning(tmp_path: Path, with_loki: bool) -> Path:
    out = tmp_path / "datasources"
    out.mkdir()
    sources = [{"name": "Prometheus", "type": "prometheus", "uid": "prometheus", "url": "http://p:9090"}]
    if with_loki:
        sources.append({"name": "Loki", "type": "loki", "uid": "loki", "url": "http://loki:3100"})
    (out / "ds.yml").write_text(yaml.safe_dump({"apiVersion": 1, "datasources": sources}))
    return out


def _verify(tmp_path: Path, with_loki: bool) -> tuple[Status, str, bool]:
    path = tmp_path / "logs.json"
    path.write_text(json.dumps({"uid": "logs", "title": "Logs", "panels": [LOKI_PANEL], "time": {"from": "now-7d"}}))
    report = verify_dashboards(
        [path], endpoints=Endpoints(), provisioning_dir=_provisioning(tmp_path, with_loki), expectations=None
    )
    (panel,) = report.panels
    return panel.status, panel.reason, report.ok


def test_a_loki_panel_is_unprovable_not_failed(tmp_path: Path) -> None:
    status, reason, _ = _verify(tmp_path, with_loki=True)
    assert status is Status.UNPROVABLE, reason
    assert "loki" in reason


def test_a_loki_panel_whose_datasource_is_not_provisioned_is_unprovable_too(tmp_path: Path) -> None:
    status, reason, ok = _verify(tmp_path, with_loki=False)
    assert status is Status.UNPROVABLE, reason
    assert "loki" in reason and not ok  # unprovable and not allowed: the run says so (--allow-unprovable loki)
