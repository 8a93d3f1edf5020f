"""Write the mixin's resources as files other tools apply: one file per resource, deterministic.

`grizzly`: `grizzly.grafana.com/v1alpha1` DashboardFolder, Dashboard (`metadata.folder`), Datasource and
PrometheusRuleGroup, as grizzly itself turns a mixin into resources (`grr apply DIR`). A Datasource leaves
its secrets out (they come from the environment; `bo1dash apply --datasources` sends them).
`manifest`: Grafana's app-platform resources `folder.grafana.app` Folder and `dashboard.grafana.app` Dashboard
(folder in the `grafana.app/folder` annotation), as grafanactl/gcx push them.

Written atomically (provision.write_atomically); a resource gone from the mixin loses its file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bo1dash.deliver.errors import DeliverError
from bo1dash.deliver.resources import Resources
from bo1dash.provision import ProvisionError, ProvisionResult, dump_yaml, write_atomically

GRIZZLY = "grizzly.grafana.com/v1alpha1"
FOLDER_API = "folder.grafana.app/v1beta1"
DASHBOARD_API = "dashboard.grafana.app/v1beta1"
FOLDER_ANNOTATION = "grafana.app/folder"
FORMATS = ("grizzly", "manifest")
MANIFEST = ".bo1dash-export-manifest"  # what the last export wrote, so the next removes only its own files
GENERAL = "General"  # grizzly's folder name for dashboards outside any folder
# Set by Grafana, not part of a dashboard's spec; the uid is the resource's name.
_NOT_SPEC = ("id", "uid", "version")


def export(resources: Resources, out_dir: Path, fmt: str) -> ProvisionResult:
    """Write every resource of `resources` in format `fmt` under `out_dir`."""
    if fmt not in FORMATS:
        raise DeliverError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    files = _grizzly(resources, out_dir) if fmt == "grizzly" else _manifest(resources, out_dir)
    try:
        # The manifest has no .yaml/.json suffix: `grr apply DIR` and grafanactl read every such file as a resource.
        return write_atomically({p: dump_yaml(doc) for p, doc in files.items()}, out_dir, manifest_name=MANIFEST)
    except (ProvisionError, OSError) as exc:
        raise DeliverError(f"cannot write {out_dir}: {exc}") from None


def _spec(model: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in model.items() if k not in _NOT_SPEC}


def _resource(api: str, kind: str, metadata: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": api, "kind": kind, "metadata": metadata, "spec": spec}


def _grizzly(resources: Resources, out: Path) -> dict[Path, dict[str, Any]]:
    files: dict[Path, dict[str, Any]] = {}
    folder = resources.folder
    if folder is not None:
        files[out / "folders" / f"{folder.uid}.yaml"] = _resource(
            GRIZZLY, "DashboardFolder", {"name": folder.uid}, {"title": folder.title}
        )
    for dash in resources.dashboards:
        metadata = {"name": dash.uid, "folder": folder.uid if folder else GENERAL}
        files[out / "dashboards" / f"{dash.uid}.yaml"] = _resource(GRIZZLY, "Dashboard", metadata, _spec(dash.model))
    for entry in resources.datasources:
        spec = {k: v for k, v in entry.items() if k not in ("secureJsonData", "editable")}
        files[out / "datasources" / f"{entry['uid']}.yaml"] = _resource(
            GRIZZLY, "Datasource", {"name": entry["uid"]}, spec
        )
    for group in resources.rule_groups:
        metadata = {"name": group.name, "namespace": group.namespace}
        path = out / "prometheus" / group.namespace / f"{group.name}.yaml"
        files[path] = _resource(GRIZZLY, "PrometheusRuleGroup", metadata, {"rules": group.rules})
    return files


def _manifest(resources: Resources, out: Path) -> dict[Path, dict[str, Any]]:
    files: dict[Path, dict[str, Any]] = {}
    folder = resources.folder
    if folder is not None:
        files[out / "folders" / f"{folder.uid}.yaml"] = _resource(
            FOLDER_API, "Folder", {"name": folder.uid}, {"title": folder.title}
        )
    for dash in resources.dashboards:
        metadata: dict[str, Any] = {"name": dash.uid}
        if folder is not None:
            metadata["annotations"] = {FOLDER_ANNOTATION: folder.uid}
        files[out / "dashboards" / f"{dash.uid}.yaml"] = _resource(
            DASHBOARD_API, "Dashboard", metadata, _spec(dash.model)
        )
    return files
