"""`bo1dash build` as a user runs it: bad mixins, odd keys and paths, other people's files, interrupted runs.

Every refusal is one line on stderr naming the file or key, exit 1, no traceback, nothing written.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bo1dash import paths

CORPUS = Path(__file__).parent / "bad_inputs" / "build"
CASES = sorted(CORPUS.glob("*.jsonnet"))


def _build(repo_root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bo1dash", "build", *args], cwd=repo_root, capture_output=True, text=True
    )


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _assert_one_line_refusal(result: subprocess.CompletedProcess[str], names: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert re.search(names, lines[0]), f"{names!r} not in {lines[0]!r}"


def test_the_corpus_has_cases() -> None:
    assert len(CASES) >= 10


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_a_bad_mixin_is_refused_in_one_line_and_nothing_is_written(tmp_path: Path, repo_root: Path, case: Path) -> None:
    header = case.read_bytes().splitlines()[0].decode()
    assert header.startswith("// names: "), f"{case.name}: first line must say what the message names"
    names = header.removeprefix("// names: ").replace("{file}", re.escape(str(case)))
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("someone else's\n")
    outside = [tmp_path.parent / "x.json", tmp_path / "x.json", Path("/tmp/bo1dash-absolute-x.json")]
    for path in outside:  # what a build that follows such keys would write (a run of an older build left some)
        path.unlink(missing_ok=True)
    result = _build(repo_root, "--mixin", str(case), "--out", str(out))
    _assert_one_line_refusal(result, names)
    assert _snapshot(out) == {"keep.txt": b"someone else's\n"}
    assert not [p for p in outside if p.exists()]


def test_the_readme_consumer_snippet_builds_its_dashboards(tmp_path: Path, repo_root: Path) -> None:
    """The README's snippet evaluates to the grafanaDashboards map, not a mixin object: it builds all of them."""
    readme = (repo_root / "README.md").read_text()
    snippet = re.search(r"```jsonnet\n(local bo1 = .*?)```", readme, re.S)
    assert snippet, "README.md lost its consumer snippet"
    text = snippet.group(1).replace("github.com/<you>/bo1-dashboards/jsonnet/mixin.libsonnet", "mixin.libsonnet")
    consumer = tmp_path / "consumer.jsonnet"
    consumer.write_text(text)
    out = tmp_path / "out"
    result = _build(repo_root, "--mixin", str(consumer), "--out", str(out))
    assert result.returncode == 0, result.stderr
    built = sorted(p.name for p in paths.dashboards_dir(out).glob("*.json"))
    assert built == sorted(p.name for p in paths.dashboards_dir(paths.infra_dir(repo_root)).glob("*.json"))
    uids = {t["datasource"]["uid"] for p in paths.dashboards_dir(out).glob("*.json") for t in _targets(p)}
    assert "thanos" in uids, "the consumer's override reached the dashboards"


def _targets(path: Path) -> list[dict]:
    dashboard = json.loads(path.read_text())
    return [t for panel in dashboard["panels"] for t in panel.get("targets", [])]


def test_out_that_is_a_file_is_refused(tmp_path: Path, repo_root: Path) -> None:
    out = tmp_path / "infra"
    out.write_text("not a directory\n")
    _assert_one_line_refusal(_build(repo_root, "--out", str(out)), re.escape(str(out)))
    assert out.read_text() == "not a directory\n"


def test_out_that_is_read_only_is_refused(tmp_path: Path, repo_root: Path) -> None:
    out = tmp_path / "infra"
    out.mkdir()
    command = [sys.executable, "-m", "bo1dash", "build", "--out", str(out)]
    if os.geteuid() == 0:  # root writes through permission bits: make it a read-only file system instead
        if not shutil.which("unshare"):
            pytest.fail("unshare (util-linux) is needed to test a read-only --out as root")
        script = f'mount -t tmpfs -o ro bo1dash-ro "{out}" && exec "$@"'
        command = ["unshare", "--mount", "sh", "-c", script, "sh", *command]
    else:
        out.chmod(0o555)
    result = subprocess.run(command, cwd=repo_root, capture_output=True, text=True)
    out.chmod(0o755)
    _assert_one_line_refusal(result, re.escape(str(out)))
    assert list(out.iterdir()) == []


def test_a_vendor_directory_that_does_not_exist_is_refused(tmp_path: Path, repo_root: Path) -> None:
    missing = tmp_path / "vendor-typo"
    result = _build(repo_root, "--vendor", str(missing), "--out", str(tmp_path / "out"))
    _assert_one_line_refusal(result, re.escape(str(missing)))
    assert not (tmp_path / "out").exists()


def test_files_the_build_never_wrote_are_kept_and_its_own_stale_files_removed(tmp_path: Path, repo_root: Path) -> None:
    out = tmp_path / "shared-provisioning"
    theirs = {
        paths.dashboards_dir(out) / "another-team.json": '{"uid": "theirs"}\n',
        paths.rules_dir(out) / "another-team-rules.yml": "groups: []\n",
    }
    for path, text in theirs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    fewer = tmp_path / "fewer.jsonnet"
    fewer.write_text(
        "local m = import 'mixin.libsonnet';\nm + { grafanaDashboards:: { 'api.json': m.grafanaDashboards['api.json'] } }\n"
    )
    assert _build(repo_root, "--out", str(out)).returncode == 0
    assert (paths.dashboards_dir(out) / "cost.json").is_file()
    result = _build(repo_root, "--mixin", str(fewer), "--out", str(out))
    assert result.returncode == 0, result.stderr
    left = sorted(p.name for p in paths.dashboards_dir(out).glob("*.json"))
    assert left == ["another-team.json", "api.json"], "only the build's own dropped dashboards go"
    assert all(path.read_text() == text for path, text in theirs.items())
    # A rebuild of the whole mixin brings them back and still leaves the other team's files alone.
    assert _build(repo_root, "--out", str(out)).returncode == 0
    assert len(list(paths.dashboards_dir(out).glob("*.json"))) == 5
    assert all(path.read_text() == text for path, text in theirs.items())


def test_a_target_that_is_not_utf8_is_replaced_and_nothing_is_left_behind(tmp_path: Path, repo_root: Path) -> None:
    out = tmp_path / "out"
    assert _build(repo_root, "--out", str(out)).returncode == 0
    fresh = _snapshot(out)
    api = paths.dashboards_dir(out) / "api.json"
    api.write_bytes(b"\xff\xfe not utf-8 \x80")
    result = _build(repo_root, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert _snapshot(out) == fresh
    assert not [p for p in out.rglob("*.tmp")]


def test_a_failing_build_reads_everything_first_and_changes_nothing(tmp_path: Path, repo_root: Path) -> None:
    """One target cannot be read (a directory stands where a file goes): no other target may change."""
    out = tmp_path / "out"
    assert _build(repo_root, "--out", str(out)).returncode == 0
    changed = tmp_path / "changed.jsonnet"
    changed.write_text("(import 'mixin.libsonnet') + { _config+:: { dashboardTitlePrefix: 'shop / ' } }\n")
    rules = paths.rules_dir(out) / "bo1-rules.yml"
    rules.unlink()
    rules.mkdir()
    before = _snapshot(out)
    result = _build(repo_root, "--mixin", str(changed), "--out", str(out))
    _assert_one_line_refusal(result, re.escape(str(rules)))
    assert _snapshot(out) == before
    assert not [p for p in out.rglob("*.tmp")]


def test_temp_files_of_an_interrupted_run_are_cleaned_up(tmp_path: Path, repo_root: Path) -> None:
    out = tmp_path / "out"
    assert _build(repo_root, "--out", str(out)).returncode == 0
    dashboards = paths.dashboards_dir(out)
    # What a run killed between staging and renaming leaves: this build's and an older build's temp names.
    left = [dashboards / ".bo1dash-api.json.k1ll3d.tmp", dashboards / ".cost.json.abc123.tmp"]
    for path in left:
        path.write_text("{half")
    assert _build(repo_root, "--out", str(out)).returncode == 0
    assert not any(p.exists() for p in left)
