"""Layout and hygiene: ids, grid, units, descriptions, unique titles and uids, panels without queries.

layout/duplicate-id          two panels share an id (a missing id is fine: Grafana assigns one on load)
layout/grid                  gridPos missing or outside the 24-column grid
layout/overlap               two panels (rows included) cover the same grid cell
layout/missing-unit          a data panel without fieldConfig.defaults.unit (style: warning; not when value
                             mappings turn the values into text)
layout/missing-description   a panel without a description (style: warning)
panel/no-targets             a data panel without a single query: it can only show "No data"
layout/duplicate-title       two panels of one dashboard share a title
layout/duplicate-uid         two linted dashboards share a uid (or a uid is missing)
layout/duplicate-dashboard-title  two linted dashboards share a title
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from bo1dash.lint.model import (
    ERROR,
    WARNING,
    Dashboard,
    Finding,
    as_dict,
    as_list,
    iter_panels,
    panel_targets,
    panel_title,
)

GRID_COLUMNS = 24
UNIT_EXEMPT = frozenset({"row", "text", "news", "dashlist", "annolist", "alertlist", "nodeGraph", "logs"})
DESCRIPTION_EXEMPT = frozenset({"row"})
# Panels that show no query result (or query on their own): no targets needed.
NO_QUERY_PANELS = UNIT_EXEMPT - {"nodeGraph", "logs"}


def _maps_to_text(defaults: dict[str, Any]) -> bool:
    """True when value mappings replace the values by text (e.g. 0/1 -> DOWN/UP): no unit is shown."""
    for mapping in as_list(defaults.get("mappings")):
        options = as_dict(as_dict(mapping).get("options"))
        results = [options.get("result")] + [v for v in options.values() if isinstance(v, dict)]
        if any(isinstance(r, dict) and r.get("text") for r in results):
            return True
    return False


def _rect(panel: Mapping[str, Any]) -> tuple[int, int, int, int] | None:
    pos = panel.get("gridPos")
    if not isinstance(pos, dict):
        return None
    try:
        return int(pos["x"]), int(pos["y"]), int(pos["w"]), int(pos["h"])
    except (KeyError, TypeError, ValueError):
        return None


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def check(dashboard: Dashboard) -> list[Finding]:
    findings: list[Finding] = []
    ids: dict[Any, list[str]] = defaultdict(list)
    titles: dict[str, int] = defaultdict(int)
    # Panels folded in a collapsed row are laid out on their own when the row opens.
    groups: list[list[dict[str, Any]]] = [[]]
    for panel in as_list(dashboard.data.get("panels")):
        if not isinstance(panel, dict):
            continue
        groups[0].append(panel)
        if panel.get("type") == "row" and as_list(panel.get("panels")):
            groups.append([p for p in panel["panels"] if isinstance(p, dict)])

    for panel in iter_panels(dashboard.data):
        title = panel_title(panel)
        kind = str(panel.get("type", ""))
        ids[panel.get("id")].append(title)
        if panel.get("title"):
            titles[str(panel["title"])] += 1
        rect = _rect(panel)
        if rect is None:
            findings.append(
                dashboard.finding(
                    "layout/grid",
                    ERROR,
                    "the panel has no complete gridPos {x, y, w, h}",
                    "give every panel an explicit gridPos",
                    panel=title,
                )
            )
        else:
            x, y, w, h = rect
            if x < 0 or y < 0 or w <= 0 or h <= 0 or x + w > GRID_COLUMNS:
                findings.append(
                    dashboard.finding(
                        "layout/grid",
                        ERROR,
                        f"gridPos x={x} w={w} y={y} h={h} leaves the {GRID_COLUMNS}-column grid (x + w = {x + w})",
                        f"keep x >= 0, w > 0, h > 0 and x + w <= {GRID_COLUMNS}",
                        panel=title,
                    )
                )
        if kind not in NO_QUERY_PANELS and not panel_targets(panel) and not panel.get("libraryPanel"):
            findings.append(
                dashboard.finding(
                    "panel/no-targets",
                    ERROR,
                    f"the {kind or 'untyped'} panel has no queries (targets), so it can only show 'No data'",
                    "add the query the panel is meant to show, or remove the panel",
                    panel=title,
                )
            )
        if kind not in UNIT_EXEMPT:
            defaults = as_dict(as_dict(panel.get("fieldConfig")).get("defaults"))
            if not defaults.get("unit") and not _maps_to_text(defaults):
                findings.append(
                    dashboard.finding(
                        "layout/missing-unit",
                        WARNING,
                        f"the {kind} panel sets no unit, so values render as bare numbers",
                        "set fieldConfig.defaults.unit (e.g. reqps, s, percentunit, bytes, currencyUSD, short)",
                        panel=title,
                    )
                )
        if kind not in DESCRIPTION_EXEMPT and not str(panel.get("description") or "").strip():
            findings.append(
                dashboard.finding(
                    "layout/missing-description",
                    WARNING,
                    "the panel has no description: on-call cannot tell what it measures or where it comes from",
                    "add a description: what the number is, its source (metric or table), and what is normal",
                    panel=title,
                )
            )

    for pid, owners in ids.items():
        if pid is not None and len(owners) > 1:
            findings.append(
                dashboard.finding(
                    "layout/duplicate-id",
                    ERROR,
                    f"panel id {pid} is used by {len(owners)} panels: {', '.join(owners)}",
                    "give every panel a unique id (links and repeats use it)",
                    panel=owners[1],
                )
            )
    for title, count in titles.items():
        if count > 1:
            findings.append(
                dashboard.finding(
                    "layout/duplicate-title",
                    ERROR,
                    f"{count} panels are titled {title!r}",
                    "give every panel of a dashboard its own title",
                    panel=title,
                )
            )

    for group in groups:
        placed: list[tuple[dict[str, Any], tuple[int, int, int, int]]] = []
        for panel in group:
            rect = _rect(panel)
            if rect is None:
                continue
            for other, other_rect in placed:
                if _overlaps(rect, other_rect):
                    findings.append(
                        dashboard.finding(
                            "layout/overlap",
                            ERROR,
                            f"overlaps {panel_title(other)!r} (gridPos {other_rect} vs {rect} as x, y, w, h)",
                            "move one of them: Grafana would push panels around and the layout would differ from the source",
                            panel=panel_title(panel),
                        )
                    )
            placed.append((panel, rect))
    return findings


def check_across(dashboards: list[Dashboard]) -> list[Finding]:
    findings: list[Finding] = []
    by_uid: dict[str, list[Dashboard]] = defaultdict(list)
    by_title: dict[str, list[Dashboard]] = defaultdict(list)
    for dash in dashboards:
        if not dash.uid:
            findings.append(
                dash.finding(
                    "layout/duplicate-uid",
                    ERROR,
                    "the dashboard has no uid: Grafana invents one, links and bookmarks break",
                    "set a stable uid from _config.dashboardUids",
                )
            )
        else:
            by_uid[dash.uid].append(dash)
        title = str(dash.data.get("title") or "")
        if title:
            by_title[title].append(dash)
    clashes = (
        (by_uid, "layout/duplicate-uid", "uid", "Grafana provisions only one of them"),
        (
            by_title,
            "layout/duplicate-dashboard-title",
            "title",
            "Grafana refuses two dashboards of one title in a folder",
        ),
    )
    for groups, rule, what, why in clashes:
        for value, dashes in groups.items():
            for dash in dashes[1:]:
                findings.append(
                    dash.finding(
                        rule,
                        ERROR,
                        f"{what} {value!r} is also used by {dashes[0].file}: {why}",
                        f"give every dashboard its own {what}",
                    )
                )
    return findings
