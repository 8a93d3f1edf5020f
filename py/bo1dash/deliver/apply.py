"""Create or update the folder, the dashboards (and with `datasources`, the datasources) in a running Grafana.

One line per resource: created, updated or unchanged. An unchanged resource is not saved again (no new
dashboard version). A dry run reads the same and prints the same lines, and writes nothing. Nothing is ever
deleted. On a failure the report says what was done, what failed and what was not attempted; the next apply
continues (what was done shows as unchanged). Datasource secrets come from the environment, in memory only.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from bo1dash.deliver.client import Grafana
from bo1dash.deliver.errors import DeliverError
from bo1dash.deliver.normalize import normalize_dashboard
from bo1dash.deliver.resources import DashboardResource, Resources
from bo1dash.folder import Folder

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
SAVE_MESSAGE = "bo1dash apply"
# Datasource fields Grafana returns and apply compares; secrets are never returned (only secureJsonFields).
_DATASOURCE_FIELDS = ("name", "type", "uid", "access", "url", "user", "isDefault", "jsonData")
_ENV_REF = re.compile(r"\$\{(\w+)\}|\$(\w+)")


@dataclass(frozen=True)
class Step:
    kind: str  # "folder", "dashboard" or "datasource"
    uid: str
    title: str

    def __str__(self) -> str:
        return f'{self.kind} {self.uid} "{self.title}"'


@dataclass(frozen=True)
class Outcome:
    step: Step
    action: str  # created, updated, unchanged
    note: str = ""

    def line(self) -> str:
        return f"{self.action:<9} {self.step}" + (f" ({self.note})" if self.note else "")


@dataclass
class ApplyReport:
    dry_run: bool
    outcomes: list[Outcome] = field(default_factory=list)
    failures: list[tuple[Step, str]] = field(default_factory=list)
    not_attempted: list[Step] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures and not self.not_attempted

    def summary(self) -> list[str]:
        counts = {a: sum(o.action == a for o in self.outcomes) for a in (CREATED, UPDATED, UNCHANGED)}
        done = ", ".join(f"{n} {a}" for a, n in counts.items())
        if self.ok:
            tail = " (dry run: nothing changed in Grafana)" if self.dry_run else ""
            return [f"applied {len(self.outcomes)} resources: {done}{tail}"]
        lines = [f"apply incomplete: {len(self.outcomes)} done ({done})"]
        lines += [f"  failed:        {step}: {message}" for step, message in self.failures]
        lines += [f"  not attempted: {step}" for step in self.not_attempted]
        lines.append("fix the cause and run apply again: it continues where this one stopped")
        return lines


def apply(
    resources: Resources,
    grafana: Grafana,
    *,
    dry_run: bool = False,
    datasources: bool = False,
    env: Mapping[str, str] | None = None,
    emit: Callable[[str], None] = lambda line: None,
) -> ApplyReport:
    """Bring Grafana to `resources`; `emit` gets each resource's line as it is done."""
    env = os.environ if env is None else env
    report = ApplyReport(dry_run=dry_run)
    work: list[tuple[Step, Callable[[], Outcome]]] = []
    if datasources:
        # Every secret is looked up before anything is written: a missing variable changes nothing.
        bodies = [_datasource_body(entry, env) for entry in resources.datasources]
        for body in bodies:
            step = Step("datasource", body["uid"], body["name"])
            work.append((step, partial(_apply_datasource, grafana, step, body, dry_run)))
    folder = resources.folder
    if folder is not None:
        step = Step("folder", folder.uid, folder.title)
        work.append((step, partial(_apply_folder, grafana, step, folder, dry_run)))
    for dash in resources.dashboards:
        step = Step("dashboard", dash.uid, dash.title)
        work.append((step, partial(_apply_dashboard, grafana, step, dash, folder, dry_run)))

    for i, (step, run) in enumerate(work):
        try:
            outcome = run()
        except DeliverError as exc:
            report.failures.append((step, exc.message))
            emit(f"failed    {step}: {exc.message}")
            if exc.fatal or step.kind != "dashboard":  # the dashboards need the folder (and the datasources)
                report.not_attempted = [s for s, _ in work[i + 1 :]]
                break
            continue
        report.outcomes.append(outcome)
        emit(outcome.line())
    return report


# --- folder --------------------------------------------------------------------------------------


def _apply_folder(grafana: Grafana, step: Step, folder: Folder, dry_run: bool) -> Outcome:
    live = grafana.folder(folder.uid)
    if live is None:
        _check_title_free(grafana, folder)
        if not dry_run:
            try:
                grafana.create_folder(folder.uid, folder.title)
            except DeliverError as exc:
                raise _folder_refusal(grafana, folder, exc) from None
        return Outcome(step, CREATED)
    if live.get("title") == folder.title:
        return Outcome(step, UNCHANGED)
    _check_title_free(grafana, folder)
    if not dry_run:
        try:
            grafana.update_folder(folder.uid, folder.title, int(live.get("version") or 0))
        except DeliverError as exc:
            raise _folder_refusal(grafana, folder, exc) from None
    return Outcome(step, UPDATED, f"renamed from {live.get('title')!r}")


def _check_title_free(grafana: Grafana, folder: Folder) -> None:
    for other in grafana.folders():
        if str(other.get("title", "")).lower() == folder.title.lower() and other.get("uid") != folder.uid:
            raise _title_taken(folder, str(other.get("uid")))


def _title_taken(folder: Folder, other_uid: str) -> DeliverError:
    return DeliverError(
        f"the folder title {folder.title!r} is already used by folder uid {other_uid!r} in Grafana (file provisioning "
        f"without folderUid, or made by hand): move its dashboards and delete it, or change "
        f"_config.grafanaFolder.title; the mixin's folder uid is {folder.uid!r}",
        status=409,
    )


def _folder_refusal(grafana: Grafana, folder: Folder, exc: DeliverError) -> DeliverError:
    if exc.status == 409:
        others = [f for f in grafana.folders() if str(f.get("title", "")).lower() == folder.title.lower()]
        return _title_taken(folder, str(others[0].get("uid")) if others else "?")
    if exc.status == 412:
        return DeliverError(
            f"folder {folder.uid} was changed in Grafana while apply ran (412 version-mismatch): "
            "nothing was overwritten; run apply again",
            status=412,
        )
    return exc


# --- dashboards ----------------------------------------------------------------------------------


def _apply_dashboard(
    grafana: Grafana, step: Step, dash: DashboardResource, folder: Folder | None, dry_run: bool
) -> Outcome:
    folder_uid = folder.uid if folder else ""
    live = grafana.dashboard(dash.uid)
    model = copy.deepcopy(dash.model)
    if live is None:
        model["id"] = None
        model.pop("version", None)
        action, note = CREATED, ""
    else:
        meta = live.get("meta") or {}
        same_folder = (meta.get("folderUid") or "") == folder_uid
        if same_folder and normalize_dashboard(live["dashboard"]) == normalize_dashboard(dash.model):
            return Outcome(step, UNCHANGED)
        if meta.get("provisioned"):
            raise _provisioned(dash, str(meta.get("provisionedExternalId") or ""))
        model["id"] = live["dashboard"].get("id")
        model["version"] = live["dashboard"].get("version")
        action = UPDATED
        note = "" if same_folder else f"moved from folder {meta.get('folderTitle') or meta.get('folderUid')!r}"
    if not dry_run:
        try:
            grafana.save_dashboard(model, folder_uid, SAVE_MESSAGE)
        except DeliverError as exc:
            raise _dashboard_refusal(grafana, dash, folder_uid, exc) from None
    return Outcome(step, action, note)


def _provisioned(dash: DashboardResource, source: str) -> DeliverError:
    where = f" from {source}" if source else ""
    return DeliverError(
        f"Grafana holds dashboard {dash.uid} as file-provisioned{where} and refuses API saves of it: the two "
        "delivery paths don't mix for one uid; either keep file provisioning (nox -s build, Grafana reloads the "
        "files) or remove that dashboard provider from Grafana and deliver with apply",
        status=400,
    )


def _dashboard_refusal(grafana: Grafana, dash: DashboardResource, folder_uid: str, exc: DeliverError) -> DeliverError:
    if exc.status == 400 and "provisioned" in exc.message.lower():
        return _provisioned(dash, "")
    if exc.status == 412 and exc.grafana_status == "name-exists":
        hits = grafana.search(query=dash.title, type_="dash-db", folder_uids=[folder_uid] if folder_uid else None)
        others = [h["uid"] for h in hits if h.get("title") == dash.title and h.get("uid") != dash.uid]
        return DeliverError(
            f"a dashboard titled {dash.title!r} already exists in that folder under another uid "
            f"({', '.join(others) or 'unknown'}): delete or rename it in Grafana, or change the title in the mixin",
            status=412,
        )
    if exc.status == 412:
        return DeliverError(
            f"dashboard {dash.uid} was changed in Grafana while apply ran (412 version-mismatch): nothing was "
            "overwritten; run diff to see the change (pull to keep it), then apply again",
            status=412,
        )
    return exc


# --- datasources ---------------------------------------------------------------------------------


def _datasource_body(entry: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    body = {k: copy.deepcopy(entry[k]) for k in _DATASOURCE_FIELDS if k in entry}
    secrets: dict[str, str] = {}
    for key, value in sorted((entry.get("secureJsonData") or {}).items()):
        secrets[key] = _ENV_REF.sub(partial(_secret, entry, key, env), str(value))
    if secrets:
        body["secureJsonData"] = secrets
    return body


def _secret(entry: dict[str, Any], key: str, env: Mapping[str, str], match: re.Match[str]) -> str:
    variable = match.group(1) or match.group(2)
    if not env.get(variable):
        raise DeliverError(
            f"datasource {entry['uid']}: secureJsonData.{key} comes from ${variable}, which is not set: "
            f"export {variable} (it is sent to Grafana, never written to disk)",
            fatal=True,
        )
    return env[variable]


def _apply_datasource(grafana: Grafana, step: Step, body: dict[str, Any], dry_run: bool) -> Outcome:
    live = grafana.datasource(body["uid"])
    if live is None:
        if not dry_run:
            try:
                grafana.create_datasource(body)
            except DeliverError as exc:
                if exc.status == 409:
                    raise DeliverError(
                        f"Grafana already has a datasource named {body['name']!r} under another uid: rename or "
                        f"delete it, or set its uid to {body['uid']!r} in _config.datasources",
                        status=409,
                    ) from None
                raise
        return Outcome(step, CREATED)
    secure = set((body.get("secureJsonData") or {}).keys())
    visible_same = all(live.get(k) == v for k, v in body.items() if k not in ("secureJsonData", "jsonData"))
    json_same = all((live.get("jsonData") or {}).get(k) == v for k, v in (body.get("jsonData") or {}).items())
    secrets_set = secure <= {k for k, v in (live.get("secureJsonFields") or {}).items() if v}
    if visible_same and json_same and secrets_set:
        return Outcome(step, UNCHANGED)
    if live.get("readOnly"):
        raise DeliverError(
            f"Grafana holds datasource {body['uid']} as file-provisioned (read-only): the two delivery paths don't "
            "mix for one uid; leave --datasources out, or remove it from Grafana's datasource provisioning",
            status=403,
        )
    if not dry_run:
        grafana.update_datasource(body["uid"], {**body, "version": live.get("version")})
    return Outcome(step, UPDATED)
