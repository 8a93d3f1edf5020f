"""Opt-in: apply -> diff (clean) -> UI-style edit -> diff (exit 1) -> pull -> apply against a real Grafana.

Runs only when BO1DASH_TEST_GRAFANA_URL (and BO1DASH_TEST_GRAFANA_TOKEN, a service-account token with the
Editor role) name a running Grafana, e.g. the compose `monitoring` profile's on http://127.0.0.1:3001.
That Grafana file-provisions our dashboards, and the two delivery paths don't mix for one uid: the test
delivers the mixin under its own folder and uids (`-live` suffix), which it leaves in place.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from bo1dash.cli import main

URL = os.environ.get("BO1DASH_TEST_GRAFANA_URL", "")
TOKEN = os.environ.get("BO1DASH_TEST_GRAFANA_TOKEN", "")

pytestmark = pytest.mark.skipif(
    not (URL and TOKEN),
    reason="no real Grafana: set BO1DASH_TEST_GRAFANA_URL and BO1DASH_TEST_GRAFANA_TOKEN to run this test",
)

MIXIN = """
local bo1 = import 'mixin.libsonnet';
bo1 + { _config+:: {
  grafanaFolder+: { title: 'bo1 live test' },
  dashboardUids: { [k]: bo1._config.dashboardUids[k] + '-live' for k in std.objectFields(bo1._config.dashboardUids) },
} }
"""


def _bo1dash(monkeypatch, capsys, *argv: str) -> tuple[int, str]:
    monkeypatch.setenv("GRAFANA_URL", URL)
    monkeypatch.setenv("GRAFANA_TOKEN", TOKEN)
    for name in ("GRAFANA_USER", "GRAFANA_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out + err


def test_apply_diff_edit_pull_apply(monkeypatch, capsys, tmp_path: Path) -> None:
    mixin = tmp_path / "live.jsonnet"
    mixin.write_text(MIXIN)
    status, out = _bo1dash(monkeypatch, capsys, "apply", "--mixin", str(mixin))
    assert status == 0, out
    status, out = _bo1dash(monkeypatch, capsys, "diff", "--mixin", str(mixin))
    assert status == 0, out

    # A person edits the API dashboard in the UI: read, change, save with its version.
    headers = {"Authorization": f"Bearer {TOKEN}"}
    live = httpx.get(f"{URL}/api/dashboards/uid/bo1-api-live", headers=headers, timeout=30).json()
    live["dashboard"]["description"] = "edited in the UI by the live test"
    saved = httpx.post(
        f"{URL}/api/dashboards/db",
        json={"dashboard": live["dashboard"], "folderUid": live["meta"]["folderUid"], "message": "UI edit"},
        headers=headers,
        timeout=30,
    )
    assert saved.status_code == 200, saved.text

    status, out = _bo1dash(monkeypatch, capsys, "diff", "--mixin", str(mixin))
    assert status == 1 and "edited in the UI by the live test" in out
    status, out = _bo1dash(monkeypatch, capsys, "pull", "--mixin", str(mixin), "--out", str(tmp_path / "pulled"))
    assert status == 0, out
    pulled = json.loads((tmp_path / "pulled" / "bo1-api-live.json").read_text())
    assert pulled["description"] == "edited in the UI by the live test"

    status, out = _bo1dash(monkeypatch, capsys, "apply", "--mixin", str(mixin))
    assert status == 0 and "updated   dashboard bo1-api-live" in out
    status, out = _bo1dash(monkeypatch, capsys, "diff", "--mixin", str(mixin))
    assert status == 0, out
