"""watch: a real `bo1dash watch` process rebuilds and lints on a change, reports a broken file, ends on Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from standin import StandIn

# A safety net for a hung process, not a timing goal: a rebuild takes seconds.
DEADLINE_SECONDS = 180


class Lines:
    """The process's output, line by line, read on a thread."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.queue.put(line.rstrip("\n"))
        self.queue.put(None)

    def until(self, wanted: str) -> str:
        while True:
            try:
                line = self.queue.get(timeout=DEADLINE_SECONDS)
            except queue.Empty:
                pytest.fail(f"no line with {wanted!r}; output so far:\n" + "\n".join(self.seen))
            if line is None:
                pytest.fail(f"watch ended before {wanted!r}; output:\n" + "\n".join(self.seen))
            self.seen.append(line)
            if wanted in line:
                return line


@contextlib.contextmanager
def _watch(tmp_path: Path, repo_root: Path, *extra: str, env: dict[str, str] | None = None):
    source = tmp_path / "src"
    source.mkdir()
    mixin = source / "mixin.jsonnet"
    mixin.write_text("(import 'mixin.libsonnet')\n")
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bo1dash", "watch", "--mixin", str(mixin), "--out", str(out), *extra],
        cwd=repo_root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    try:
        yield proc, Lines(proc), mixin, out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture
def watching(tmp_path: Path, repo_root: Path) -> Iterator[tuple[subprocess.Popen[str], Lines, Path, Path]]:
    with _watch(tmp_path, repo_root) as running:
        yield running


def test_watch_rebuilds_on_change_reports_errors_and_stops_on_ctrl_c(watching) -> None:
    proc, lines, mixin, out = watching
    lines.until("watching")
    first = lines.until("lint:")
    assert "built 4 dashboards" in first and "0 error(s)" in first
    api = out / "grafana" / "dashboards" / "api.json"
    assert api.is_file()

    mixin.write_text("(import 'mixin.libsonnet') + {\n  grafanaDashboards+:: { 'api.json'+: { title: } },\n}\n")
    failed = lines.until("build failed")
    assert "mixin.jsonnet:2" in failed  # the file and line of the error
    assert '"title": "bo1 / API"' in api.read_text(), "a failed build leaves the last good output"

    mixin.write_text("(import 'mixin.libsonnet') + { grafanaDashboards+:: { 'api.json'+: { title: 'API v2' } } }\n")
    lines.until("lint:")
    assert '"title": "API v2"' in api.read_text()

    proc.send_signal(signal.SIGINT)
    lines.until("watch stopped")
    assert proc.wait(timeout=DEADLINE_SECONDS) == 0
    assert not any("Traceback" in line for line in lines.seen)


def test_watch_apply_pushes_each_clean_build(tmp_path: Path, repo_root: Path, standin: StandIn) -> None:
    with _watch(tmp_path, repo_root, "--apply", env=standin.env) as (proc, lines, mixin, _):
        assert "0 error(s)" in lines.until("lint:")
        assert "created" in lines.until("applied")
        assert standin.state.dashboards["bo1-api"].version == 1
        mixin.write_text("(import 'mixin.libsonnet') + { grafanaDashboards+:: { 'api.json'+: { title: 'API v2' } } }\n")
        lines.until("lint:")
        assert "1 updated" in lines.until("applied")
        stored = standin.state.dashboards["bo1-api"]
        assert stored.version == 2 and stored.model["title"] == "API v2"
        proc.send_signal(signal.SIGINT)
        lines.until("watch stopped")
        assert proc.wait(timeout=DEADLINE_SECONDS) == 0
