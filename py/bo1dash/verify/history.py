"""How much Prometheus history the dashboards need before a person sees lines, not dots.

A time series panel draws one point per step of its query_range, its start aligned down to the
step; a rate needs two samples inside its window. On a stack that just started,
a panel with a wide step (a long range on a narrow panel) therefore shows one point until enough
steps have passed. A person opening Grafana then would see a dot too: the verifier waits until the
stack is old enough for every panel instead of calling a young stack's dot a broken panel.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from bo1dash.grafana.datasources import Datasource, load_datasources
from bo1dash.grafana.durations import parse_interval_ms
from bo1dash.grafana.intervals import (
    panel_query_context,
    prometheus_query_window,
)
from bo1dash.grafana.panels import iter_panels, visible_targets
from bo1dash.grafana.time_range import time_range_for

# Points a time series needs before the judge calls it a line.
POINTS_NEEDED = 2


def _prometheus(panel: Mapping[str, Any], datasources: Mapping[str, Datasource]) -> Datasource | None:
    ref = panel.get("datasource")
    uid = ref.get("uid") if isinstance(ref, Mapping) else None
    ds = datasources.get(str(uid)) if uid else None
    return ds if ds is not None and ds.kind == "prometheus" else None


def panel_history_seconds(
    dashboard: Mapping[str, Any], panel: Mapping[str, Any], ds: Datasource, now: datetime
) -> float:
    """Seconds of data a range-query panel needs to draw POINTS_NEEDED points (0 for instant queries)."""
    targets = visible_targets(panel)
    if not targets or all(t.get("instant") and not t.get("range") for t in targets):
        return 0.0
    ctx = panel_query_context(dashboard, panel, ds.type, ds.time_interval, time_range_for(dashboard, panel, now))
    _, _, step = prometheus_query_window(ctx)
    # POINTS_NEEDED aligned steps after the first sample, plus two scrapes so that a rate has two
    # samples at the first of them.
    return POINTS_NEEDED * step + 2 * ctx.scrape_interval_ms / 1000


def panel_steps(dashboard_files: Iterable[Path], provisioning_dir: Path, now: datetime) -> set[float]:
    """The steps (seconds) of the Prometheus range-query panels of the files: a query's end is aligned down to its
    step, so its last point shows the state at the last multiple of the step."""
    steps: set[float] = set()
    for dashboard, panel, ds in _prometheus_panels(dashboard_files, provisioning_dir):
        seconds = panel_history_seconds(dashboard, panel, ds, now)
        if seconds:
            scrape = parse_interval_ms(ds.time_interval or "15s") / 1000
            steps.add(round((seconds - 2 * scrape) / POINTS_NEEDED, 3))
    return steps


def history_needed(dashboard_files: Iterable[Path], provisioning_dir: Path, now: datetime) -> tuple[float, str]:
    """The longest history any Prometheus panel of the files needs, and which panel needs it."""
    longest, which = 0.0, ""
    for dashboard, panel, ds in _prometheus_panels(dashboard_files, provisioning_dir):
        seconds = panel_history_seconds(dashboard, panel, ds, now)
        if seconds > longest:
            longest, which = seconds, f"{dashboard.get('uid')}/{panel.get('title')}"
    return longest, which


def _prometheus_panels(
    dashboard_files: Iterable[Path], provisioning_dir: Path
) -> Iterator[tuple[dict[str, Any], Mapping[str, Any], Datasource]]:
    """Every panel of the files on a Prometheus datasource, with its dashboard and datasource."""
    datasources = load_datasources(provisioning_dir)
    for path in dashboard_files:
        dashboard = json.loads(Path(path).read_text())
        for panel in iter_panels(dashboard):
            ds = _prometheus(panel, datasources)
            if ds is not None:
                yield dashboard, panel, ds
