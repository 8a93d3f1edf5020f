"""apply, diff and pull against the Grafana stand-in: created / updated / unchanged, dry run, round trip."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path

from standin import StandIn, ui_edit

from bo1dash.compile import compile_mixin
from bo1dash.deliver.apply import CREATED, UNCHANGED, UPDATED, apply
from bo1dash.deliver.diff import diff
from bo1dash.deliver.normalize import normalize_dashboard
from bo1dash.deliver.pull import pull
from bo1dash.deliver.resources import Resources, mixin_resources


def _actions(report) -> dict[str, str]:
    return {f"{o.step.kind}:{o.step.uid}": o.action for o in report.outcomes}


def test_first_apply_creates_the_folder_and_dashboards_in_it(standin: StandIn, resources: Resources) -> None:
    report = apply(resources, standin.client())
    assert report.ok
    assert set(_actions(report).values()) == {CREATED}
    folder = resources.folder
    assert standin.state.folders[folder.uid]["title"] == folder.title
    for dash in resources.dashboards:
        stored = standin.state.dashboards[dash.uid]
        assert stored.folder_uid == folder.uid and stored.version == 1
        assert normalize_dashboard(stored.model) == normalize_dashboard(dash.model)


def test_a_second_apply_saves_nothing(standin: StandIn, resources: Resources) -> None:
    apply(resources, standin.client())
    before = len(standin.writes())
    report = apply(resources, standin.client())
    assert report.ok and set(_actions(report).values()) == {UNCHANGED}
    assert len(standin.writes()) == before, "an unchanged resource must not be saved again"
    assert {d.version for d in standin.state.dashboards.values()} == {1}


def test_a_changed_dashboard_is_updated_alone(standin: StandIn, resources: Resources) -> None:
    apply(resources, standin.client())
    first = resources.dashboards[0]
    model = copy.deepcopy(first.model)
    model["description"] = "a new description"
    changed = replace(resources, dashboards=(replace(first, model=model), *resources.dashboards[1:]))
    report = apply(changed, standin.client())
    actions = _actions(report)
    assert actions.pop(f"dashboard:{first.uid}") == UPDATED
    assert set(actions.values()) == {UNCHANGED}
    stored = standin.state.dashboards[first.uid]
    assert stored.version == 2 and stored.model["description"] == "a new description"


def test_dry_run_prints_the_lines_of_the_real_apply_and_writes_nothing(standin: StandIn, resources: Resources) -> None:
    dry_lines: list[str] = []
    dry = apply(resources, standin.client(), dry_run=True, emit=dry_lines.append)
    assert dry.ok and standin.writes() == []
    assert not standin.state.folders and not standin.state.dashboards
    real_lines: list[str] = []
    apply(resources, standin.client(), emit=real_lines.append)
    assert dry_lines == real_lines and len(real_lines) == 1 + len(resources.dashboards)


def test_a_renamed_folder_is_retitled_in_place(standin: StandIn, resources: Resources) -> None:
    apply(resources, standin.client())
    folder = resources.folder
    standin.state.folders[folder.uid]["title"] = "renamed by hand"
    report = diff(resources, standin.client())
    assert report.differs and any("renamed" in d and folder.uid in d for d in report.differences)
    outcome = apply(resources, standin.client())
    assert _actions(outcome)[f"folder:{folder.uid}"] == UPDATED
    assert standin.state.folders[folder.uid]["title"] == folder.title
    assert not diff(resources, standin.client()).differs


def test_diff_is_clean_after_apply_and_shows_a_ui_edit(standin: StandIn, resources: Resources) -> None:
    before = diff(resources, standin.client())
    assert before.differs and len(before.differences) == 1 + len(resources.dashboards)  # all missing
    apply(resources, standin.client())
    assert not diff(resources, standin.client()).differs  # Grafana's id and version are not differences
    uid = resources.dashboards[0].uid
    ui_edit(standin, uid, lambda d: d.update(description="edited in the UI"))
    report = diff(resources, standin.client())
    assert report.differs and len(report.differences) == 1
    [text] = report.differences
    assert f"grafana/{uid}.json" in text and '-  "description": "edited in the UI"' in text


def test_pull_then_port_then_build_makes_diff_clean(
    tmp_path: Path, repo_root: Path, standin: StandIn, resources: Resources
) -> None:
    apply(resources, standin.client())
    api = next(d for d in resources.dashboards if d.file == "api.json")
    ui_edit(standin, api.uid, lambda d: d.update(description="ported from the UI"))
    written = pull(standin.client(), [d.uid for d in resources.dashboards], tmp_path / "pulled")
    assert [p.name for p in written] == sorted(f"{d.uid}.json" for d in resources.dashboards)
    pulled = json.loads((tmp_path / "pulled" / f"{api.uid}.json").read_text())
    assert pulled["description"] == "ported from the UI"
    assert not {"id", "version", "meta"} & set(pulled)
    # Port the edit to Jsonnet (a consumer of the mixin stands for the edited source), build, diff.
    ported = tmp_path / "ported.jsonnet"
    description = json.dumps(pulled["description"])
    ported.write_text(
        f"(import 'mixin.libsonnet') + {{ grafanaDashboards+:: {{ 'api.json'+: {{ description: {description} }} }} }}\n"
    )
    rebuilt = mixin_resources(compile_mixin(ported, root=repo_root))
    assert not diff(rebuilt, standin.client()).differs
    assert json.loads(normalize_dashboard(next(d for d in rebuilt.dashboards if d.uid == api.uid).model)) == pulled


def test_apply_never_deletes_and_diff_notes_what_only_grafana_has(standin: StandIn, resources: Resources) -> None:
    apply(resources, standin.client())
    kept = replace(resources, dashboards=resources.dashboards[1:])
    report = apply(kept, standin.client())
    assert report.ok and resources.dashboards[0].uid in standin.state.dashboards
    result = diff(kept, standin.client())
    assert not result.differs and any(resources.dashboards[0].uid in n for n in result.notes)


def test_datasources_get_their_secret_from_the_environment(standin: StandIn, resources: Resources, compiled) -> None:
    with_secret = {
        ds["uid"]: ds["passwordEnv"] for ds in compiled.config["datasources"].values() if "passwordEnv" in ds
    }
    assert with_secret
    env = {variable: f"secret-of-{uid}" for uid, variable in with_secret.items()}
    report = apply(resources, standin.client(), datasources=True, env=env)
    assert report.ok
    for uid in with_secret:
        assert standin.state.datasources[uid]["secureJsonData"]["password"] == f"secret-of-{uid}"
    assert {ds["uid"] for ds in standin.state.datasources.values()} == {e["uid"] for e in resources.datasources}
    again = apply(resources, standin.client(), datasources=True, env=env)
    assert {o.action for o in again.outcomes} == {UNCHANGED}


def test_a_dashboard_in_another_folder_is_moved_into_the_mixins(standin: StandIn, resources: Resources) -> None:
    apply(resources, standin.client())
    moved = resources.dashboards[0]
    standin.state.dashboards[moved.uid].folder_uid = ""  # someone moved it to General in the UI
    report = diff(resources, standin.client())
    assert [d for d in report.differences if moved.uid in d and "General" in d]
    outcome = apply(resources, standin.client())
    assert _actions(outcome)[f"dashboard:{moved.uid}"] == UPDATED
    assert standin.state.dashboards[moved.uid].folder_uid == resources.folder.uid
    assert not diff(resources, standin.client()).differs
