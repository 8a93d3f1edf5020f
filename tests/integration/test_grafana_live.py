"""apply -> diff (clean) -> UI-style edit -> diff (exit 1) -> pull -> apply -> diff (clean), through `bo1dash`.

Always against the Grafana stand-in; against a real Grafana only when BO1DASH_TEST_GRAFANA_URL (and
BO1DASH_TEST_GRAFANA_TOKEN, a service-account token with the Editor role) name one, e.g. the compose
`monitoring` profile's on http://127.0.0.1:3001. That Grafana file-provisions our dashboards, and the two
delivery paths don't mix for one uid: the sequence delivers the mixin under its own folder and uids (`-live`
suffix), which it leaves in place.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from bo1dash.cli import main
from bo1dash.grafana.http_api import EDITOR, GrafanaState, serve

LIVE_URL = os.environ.get("BO1DASH_TEST_GRAFANA_URL", "")
LIVE_TOKEN = os.environ.get("BO1DASH_TEST_GRAFANA_TOKEN", "")

MIXIN = """
local bo1 = import 'mixin.libsonnet';
bo1 + { _config+:: {
  grafanaFolder+: { title: 'bo1 live test' },
  dashboardUids: { [k]: bo1._config.dashboardUids[k] + '-live' for k in std.objectFields(bo1._config.dashboardUids) },
} }
"""


def _bo1dash(monkeypatch, capsys, url: str, token: str, *argv: str) -> tuple[int, str]:
    monkeypatch.setenv("GRAFANA_URL", url)
    monkeypatch.setenv("GRAFANA_TOKEN", token)
    for name in ("GRAFANA_USER", "GRAFANA_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out + err


def test_the_sequence_against_the_stand_in(monkeypatch, capsys, tmp_path: Path) -> None:
    state = GrafanaState(tokens={"glsa_editor": EDITOR})
    with serve(state) as url:
        _sequence(monkeypatch, capsys, tmp_path, url, "glsa_editor")
    assert state.dashboards["bo1-api-live"].version == 3  # created, edited in the UI, applied back


@pytest.mark.skipif(
    not (LIVE_URL and LIVE_TOKEN),
    reason="no real Grafana: set BO1DASH_TEST_GRAFANA_URL and BO1DASH_TEST_GRAFANA_TOKEN to run this test",
)
def test_the_sequence_against_a_real_grafana(monkeypatch, capsys, tmp_path: Path) -> None:
    _sequence(monkeypatch, capsys, tmp_path, LIVE_URL.rstrip("/"), LIVE_TOKEN)


def _sequence(monkeypatch, capsys, tmp_path: Path, url: str, token: str) -> None:
    mixin = tmp_path / "live.jsonnet"
    mixin.write_text(MIXIN)
    status, out = _bo1dash(monkeypatch, capsys, url, token, "apply", "--mixin", str(mixin))
    assert status == 0, out
    status, out = _bo1dash(monkeypatch, capsys, url, token, "diff", "--mixin", str(mixin))
    assert status == 0, out

    # A person edits the API dashboard in the UI: read, change, save with its version.
    headers = {"Authorization": f"Bearer {token}"}
    live = httpx.get(f"{url}/api/dashboards/uid/bo1-api-live", headers=headers, timeout=30).json()
    live["dashboard"]["description"] = "edited in the UI by the live test"
    saved = httpx.post(
        f"{url}/api/dashboards/db",
        json={"dashboard": live["dashboard"], "folderUid": live["meta"]["folderUid"], "message": "UI edit"},
        headers=headers,
        timeout=30,
    )
    assert saved.status_code == 200, saved.text

    status, out = _bo1dash(monkeypatch, capsys, url, token, "diff", "--mixin", str(mixin))
    assert status == 1 and "edited in the UI by the live test" in out
    status, out = _bo1dash(
        monkeypatch, capsys, url, token, "pull", "--mixin", str(mixin), "--out", str(tmp_path / "pulled")
    )
    assert status == 0, out
    pulled = json.loads((tmp_path / "pulled" / "bo1-api-live.json").read_text())
    assert pulled["description"] == "edited in the UI by the live test"

    status, out = _bo1dash(monkeypatch, capsys, url, token, "apply", "--mixin", str(mixin))
    assert status == 0 and "updated   dashboard bo1-api-live" in out
    status, out = _bo1dash(monkeypatch, capsys, url, token, "diff", "--mixin", str(mixin))
    assert status == 0, out
