"""A dashboard's panels and their queries as Grafana walks them: one walker for verify, bench and preview."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

# Panel types that run no query (a row, text, lists of dashboards or alerts).
NO_QUERY_TYPES = frozenset({"row", "text", "news", "dashlist", "alertlist", "annolist", "welcome"})


def _walk(panels: Any, *, inside_collapsed: bool) -> Iterator[Mapping[str, Any]]:
    for panel in panels if isinstance(panels, Sequence) else ():
        if not isinstance(panel, Mapping):
            continue
        yield panel
        if inside_collapsed or not panel.get("collapsed"):
            yield from _walk(panel.get("panels") or [], inside_collapsed=inside_collapsed)


def iter_panels(dashboard: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every panel of the dashboard, rows included, and the panels folded inside collapsed rows."""
    return _walk(dashboard.get("panels") or [], inside_collapsed=True)


def visible_panels(dashboard: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The panels Grafana draws: top-level panels and those of expanded rows (a collapsed row hides its own)."""
    return _walk(dashboard.get("panels") or [], inside_collapsed=False)


def visible_targets(panel: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The panel's queries Grafana runs: every target that is not hidden."""
    return [t for t in panel.get("targets") or [] if isinstance(t, Mapping) and not t.get("hide")]
