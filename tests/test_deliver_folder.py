"""One folder for every delivery path: grizzly's title -> uid rule, file provisioning, the API."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bo1dash import paths
from bo1dash.compile import CompileError, compile_mixin
from bo1dash.folder import grizzly_uid, mixin_folder
from bo1dash.provision import provision


def _provider(out: Path) -> dict:
    doc = yaml.safe_load((paths.dashboard_providers_dir(out) / "bo1.yml").read_text())
    [provider] = doc["providers"]
    return provider


def test_grizzly_keeps_letters_digits_dash_and_underscore() -> None:
    assert grizzly_uid("bo1 / prod-eu_2") == "bo1prod-eu_2"
    assert grizzly_uid("Café ü!") == "Caf"


def test_committed_provisioning_uses_the_folder_grizzly_derives(repo_root: Path) -> None:
    compiled = compile_mixin(paths.mixin_entry(repo_root), root=repo_root)
    provider = _provider(paths.infra_dir(repo_root))
    assert compiled.folder == compiled.config["grafanaFolder"]["title"]
    assert provider["folder"] == compiled.folder
    assert provider["folderUid"] == grizzly_uid(compiled.folder) == compiled.config["grafanaFolder"]["uid"]


def test_a_new_title_moves_every_path_to_the_derived_uid(tmp_path: Path, repo_root: Path) -> None:
    consumer = tmp_path / "consumer.jsonnet"
    consumer.write_text("(import 'mixin.libsonnet') + { _config+:: { grafanaFolder+: { title: 'bo1 / prod' } } }\n")
    compiled = compile_mixin(consumer, root=repo_root)
    folder = mixin_folder(compiled)
    assert folder is not None and (folder.uid, folder.title) == ("bo1prod", "bo1 / prod")
    provision(compiled, tmp_path / "out")
    provider = _provider(tmp_path / "out")
    assert (provider["folderUid"], provider["folder"]) == ("bo1prod", "bo1 / prod")


def test_a_uid_grizzly_would_not_derive_is_refused_at_its_line(tmp_path: Path, repo_root: Path) -> None:
    consumer = tmp_path / "consumer.jsonnet"
    consumer.write_text("(import 'mixin.libsonnet') + { _config+:: { grafanaFolder+: { uid: 'other' } } }\n")
    with pytest.raises(CompileError) as err:
        compile_mixin(consumer, root=repo_root)
    assert err.value.file.endswith("mixin.libsonnet") and err.value.line
    assert "grafanaFolder.uid" in err.value.message


def test_a_mixin_without_folder_lands_in_general_everywhere(tmp_path: Path, repo_root: Path) -> None:
    entry = tmp_path / "mixin.libsonnet"
    entry.write_text("{ grafanaDashboards+:: { 'x.json': { uid: 'x', title: 'X', panels: [] } } }\n")
    compiled = compile_mixin(entry, root=repo_root)
    assert mixin_folder(compiled) is None
    provision(compiled, tmp_path / "out")
    provider = _provider(tmp_path / "out")
    assert provider["folder"] == "" and "folderUid" not in provider
