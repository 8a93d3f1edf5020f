"""Preview: a small dashboard built here, drawn from frames built here, checked pixel by pixel."""

from __future__ import annotations

import html
import json
import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("matplotlib")

from matplotlib import image as mpimg

from bo1dash.grafana.frames import QueryResult, Series, Table
from bo1dash.preview import render_dashboard
from bo1dash.preview.cli import render_report
from bo1dash.preview.index import page_for, write_index
from bo1dash.preview.layout import COLUMNS, Grid
from bo1dash.preview.verdicts import panels_by_id
from bo1dash.verify.model import PanelResult, Status, VerifyReport

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
PAGE_RGB = (0x11, 0x12, 0x17)
PANEL_RGB = (0x18, 0x1B, 0x1F)


def _panel(pid: int, kind: str, title: str, pos: tuple[int, int, int, int], **extra: Any) -> dict[str, Any]:
    x, y, w, h = pos
    return {"id": pid, "type": kind, "title": title, "gridPos": {"x": x, "y": y, "w": w, "h": h}, **extra}


def _dashboard() -> dict[str, Any]:
    return {
        "uid": "preview-test",
        "title": "Preview test",
        "time": {"from": "now-1h", "to": "now"},
        "panels": [
            _panel(1, "row", "Traffic", (0, 0, 24, 1)),
            _panel(
                2,
                "timeseries",
                "Request rate",
                (0, 1, 12, 8),
                fieldConfig={
                    "defaults": {"unit": "reqps", "custom": {"stacking": {"mode": "normal"}, "fillOpacity": 60}}
                },
                targets=[{"refId": "A", "expr": "rate", "legendFormat": "{{status}}"}],
            ),
            _panel(
                3,
                "stat",
                "Error ratio",
                (12, 1, 6, 8),
                fieldConfig={
                    "defaults": {
                        "unit": "percentunit",
                        "thresholds": {
                            "mode": "absolute",
                            "steps": [{"color": "green", "value": None}, {"color": "red", "value": 0.05}],
                        },
                    }
                },
                options={"colorMode": "background", "reduceOptions": {"calcs": ["lastNotNull"]}},
                targets=[{"refId": "A", "expr": "ratio", "instant": True}],
            ),
            _panel(
                4,
                "piechart",
                "Spend by model",
                (18, 1, 6, 8),
                fieldConfig={"defaults": {"unit": "currencyUSD"}},
                options={
                    "pieType": "donut",
                    "reduceOptions": {"values": True, "calcs": ["lastNotNull"]},
                    "legend": {"placement": "right", "values": ["value", "percent"]},
                },
                targets=[{"refId": "A", "format": "table", "rawSql": "SELECT model, spend"}],
            ),
            _panel(5, "row", "Details", (0, 9, 24, 1)),
            _panel(
                6,
                "table",
                "Slowest endpoints",
                (0, 10, 12, 7),
                fieldConfig={"defaults": {"unit": "s"}},
                options={"sortBy": [{"displayName": "Value", "desc": True}]},
                targets=[{"refId": "A", "expr": "p95", "format": "table", "instant": True}],
            ),
            _panel(
                7,
                "heatmap",
                "Latency distribution",
                (12, 10, 12, 7),
                options={"color": {"scheme": "Oranges"}, "yAxis": {"unit": "s"}},
                targets=[{"refId": "A", "expr": "buckets", "format": "heatmap", "legendFormat": "{{le}}"}],
            ),
        ],
    }


def _range(labels: dict[str, str], values: list[float]) -> Series:
    start = (NOW - timedelta(hours=1)).timestamp()
    step = 3600 / (len(values) - 1)
    return Series(name="", labels=labels, points=tuple((start + i * step, v) for i, v in enumerate(values)))


def _results() -> dict[int, list[QueryResult]]:
    minutes = range(61)
    le_bounds = ["0.1", "0.5", "1", "+Inf"]
    return {
        2: [
            QueryResult(
                "rate",
                series=(
                    _range({"status": "2xx"}, [5 + math.sin(m / 9) for m in minutes]),
                    _range({"status": "5xx"}, [0.5 for _ in minutes]),
                ),
            )
        ],
        3: [QueryResult("ratio", series=(Series("", {}, ((NOW.timestamp(), 0.08),)),), kind="instant")],
        4: [
            QueryResult(
                "sql",
                kind="sql",
                table=Table(
                    ("model", "spend"),
                    (("claude-sonnet", Decimal("12.50")), ("gpt-4o", Decimal("4.25")), ("haiku", Decimal("1.00"))),
                ),
            )
        ],
        6: [
            QueryResult(
                "p95",
                kind="instant",
                series=tuple(
                    Series("", {"handler": f"/api/v1/endpoint{i}"}, ((NOW.timestamp(), 0.05 * i),)) for i in (3, 1, 2)
                ),
            )
        ],
        7: [
            QueryResult(
                "buckets",
                series=tuple(
                    _range({"le": le}, [float((k + 1) * 10 + (m % 5)) for m in minutes])
                    for k, le in enumerate(le_bounds)
                ),
            )
        ],
    }


def _verdicts() -> dict[int, PanelResult]:
    def verdict(title: str, kind: str, status: Status, reason: str = "") -> PanelResult:
        return PanelResult("preview-test", title, kind, status, shown="shown", reason=reason)

    return {
        2: verdict("Request rate", "timeseries", Status.PASSED),
        3: verdict("Error ratio", "stat", Status.FAILED, "expected 0.02 <threshold check>"),
        4: verdict("Spend by model", "piechart", Status.PASSED),
        6: verdict("Slowest endpoints", "table", Status.PASSED),
        7: verdict("Latency distribution", "heatmap", Status.UNPROVABLE, "no `x` scrape job"),
    }


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path, Any]:
    out = tmp_path_factory.mktemp("preview") / "preview-test.png"
    dashboard = _dashboard()
    path = render_dashboard(dashboard, _results(), _verdicts(), out, now=NOW)
    return dashboard, path, mpimg.imread(path)


def _rgb(pixels: Any, x: int, y: int) -> tuple[int, int, int]:
    r, g, b = (round(float(c) * 255) for c in pixels[y, x, :3])
    return r, g, b


def _close(a: tuple[int, int, int], b: tuple[int, int, int], tolerance: int = 3) -> bool:
    return all(abs(p - q) <= tolerance for p, q in zip(a, b))


def _inked(pixels: Any, left: int, top: int, right: int, bottom: int, background: tuple[int, int, int]) -> int:
    """How many pixels of the box differ from the background colour."""
    return sum(
        1
        for y in range(top, bottom)
        for x in range(left, right)
        if not _close(_rgb(pixels, x, y), background, tolerance=24)
    )


def test_image_size_follows_the_24_column_grid(rendered: tuple[dict[str, Any], Path, Any]) -> None:
    dashboard, _, pixels = rendered
    grid = Grid()
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in dashboard["panels"])
    height, width = pixels.shape[:2]
    assert width == 2 * grid.pad_px + COLUMNS * (grid.column_px + grid.gap_px) - grid.gap_px
    assert height == grid.header_px + 2 * grid.pad_px + rows * (grid.row_px + grid.gap_px) - grid.gap_px
    # A panel twice as wide on the grid is (one gap aside) twice as wide on the image.
    half = grid.rect({"x": 0, "y": 0, "w": 12, "h": 1})
    whole = grid.rect({"x": 0, "y": 0, "w": 24, "h": 1})
    assert whole.width == 2 * half.width + grid.gap_px
    assert whole.right == width - grid.pad_px


def test_every_panel_area_is_drawn_with_a_titled_frame(rendered: tuple[dict[str, Any], Path, Any]) -> None:
    dashboard, _, pixels = rendered
    grid = Grid()
    for panel in dashboard["panels"]:
        rect = grid.rect(panel["gridPos"])
        title_box = (rect.left + 8, rect.top + 4, rect.left + min(rect.width - 8, 160), rect.top + 26)
        if panel["type"] == "row":
            assert _inked(pixels, rect.left, rect.top, rect.left + 120, rect.bottom, PAGE_RGB) > 20, panel["title"]
            continue
        # the panel's box is painted in the panel colour, distinct from the page
        assert _close(_rgb(pixels, rect.left + 4, rect.bottom - 4), PANEL_RGB), panel["title"]
        assert not _close(PANEL_RGB, PAGE_RGB)
        assert _inked(pixels, *title_box, PANEL_RGB) > 30, f"no title ink in {panel['title']}"
        content = (rect.left + 10, rect.top + 34, rect.right - 10, rect.bottom - 10)
        inked = _inked_sampled(pixels, content, PANEL_RGB)
        assert inked > 0.005, f"{panel['title']}: only {inked:.1%} of the content area is drawn"


def _inked_sampled(pixels: Any, box: tuple[int, int, int, int], background: tuple[int, int, int]) -> float:
    left, top, right, bottom = box
    samples = [(x, y) for y in range(top, bottom, 4) for x in range(left, right, 4)]
    return sum(1 for x, y in samples if not _close(_rgb(pixels, x, y), background, tolerance=24)) / len(samples)


def test_stat_background_takes_the_threshold_colour(rendered: tuple[dict[str, Any], Path, Any]) -> None:
    dashboard, _, pixels = rendered
    stat = next(p for p in dashboard["panels"] if p["id"] == 3)
    rect = Grid().rect(stat["gridPos"])
    # 0.08 is above the 0.05 step: the background is Grafana's red (#F2495C), not green
    corner = _rgb(pixels, rect.left + 14, rect.bottom - 14)
    assert _close(corner, (0xF2, 0x49, 0x5C), tolerance=6)


def test_panels_with_data_draw_more_than_their_no_data_message(tmp_path: Path) -> None:
    dashboard = _dashboard()
    # The same dashboard with no results: every panel only says "No data".
    empty = mpimg.imread(render_dashboard(dashboard, {}, None, tmp_path / "empty.png", now=NOW))
    full = mpimg.imread(render_dashboard(dashboard, _results(), None, tmp_path / "full.png", now=NOW))
    grid = Grid()
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            continue
        rect = grid.rect(panel["gridPos"])
        box = (rect.left + 10, rect.top + 34, rect.right - 10, rect.bottom - 10)
        drawn, message = _inked_sampled(full, box, PANEL_RGB), _inked_sampled(empty, box, PANEL_RGB)
        assert message > 0, f"{panel['title']}: the empty panel shows no message"
        assert drawn > 1.5 * message, f"{panel['title']}: {drawn:.1%} drawn vs {message:.1%} for No data"


def test_index_lists_every_panel_with_its_verdict(rendered: tuple[dict[str, Any], Path, Any]) -> None:
    dashboard, path, _ = rendered
    verdicts = _verdicts()
    index = write_index(path.parent, [page_for(dashboard, path, verdicts)])
    text = index.read_text()
    assert f'src="{path.name}"' in text
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            continue
        verdict = verdicts[panel["id"]]
        row = next(line for line in text.splitlines() if f"<td>{html.escape(panel['title'])}</td>" in line)
        assert f">{verdict.status.value}<" in row
        assert html.escape(verdict.reason) in row


def _report(dashboard: dict[str, Any]) -> VerifyReport:
    """The verifier's report on the test dashboard: the verdicts above, each with the results it judged."""
    results, verdicts = _results(), _verdicts()
    panels = [replace(verdicts[pid], panel_id=pid, results=tuple(results[pid])) for pid in verdicts]
    # same titles and ids elsewhere must not leak in: panels are matched by dashboard uid and panel id
    decoy = PanelResult("other-board", "Request rate", "timeseries", Status.FAILED, panel_id=2, results=())
    twin = PanelResult("preview-test", "Request rate", "timeseries", Status.FAILED, panel_id=None, results=())
    return VerifyReport(panels=[decoy, twin, *panels], now=NOW)


def test_panels_are_matched_by_id_not_by_title() -> None:
    report = _report(_dashboard())
    by_id = panels_by_id(report, "preview-test")
    assert set(by_id) == {2, 3, 4, 6, 7}
    assert by_id[2].status is Status.PASSED and by_id[2].results


def test_render_report_draws_what_the_verifier_judged(
    tmp_path: Path, rendered: tuple[dict[str, Any], Path, Any]
) -> None:
    dashboard, _, direct = rendered
    board = tmp_path / "board.json"
    board.write_text(json.dumps(dashboard))
    pages = render_report(_report(dashboard), [board], tmp_path / "out")
    assert [p.png.name for p in pages] == ["preview-test.png"]
    assert (mpimg.imread(pages[0].png) == direct).all()
    statuses = {line.panel_id: line.status for line in pages[0].panels}
    assert statuses[3] == "failed" and statuses[7] == "unprovable"
