"""Provisioning: deterministic, atomic, in step with the committed files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from bo1dash import paths
from bo1dash.compile import CompileError, compile_mixin
from bo1dash.provision import ProvisionError, provision, render


@pytest.fixture(scope="module")
def ours(repo_root: Path):
    return compile_mixin(paths.mixin_entry(repo_root), root=repo_root)


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_rebuild_changes_nothing(tmp_path: Path, ours) -> None:
    first = provision(ours, tmp_path)
    assert first.written
    before = _snapshot(tmp_path)
    second = provision(ours, tmp_path)
    assert second.written == [] and second.removed == []
    assert _snapshot(tmp_path) == before


def test_provisioned_datasources_come_from_the_same_config(tmp_path: Path, ours) -> None:
    provision(ours, tmp_path)
    doc = yaml.safe_load((paths.datasources_dir(tmp_path) / "bo1.yml").read_text())
    by_uid = {d["uid"]: d for d in doc["datasources"]}
    for ds in ours.config["datasources"].values():
        assert by_uid[ds["uid"]]["type"] == ds["type"]
    pg = by_uid[ours.config["datasources"]["postgres"]["uid"]]
    assert pg["secureJsonData"]["password"].startswith("$"), "the password must come from the environment"
    prom = by_uid[ours.config["datasources"]["prometheus"]["uid"]]
    assert prom["jsonData"]["timeInterval"] == ours.config["scrapeInterval"]


def test_committed_files_equal_a_fresh_build(repo_root: Path, ours) -> None:
    """`nox -s build` would change nothing under infra/."""
    from bo1dash.cli import _compose_prometheus_config

    files = render(
        ours,
        paths.infra_dir(repo_root),
        prometheus_config=_compose_prometheus_config(paths.mixin_entry(repo_root), repo_root),
    )
    stale = [str(p.relative_to(repo_root)) for p, text in files.items() if not p.is_file() or p.read_text() != text]
    assert not stale, f"run `nox -s build` and commit: out of date {stale}"
    committed = {p for p in paths.dashboards_dir(paths.infra_dir(repo_root)).glob("*.json")}
    assert committed == {p for p in files if p.parent == paths.dashboards_dir(paths.infra_dir(repo_root))}


def test_a_compile_error_leaves_the_provisioned_tree_untouched(tmp_path: Path, repo_root: Path, ours) -> None:
    out = tmp_path / "infra"
    provision(ours, out)
    before = _snapshot(out)
    broken = tmp_path / "broken.jsonnet"
    broken.write_text(
        "(import 'mixin.libsonnet') + { grafanaDashboards+:: { 'api.json'+: { panels: error 'boom' } } }\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "bo1dash", "build", "--mixin", str(broken), "--out", str(out)],
        cwd=repo_root,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "broken.jsonnet:1" in result.stderr and "boom" in result.stderr
    assert _snapshot(out) == before


def test_an_inconsistent_mixin_writes_nothing(tmp_path: Path, ours) -> None:
    out = tmp_path / "infra"
    provision(ours, out)
    before = _snapshot(out)
    dashboards = dict(ours.dashboards)
    dashboards["copy.json"] = dict(dashboards["cost.json"], title="Another title")
    bad = replace(ours, dashboards=dashboards)
    with pytest.raises(ProvisionError, match="uid 'bo1-cost' is also used"):
        provision(bad, out)
    assert _snapshot(out) == before


def test_a_write_failure_leaves_no_half_written_tree(tmp_path: Path, ours) -> None:
    out = tmp_path / "infra"
    provision(ours, out)
    before = _snapshot(out)
    changed = dict(ours.dashboards)
    changed["api.json"] = dict(changed["api.json"], description="changed")
    newer = replace(ours, dashboards=changed)
    # The rules directory cannot be created: a file stands in its way.
    rules = paths.rules_dir(out)
    if rules.exists():
        shutil.rmtree(rules)
    rules.parent.mkdir(parents=True, exist_ok=True)
    rules.write_text("in the way")
    before = _snapshot(out)
    if newer.rules or newer.alerts:
        with pytest.raises(ProvisionError, match="rules"):
            provision(newer, out)
        assert _snapshot(out) == before, "nothing may change when a file cannot be staged"
    leftovers = [p for p in out.rglob(".*.tmp")]
    assert leftovers == []


def test_a_dashboard_dropped_from_the_mixin_is_removed(tmp_path: Path, ours) -> None:
    out = tmp_path / "infra"
    provision(ours, out)
    fewer = dict(ours.dashboards)
    del fewer["cost.json"]
    smaller = replace(ours, dashboards=fewer)
    result = provision(smaller, out)
    assert [p.name for p in result.removed] == ["cost.json"]
    assert not (paths.dashboards_dir(out) / "cost.json").exists()
    assert json.loads((paths.dashboards_dir(out) / "api.json").read_text())["uid"] == "bo1-api"


def test_build_with_out_writes_elsewhere_and_compile_errors_are_values(tmp_path: Path, repo_root: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bo1dash", "build", "--out", str(tmp_path / "o")],
        cwd=repo_root,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    built = sorted(p.name for p in paths.dashboards_dir(tmp_path / "o").glob("*.json"))
    assert built == ["api.json", "cost.json", "deliberation.json", "infrastructure.json"]
    assert isinstance(CompileError("f", 1, "m"), Exception)


@pytest.mark.parametrize("renames_before_kill", [0, 1, 2, 4])
def test_the_build_after_a_killed_one_finishes_the_job(
    tmp_path: Path, ours, monkeypatch, renames_before_kill: int
) -> None:
    """A run stopped between its renames (as by SIGKILL) leaves old and new files side by side and temp files;
    the next run leaves exactly what a clean build leaves, and removes the files the old build made. This
    build makes 5 renames: the manifest of old and new files, the 3 changed dashboards, the final manifest."""
    import bo1dash.provision as prov

    out = tmp_path / "out"
    provision(ours, out)
    fewer = dict(ours.dashboards)
    del fewer["cost.json"]
    changed = {name: dict(d, description=f"changed {name}") for name, d in fewer.items()}
    newer = replace(ours, dashboards=changed)

    real_replace = os.replace
    done = []

    def replace_then_die(src, dst):
        if len(done) == renames_before_kill:
            raise KeyboardInterrupt("killed between renames")
        done.append(dst)
        real_replace(src, dst)

    monkeypatch.setattr(prov.os, "replace", replace_then_die)
    with pytest.raises(KeyboardInterrupt):
        provision(newer, out)
    monkeypatch.setattr(prov.os, "replace", real_replace)

    provision(newer, out)
    clean = tmp_path / "clean"
    provision(newer, clean)
    assert _snapshot(out) == _snapshot(clean)


def test_the_committed_manifest_lists_what_the_build_writes(repo_root: Path, ours) -> None:
    """infra/.bo1dash-manifest.json is in step: a rebuild of a fresh clone removes exactly what it should."""
    from bo1dash.cli import _compose_prometheus_config
    from bo1dash.provision import MANIFEST_NAME

    infra = paths.infra_dir(repo_root)
    files = render(ours, infra, prometheus_config=_compose_prometheus_config(paths.mixin_entry(repo_root), repo_root))
    listed = json.loads((infra / MANIFEST_NAME).read_text())["files"]
    assert listed == sorted(p.relative_to(infra).as_posix() for p in files), "run `nox -s build` and commit infra/"
