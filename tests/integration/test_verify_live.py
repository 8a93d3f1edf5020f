"""End to end: stack + scenario + our dashboards, every panel proven (cAdvisor panels unprovable here)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from bo1dash.grafana.durations import parse_interval_ms
from bo1dash.grafana.panels import iter_panels
from bo1dash.verify import main

REPO = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((REPO / "infra" / "grafana" / "dashboards").glob("*.json"))


@pytest.mark.live
def test_every_panel_of_our_dashboards_is_proven(tmp_path: Path) -> None:
    if not DASHBOARDS:
        pytest.skip("no compiled dashboards: run `bo1dash build` first")
    results = tmp_path / "results"
    code = main(["--results", str(results), "--allow-unprovable", "cadvisor", *map(str, DASHBOARDS)])
    suite = ET.parse(results / "verify.xml").getroot()
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    failures = {
        name: case.find("failure").get("message") for name, case in cases.items() if case.find("failure") is not None
    }
    assert code == 0, failures
    expected_names = {
        f"{board['uid']}/{panel['title']}"
        for board in (json.loads(path.read_text()) for path in DASHBOARDS)
        for panel in iter_panels(board)
        if panel.get("targets")
    }
    assert set(cases) == expected_names
    skipped = {name for name, case in cases.items() if case.find("skipped") is not None}
    # only cAdvisor panels may be unprovable, and only because this Prometheus has no cadvisor job
    assert all("cadvisor" in cases[name].find("skipped").get("message") for name in skipped)
    markdown = (results / "verify.md").read_text()
    assert "with truth checked" in markdown
    # every proven time-series and stat panel was judged over its whole default range (the backfilled history
    # and the live part), and the report says which range: start..end in RFC 3339
    panels = {
        f"{board['uid']}/{panel['title']}": (board, panel)
        for board in (json.loads(path.read_text()) for path in DASHBOARDS)
        for panel in iter_panels(board)
    }
    for name, case in cases.items():
        if case.find("skipped") is not None:
            continue
        prop = case.find("properties/property[@name='range']")
        assert prop is not None, f"{name}: no judged range"
        board, panel = panels[name]
        if panel["type"] not in ("timeseries", "stat", "gauge"):
            continue
        start, end = (datetime.fromisoformat(t.replace("Z", "+00:00")) for t in prop.get("value").split(".."))
        default = _default_range(board, panel)
        assert abs((end - start) - default) < timedelta(seconds=2), f"{name}: judged {prop.get('value')}"


def _default_range(board: dict, panel: dict) -> timedelta:
    text = str(panel.get("timeFrom") or board["time"]["from"]).replace("now-", "")
    return timedelta(seconds=parse_interval_ms(text) / 1000)
