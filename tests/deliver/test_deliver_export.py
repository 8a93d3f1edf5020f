"""export: one file per resource, grizzly's or Grafana's app-platform shape, deterministic."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from bo1dash.compile import CompiledMixin
from bo1dash.deliver.export import export
from bo1dash.deliver.resources import Resources
from bo1dash.folder import grizzly_uid


def _load(out: Path) -> dict[str, dict]:
    docs = {}
    for path in sorted(out.rglob("*")):
        if path.is_file() and path.suffix in (".yaml", ".yml", ".json"):  # what `grr apply DIR` reads
            docs[str(path.relative_to(out))] = yaml.safe_load(path.read_text())
    return docs


def _bytes(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_grizzly_resources_name_every_dashboard_and_point_at_the_folder(
    tmp_path: Path, resources: Resources, compiled: CompiledMixin
) -> None:
    export(resources, tmp_path, "grizzly")
    docs = _load(tmp_path)
    assert {d["apiVersion"] for d in docs.values()} == {"grizzly.grafana.com/v1alpha1"}
    by_kind: dict[str, list[dict]] = {}
    for doc in docs.values():
        by_kind.setdefault(doc["kind"], []).append(doc)
    assert set(by_kind) == {"DashboardFolder", "Dashboard", "Datasource", "PrometheusRuleGroup"}

    [folder] = by_kind["DashboardFolder"]
    assert folder["spec"]["title"] == compiled.folder
    assert folder["metadata"]["name"] == grizzly_uid(compiled.folder)  # what `grr apply mixin.libsonnet` names it

    built = {d["uid"]: d for d in compiled.dashboards.values()}
    assert {d["metadata"]["name"] for d in by_kind["Dashboard"]} == set(built)
    for dash in by_kind["Dashboard"]:
        assert dash["metadata"]["folder"] == folder["metadata"]["name"]
        assert "uid" not in dash["spec"]  # grizzly takes the uid from the name
        assert {**dash["spec"], "uid": dash["metadata"]["name"]} == built[dash["metadata"]["name"]]

    uids = {ds["uid"] for ds in compiled.config["datasources"].values()}
    assert {d["metadata"]["name"] for d in by_kind["Datasource"]} == uids
    assert all("secureJsonData" not in d["spec"] for d in by_kind["Datasource"]), "secrets stay out of files"

    groups = [g["name"] for doc in (compiled.rules, compiled.alerts) for g in doc["groups"]]
    assert sorted(g["metadata"]["name"] for g in by_kind["PrometheusRuleGroup"]) == sorted(groups)
    for group in by_kind["PrometheusRuleGroup"]:
        assert group["metadata"]["namespace"] and group["spec"]["rules"]


def test_manifests_are_app_platform_folder_and_dashboards(
    tmp_path: Path, resources: Resources, compiled: CompiledMixin
) -> None:
    export(resources, tmp_path, "manifest")
    docs = list(_load(tmp_path).values())
    folders = [d for d in docs if d["kind"] == "Folder"]
    dashboards = [d for d in docs if d["kind"] == "Dashboard"]
    assert len(folders) + len(dashboards) == len(docs)
    [folder] = folders
    assert folder["apiVersion"].startswith("folder.grafana.app/")
    assert folder["spec"]["title"] == compiled.folder
    assert {d["metadata"]["name"] for d in dashboards} == {d["uid"] for d in compiled.dashboards.values()}
    for dash in dashboards:
        assert dash["apiVersion"].startswith("dashboard.grafana.app/")
        assert dash["metadata"]["annotations"]["grafana.app/folder"] == folder["metadata"]["name"]
        assert dash["spec"]["title"]


def test_export_is_deterministic_and_drops_files_of_resources_gone(tmp_path: Path, resources: Resources) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    export(resources, first, "grizzly")
    theirs = first / "dashboards" / "another-teams-dashboard.yaml"
    theirs.write_text("kind: Dashboard\n")
    gone, *kept = resources.dashboards
    smaller = dataclasses.replace(resources, dashboards=tuple(kept))
    again = export(smaller, first, "grizzly")
    assert again.written == [] and [p.name for p in again.removed] == [f"{gone.uid}.yaml"]
    assert theirs.read_text() == "kind: Dashboard\n", "a file the export never wrote is never removed"
    theirs.unlink()
    export(smaller, second, "grizzly")
    assert _bytes(first) == _bytes(second)
