"""Delivery tests: our mixin's resources (compiled once), the Grafana stand-in on a free port, a UI-style edit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bo1dash import paths
from bo1dash.compile import CompiledMixin, compile_mixin
from bo1dash.deliver.client import Grafana, open_grafana
from bo1dash.deliver.connection import connection_from_env
from bo1dash.deliver.resources import Resources, mixin_resources
from bo1dash.grafana.http_api import ADMIN, GrafanaState, serve

TOKEN = "glsa_stand_in_admin"
LOGIN, PASSWORD = "admin", "stand-in-password"


@pytest.fixture(scope="session")
def compiled(repo_root: Path) -> CompiledMixin:
    return compile_mixin(paths.mixin_entry(repo_root), root=repo_root)


@pytest.fixture(scope="session")
def resources(compiled: CompiledMixin) -> Resources:
    return mixin_resources(compiled)


@dataclass
class StandIn:
    state: GrafanaState
    url: str

    @property
    def env(self) -> dict[str, str]:
        return {"GRAFANA_URL": self.url, "GRAFANA_TOKEN": TOKEN}

    def client(self) -> Grafana:
        return open_grafana(connection_from_env(self.env))

    def writes(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p in self.state.requests if m in ("POST", "PUT", "DELETE")]


@pytest.fixture
def standin() -> Iterator[StandIn]:
    state = GrafanaState(tokens={TOKEN: ADMIN}, users={LOGIN: (PASSWORD, ADMIN)})
    with serve(state) as url:
        yield StandIn(state, url)


def ui_edit(standin: StandIn, uid: str, change) -> dict:
    """Edit a dashboard the way Grafana's UI saves it: read it, change it, save it with its version."""
    import httpx

    headers = {"Authorization": f"Bearer {TOKEN}"}
    live = httpx.get(f"{standin.url}/api/dashboards/uid/{uid}", headers=headers).json()
    model = live["dashboard"]
    change(model)
    body = {"dashboard": model, "folderUid": live["meta"]["folderUid"], "message": "edited in the UI"}
    answer = httpx.post(f"{standin.url}/api/dashboards/db", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return model
