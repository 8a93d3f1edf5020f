"""The run-specific Grafana provisioning copy points at the local stack, not at the compose services."""

from __future__ import annotations

import json
from pathlib import Path

import _jsonnet
import yaml

from bo1dash.stack.grafana import write_provisioning

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "infra" / "grafana" / "provisioning"


def repo_config() -> dict:
    snippet = "(import 'config.libsonnet')._config"
    return json.loads(_jsonnet.evaluate_snippet("cfg", snippet, jpathdir=[str(REPO / "jsonnet")]))


def test_provisioning_copy_points_at_this_stack(tmp_path: Path) -> None:
    config = repo_config()
    target = write_provisioning(
        SOURCE,
        tmp_path / "provisioning",
        config=config,
        prometheus_url="http://127.0.0.1:40001",
        postgres_address="127.0.0.1:40002",
        dashboards_dir=REPO / "infra" / "grafana" / "dashboards",
        scrape_interval="5s",
    )
    datasources = {}
    for path in (target / "datasources").glob("*.y*ml"):
        for ds in yaml.safe_load(path.read_text())["datasources"]:
            datasources[ds["uid"]] = ds
    prometheus = datasources[config["datasources"]["prometheus"]["uid"]]
    postgres = datasources[config["datasources"]["postgres"]["uid"]]
    assert prometheus["url"] == "http://127.0.0.1:40001"
    assert prometheus["jsonData"]["timeInterval"] == "5s"  # $__rate_interval follows this stack's scrapes
    assert postgres["url"] == "127.0.0.1:40002"
    assert postgres["user"] == "grafana_ro"
    assert postgres["secureJsonData"]["password"] == "$BO1_GRAFANA_PG_PASSWORD"  # still from the environment

    paths = [
        provider["options"]["path"]
        for path in (target / "dashboards").glob("*.y*ml")
        for provider in yaml.safe_load(path.read_text())["providers"]
    ]
    assert paths == [str((REPO / "infra" / "grafana" / "dashboards").resolve())]


def test_repo_provisioning_is_left_alone(tmp_path: Path) -> None:
    before = {p: p.read_bytes() for p in SOURCE.rglob("*") if p.is_file()}
    write_provisioning(
        SOURCE,
        tmp_path / "copy",
        config=repo_config(),
        prometheus_url="http://127.0.0.1:1",
        postgres_address="127.0.0.1:2",
        dashboards_dir=tmp_path,
        scrape_interval="5s",
    )
    assert {p: p.read_bytes() for p in SOURCE.rglob("*") if p.is_file()} == before


def test_without_dashboard_files_the_stack_grafana_gets_them_by_the_api(tmp_path: Path) -> None:
    """`bo1dash up` with Grafana installed: datasources by file, folder and dashboards by apply (one path per uid)."""
    from bo1dash.grafana.http_api import ADMIN, GrafanaState, serve
    from bo1dash.stack.grafana import apply_dashboards

    target = write_provisioning(
        SOURCE,
        tmp_path / "provisioning",
        config=repo_config(),
        prometheus_url="http://127.0.0.1:1",
        postgres_address="127.0.0.1:2",
        dashboards_dir=tmp_path,
        scrape_interval="5s",
        dashboards_by_file=False,
    )
    assert list((target / "dashboards").glob("*.y*ml")) == []
    assert list((target / "datasources").glob("*.y*ml"))

    state = GrafanaState(users={"admin": ("admin", ADMIN)})
    state.provision(target, REPO / "infra" / "grafana" / "dashboards")  # what Grafana loads at start: no dashboards
    assert state.dashboards == {}
    lines: list[str] = []
    with serve(state) as url:
        assert apply_dashboards(url, "admin", "admin", emit=lines.append)
    config = repo_config()
    assert set(state.dashboards) == set(config["dashboardUids"].values())
    assert {d.folder_uid for d in state.dashboards.values()} == {config["grafanaFolder"]["uid"]}
    assert sum(line.startswith("created") for line in lines) == 1 + len(config["dashboardUids"])
