"""What bad situations get: one line naming the fix, a non-zero exit, nothing written or half-written."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
import yaml
from standin import TOKEN, StandIn, ui_edit

from bo1dash import paths
from bo1dash.cli import main
from bo1dash.deliver.apply import CREATED, UNCHANGED, apply
from bo1dash.deliver.diff import diff
from bo1dash.deliver.errors import DeliverError
from bo1dash.deliver.resources import Resources
from bo1dash.stack.process import free_port


def _run(monkeypatch, capsys, env: dict[str, str], *argv: str) -> tuple[int, str, str]:
    for name in ("GRAFANA_URL", "GRAFANA_TOKEN", "GRAFANA_USER", "GRAFANA_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# --- credentials and address ---------------------------------------------------------------------


def test_a_wrong_token_names_grafana_token_and_writes_nothing(
    monkeypatch, capsys, tmp_path: Path, standin: StandIn
) -> None:
    env = {"GRAFANA_URL": standin.url, "GRAFANA_TOKEN": "glsa_wrong"}
    status, _, err = _run(monkeypatch, capsys, env, "apply")
    assert status == 1 and "GRAFANA_TOKEN" in _one_line(err) and "401" in err
    status, _, err = _run(monkeypatch, capsys, env, "pull", "--out", str(tmp_path / "pulled"))
    assert status == 1 and "GRAFANA_TOKEN" in _one_line(err)
    assert not (tmp_path / "pulled").exists()
    status, _, err = _run(monkeypatch, capsys, env, "diff")
    assert status == 2 and "GRAFANA_TOKEN" in _one_line(err)
    assert standin.writes() == [] and not standin.state.folders and not standin.state.dashboards


def test_a_wrong_password_names_the_user_variables(monkeypatch, capsys, standin: StandIn) -> None:
    env = {"GRAFANA_URL": standin.url, "GRAFANA_USER": "admin", "GRAFANA_PASSWORD": "wrong"}
    status, _, err = _run(monkeypatch, capsys, env, "apply", "--dry-run")
    line = _one_line(err)
    assert status == 1 and "GRAFANA_USER" in line and "GRAFANA_PASSWORD" in line
    assert standin.writes() == []


def test_missing_credentials_name_what_to_set(monkeypatch, capsys, standin: StandIn) -> None:
    status, _, err = _run(monkeypatch, capsys, {"GRAFANA_URL": standin.url}, "apply")
    assert status == 1 and "GRAFANA_TOKEN" in _one_line(err)
    status, _, err = _run(monkeypatch, capsys, {"GRAFANA_TOKEN": TOKEN}, "diff")
    assert status == 2 and "GRAFANA_URL" in _one_line(err)
    assert standin.state.requests == []


def test_an_unreachable_address_is_one_line(monkeypatch, capsys) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    status, _, err = _run(monkeypatch, capsys, {"GRAFANA_URL": url, "GRAFANA_TOKEN": TOKEN}, "apply")
    line = _one_line(err)
    assert status == 1 and url in line and "GRAFANA_URL" in line
    status, _, err = _run(monkeypatch, capsys, {"GRAFANA_TOKEN": TOKEN}, "diff", "--grafana-url", url)
    assert status == 2 and "--grafana-url" in _one_line(err)


def test_a_missing_datasource_secret_names_the_variable_before_any_write(
    standin: StandIn, resources: Resources, compiled
) -> None:
    variables = [ds["passwordEnv"] for ds in compiled.config["datasources"].values() if "passwordEnv" in ds]
    with pytest.raises(DeliverError) as err:
        apply(resources, standin.client(), datasources=True, env={})
    assert variables[0] in err.value.message
    assert standin.writes() == []


# --- the two delivery paths ----------------------------------------------------------------------


def _provisioning(repo_root: Path, tmp_path: Path, *, folder_uid: bool) -> tuple[Path, Path]:
    """A copy of our provisioning and dashboards, as a Grafana with file provisioning has them."""
    infra = paths.infra_dir(repo_root)
    provisioning = tmp_path / "provisioning"
    shutil.copytree(infra / "grafana" / "provisioning", provisioning)
    if not folder_uid:  # as the provider was before it named the folder's uid
        provider_file = provisioning / "dashboards" / "bo1.yml"
        doc = yaml.safe_load(provider_file.read_text())
        for provider in doc["providers"]:
            provider.pop("folderUid", None)
        provider_file.write_text(yaml.safe_dump(doc))
    dashboards = tmp_path / "dashboards"
    shutil.copytree(paths.dashboards_dir(infra), dashboards)
    return provisioning, dashboards


def test_file_provisioning_and_apply_share_the_folder(
    tmp_path: Path, repo_root: Path, standin: StandIn, resources: Resources
) -> None:
    standin.state.provision(*_provisioning(repo_root, tmp_path, folder_uid=True))
    report = apply(resources, standin.client())
    assert report.ok and {o.action for o in report.outcomes} == {UNCHANGED}  # same folder, same dashboards
    assert standin.writes() == []


def test_a_file_provisioned_dashboard_is_explained_not_overwritten(
    tmp_path: Path, repo_root: Path, standin: StandIn, resources: Resources
) -> None:
    provisioning, dashboards = _provisioning(repo_root, tmp_path, folder_uid=True)
    api = json.loads((dashboards / "api.json").read_text())
    api["description"] = "an older build, loaded from a file"
    (dashboards / "api.json").write_text(json.dumps(api))
    standin.state.provision(provisioning, dashboards)
    report = apply(resources, standin.client())
    [(step, message)] = report.failures
    assert step.uid == api["uid"] and "file-provisioned" in message and "don't mix" in message
    assert report.not_attempted == [] and len(report.outcomes) == len(resources.dashboards)  # the others went on
    assert standin.state.dashboards[api["uid"]].model["description"] == "an older build, loaded from a file"
    # Grafana's own answer to such a save, and how the client words it.
    model = {**api, "id": standin.state.dashboards[api["uid"]].id, "version": 1}
    with pytest.raises(DeliverError) as err:
        standin.client().save_dashboard(model, "bo1", "direct save")
    assert err.value.status == 400 and "Cannot save provisioned dashboard" in err.value.message


def test_a_folder_title_taken_by_another_uid_stops_before_the_dashboards(
    tmp_path: Path, repo_root: Path, standin: StandIn, resources: Resources
) -> None:
    standin.state.provision(*_provisioning(repo_root, tmp_path, folder_uid=False))
    [(other_uid, other)] = standin.state.folders.items()
    assert other["title"] == resources.folder.title and other_uid != resources.folder.uid
    report = apply(resources, standin.client())
    [(step, message)] = report.failures
    assert step.kind == "folder" and other_uid in message and "grafanaFolder.title" in message
    assert [s.uid for s in report.not_attempted] == [d.uid for d in resources.dashboards]
    assert standin.writes() == [] and list(standin.state.folders) == [other_uid]


def test_a_concurrent_save_answers_412_and_is_not_overwritten(standin: StandIn, resources: Resources) -> None:
    apply(resources, standin.client())
    target = resources.dashboards[0]
    changed = copy.deepcopy(target.model)
    changed["description"] = "the build's new description"
    rebuilt = Resources(
        resources.folder,
        (type(target)(target.uid, target.title, target.file, changed), *resources.dashboards[1:]),
        resources.datasources,
        resources.rule_groups,
    )
    handle = standin.state.handle
    interleaved: list[str] = []

    def someone_saves_first(method, target_url, headers, body):
        # Between apply's read and its save, a person saves the same dashboard in the UI.
        if method == "POST" and target_url.startswith("/api/dashboards/db") and not interleaved:
            interleaved.append(target.uid)
            standin.state.handle = handle
            ui_edit(standin, target.uid, lambda d: d.update(description="saved in the UI meanwhile"))
        return handle(method, target_url, headers, body)

    standin.state.handle = someone_saves_first  # type: ignore[method-assign]
    report = apply(rebuilt, standin.client())
    standin.state.handle = handle  # type: ignore[method-assign]
    [(step, message)] = report.failures
    assert step.uid == target.uid and "412" in message and "version-mismatch" in message
    stored = standin.state.dashboards[target.uid]
    assert stored.model["description"] == "saved in the UI meanwhile" and stored.version == 2
    assert diff(rebuilt, standin.client()).differs


def test_an_apply_cut_off_half_way_says_what_it_did_and_the_next_completes_it(
    standin: StandIn, resources: Resources
) -> None:
    standin.state.writes_left = 3  # folder and two dashboards go through, then Grafana goes away
    lines: list[str] = []
    report = apply(resources, standin.client(), emit=lines.append)
    assert not report.ok
    assert [o.step.kind for o in report.outcomes] == ["folder", "dashboard", "dashboard"]
    assert {o.action for o in report.outcomes} == {CREATED}
    [(failed, message)] = report.failures
    assert failed.uid == resources.dashboards[2].uid and "503" in message
    assert [s.uid for s in report.not_attempted] == [d.uid for d in resources.dashboards[3:]]
    summary = "\n".join(report.summary())
    assert failed.uid in summary and all(s.uid in summary for s in report.not_attempted)
    assert sorted(standin.state.dashboards) == sorted(d.uid for d in resources.dashboards[:2])

    standin.state.writes_left = None  # Grafana is back
    again = apply(resources, standin.client())
    assert again.ok
    actions = {o.step.uid: o.action for o in again.outcomes}
    assert [actions[d.uid] for d in resources.dashboards] == [UNCHANGED, UNCHANGED] + [CREATED] * (
        len(resources.dashboards) - 2
    )
    assert not diff(resources, standin.client()).differs


def test_file_provisioned_datasources_are_left_to_their_files(
    tmp_path: Path, repo_root: Path, standin: StandIn, resources: Resources, compiled
) -> None:
    env = {ds["passwordEnv"]: "pw" for ds in compiled.config["datasources"].values() if "passwordEnv" in ds}
    provisioning, dashboards = _provisioning(repo_root, tmp_path, folder_uid=True)
    standin.state.provision(provisioning, dashboards, env)
    same = apply(resources, standin.client(), datasources=True, env=env)
    assert same.ok and {o.action for o in same.outcomes} == {UNCHANGED}

    prometheus = compiled.config["datasources"]["prometheus"]["uid"]
    standin.state.datasources[prometheus]["url"] = "http://another-prometheus:9090"  # the file says otherwise
    report = apply(resources, standin.client(), datasources=True, env=env)
    [(step, message)] = report.failures
    assert step.uid == prometheus and "read-only" in message and "don't mix" in message
    assert [s.kind for s in report.not_attempted] == ["folder"] + ["dashboard"] * len(resources.dashboards)
    assert standin.writes() == []


def test_a_title_taken_in_the_folder_by_another_uid_is_named(standin: StandIn, resources: Resources) -> None:
    import httpx

    headers = {"Authorization": f"Bearer {TOKEN}"}
    folder = resources.folder
    target = resources.dashboards[0]
    httpx.post(f"{standin.url}/api/folders", json={"uid": folder.uid, "title": folder.title}, headers=headers)
    made_by_hand = {"dashboard": {"uid": "made-by-hand", "title": target.title}, "folderUid": folder.uid}
    assert httpx.post(f"{standin.url}/api/dashboards/db", json=made_by_hand, headers=headers).status_code == 200
    report = apply(resources, standin.client())
    [(step, message)] = report.failures
    assert step.uid == target.uid and "made-by-hand" in message and "412" not in message
    assert target.uid not in standin.state.dashboards
    assert len(report.outcomes) == len(resources.dashboards)  # the folder and the other dashboards went on
