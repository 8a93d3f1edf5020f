"""`bo1dash lint` wiring: given files never depend on our mixin; our own build reads _config's retention."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from bo1dash import paths


def _repo_with_a_broken_mixin(tmp_path: Path, repo_root: Path) -> Path:
    """A copy of the repository's jsonnet/ and infra/ whose mixin does not compile."""
    repo = tmp_path / "repo"
    shutil.copytree(repo_root / "jsonnet", repo / "jsonnet")
    shutil.copytree(paths.infra_dir(repo_root), paths.infra_dir(repo))
    shutil.copy(repo_root / "jsonnetfile.json", repo / "jsonnetfile.json")
    entry = paths.mixin_entry(repo)
    entry.write_text(entry.read_text() + "+ { _config+:: { retention: error 'broken on purpose' } }\n")
    return repo


def _lint(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, BO1DASH_REPO=str(repo))
    return subprocess.run(
        [sys.executable, "-m", "bo1dash", "lint", *args], cwd=repo, capture_output=True, text=True, env=env
    )


def test_linting_a_given_file_does_not_evaluate_our_mixin(tmp_path: Path, repo_root: Path) -> None:
    repo = _repo_with_a_broken_mixin(tmp_path, repo_root)
    outside = tmp_path / "theirs.json"
    shutil.copy(paths.dashboards_dir(paths.infra_dir(repo_root)) / "api.json", outside)
    result = _lint(repo, "--format", "json", str(outside))
    assert "Traceback" not in result.stderr and "broken on purpose" not in result.stdout + result.stderr
    findings = json.loads(result.stdout)
    assert result.returncode == (1 if any(f["severity"] == "error" for f in findings) else 0)


def test_linting_our_build_with_a_broken_mixin_is_one_line_naming_it(tmp_path: Path, repo_root: Path) -> None:
    repo = _repo_with_a_broken_mixin(tmp_path, repo_root)
    result = _lint(repo)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "mixin.libsonnet" in lines[0] and "broken on purpose" in lines[0], result.stderr
