"""How long a young stack must run before every time series panel can draw a line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import yaml

from bo1dash.verify.history import history_needed

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _write(tmp: Path, panels: list[dict], time_from: str = "now-6h") -> tuple[list[Path], Path]:
    ds = tmp / "datasources"
    ds.mkdir()
    (ds / "ds.yml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": 1,
                "datasources": [
                    {"name": "P", "type": "prometheus", "uid": "prom", "jsonData": {"timeInterval": "15s"}},
                    {"name": "PG", "type": "grafana-postgresql-datasource", "uid": "pg"},
                ],
            }
        )
    )
    dash = tmp / "d.json"
    dash.write_text(json.dumps({"uid": "d", "title": "d", "time": {"from": time_from, "to": "now"}, "panels": panels}))
    return [dash], ds


def _panel(title: str, w: int, *, instant: bool = False, uid: str = "prom") -> dict:
    target = {"refId": "A", "expr": "up", "datasource": {"type": "prometheus", "uid": uid}}
    if instant:
        target.update(instant=True, range=False)
    return {
        "type": "timeseries",
        "title": title,
        "gridPos": {"h": 8, "w": w, "x": 0, "y": 0},
        "datasource": {"type": "prometheus", "uid": uid},
        "targets": [target],
    }


def test_a_narrow_panel_over_a_long_range_needs_the_most_history(tmp_path: Path) -> None:
    files, ds = _write(tmp_path, [_panel("wide", 24), _panel("narrow", 4)])
    seconds, which = history_needed(files, ds, NOW)
    assert which == "d/narrow"
    (tmp_path / "w").mkdir()
    wide_only, _ = history_needed(*_write(tmp_path / "w", [_panel("wide", 24)]), NOW)
    assert seconds > wide_only > 0


def test_a_shorter_range_needs_less(tmp_path: Path) -> None:
    long_range, _ = history_needed(*_write(tmp_path, [_panel("p", 6)], "now-24h"), NOW)
    (tmp_path / "s").mkdir()
    short_range, _ = history_needed(*_write(tmp_path / "s", [_panel("p", 6)], "now-1h"), NOW)
    assert long_range > short_range


def test_instant_and_sql_panels_need_none(tmp_path: Path) -> None:
    sql = {
        "type": "timeseries",
        "title": "sql",
        "gridPos": {"h": 8, "w": 4, "x": 0, "y": 0},
        "datasource": {"type": "grafana-postgresql-datasource", "uid": "pg"},
        "targets": [{"refId": "A", "rawSql": "SELECT 1", "datasource": {"uid": "pg"}}],
    }
    files, ds = _write(tmp_path, [_panel("stat", 4, instant=True), sql])
    assert history_needed(files, ds, NOW) == (0.0, "")
