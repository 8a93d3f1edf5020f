"""What apply would change: the folder missing or renamed, and a unified diff per dashboard uid.

Dashboards compare as normalized JSON (normalize.py: Grafana's id, version, iteration and meta left out, keys
sorted). Dashboards Grafana has in the folder and the build does not are listed as notes: apply never
deletes, so they are no difference apply would make.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from bo1dash.deliver.client import Grafana
from bo1dash.deliver.normalize import normalize_dashboard
from bo1dash.deliver.resources import Resources


@dataclass
class DiffReport:
    differences: list[str] = field(default_factory=list)  # each a line, or a unified diff (several lines)
    notes: list[str] = field(default_factory=list)
    compared: int = 0

    @property
    def differs(self) -> bool:
        return bool(self.differences)


def diff(resources: Resources, grafana: Grafana) -> DiffReport:
    """Compare the build with the live Grafana (read only)."""
    report = DiffReport()
    folder = resources.folder
    folder_uid = folder.uid if folder else ""
    if folder is not None:
        live_folder = grafana.folder(folder.uid)
        report.compared += 1
        if live_folder is None:
            report.differences.append(f'folder {folder.uid} "{folder.title}": missing in Grafana')
        elif live_folder.get("title") != folder.title:
            report.differences.append(
                f"folder {folder.uid}: renamed, {live_folder.get('title')!r} in Grafana, {folder.title!r} in the build"
            )
    for dash in resources.dashboards:
        report.compared += 1
        live = grafana.dashboard(dash.uid)
        if live is None:
            report.differences.append(f'dashboard {dash.uid} "{dash.title}": missing in Grafana')
            continue
        meta = live.get("meta") or {}
        if (meta.get("folderUid") or "") != folder_uid:
            report.differences.append(
                f"dashboard {dash.uid}: in folder {meta.get('folderUid') or 'General'!r} in Grafana, "
                f"{folder_uid or 'General'!r} in the build"
            )
        text = "".join(
            difflib.unified_diff(
                normalize_dashboard(live["dashboard"]).splitlines(keepends=True),
                normalize_dashboard(dash.model).splitlines(keepends=True),
                fromfile=f"grafana/{dash.uid}.json",
                tofile=f"build/{dash.uid}.json",
            )
        )
        if text:
            report.differences.append(text.rstrip("\n"))
    if folder is not None:
        built = {d.uid for d in resources.dashboards}
        for hit in grafana.search(type_="dash-db", folder_uids=[folder.uid]):
            if hit.get("uid") not in built:
                report.notes.append(
                    f'dashboard {hit.get("uid")} "{hit.get("title")}" is in folder {folder.uid} in Grafana but not '
                    "in the build (apply leaves it)"
                )
    return report
