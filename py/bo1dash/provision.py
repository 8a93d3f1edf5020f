"""Write a compiled mixin into Grafana's (and Prometheus') provisioning tree, atomically.

Everything is rendered in memory and checked first; files are then staged next to their targets and
renamed into place, so an error leaves what is already provisioned untouched. Output is
deterministic: sorted keys, fixed indentation, trailing newline.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bo1dash import paths
from bo1dash.compile import CompiledMixin
from bo1dash.folder import Folder, FolderError, mixin_folder

# Where Grafana finds the dashboards inside its container (the compose file mounts them there).
GRAFANA_DASHBOARDS_PATH = "/var/lib/grafana/dashboards"


class ProvisionError(Exception):
    """The compiled mixin cannot be provisioned; nothing was written."""


@dataclass(frozen=True)
class ProvisionResult:
    written: list[Path]
    removed: list[Path]


def dump_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def dump_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=True, default_flow_style=False, allow_unicode=True, width=1000)


def datasources_provisioning(config: dict[str, Any]) -> dict[str, Any]:
    """Grafana datasource provisioning for every datasource of `_config.datasources`."""
    out = []
    for key in sorted(config.get("datasources", {})):
        ds = config["datasources"][key]
        out.append(_datasource_entry(ds, is_default=(key == "prometheus")))
    return {"apiVersion": 1, "datasources": out}


def _datasource_entry(ds: dict[str, Any], *, is_default: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": ds["name"],
        "type": ds["type"],
        "uid": ds["uid"],
        "access": "proxy",
        "url": ds["url"],
        "isDefault": is_default,
        "editable": False,
    }
    if ds["type"] == "prometheus":
        entry["jsonData"] = {"timeInterval": ds.get("scrapeInterval", "15s"), "httpMethod": "POST"}
    elif ds["type"] in ("grafana-postgresql-datasource", "postgres"):
        entry["user"] = ds["user"]
        entry["jsonData"] = {
            "database": ds["database"],
            "sslmode": ds.get("sslmode", "disable"),
            "postgresVersion": 1500,
            "timescaledb": False,
            "maxOpenConns": 5,
        }
        # Grafana expands $VAR in provisioning files at start: the secret never lives in the repo.
        entry["secureJsonData"] = {"password": "$" + ds["passwordEnv"]}
    return entry


def dashboards_provider(folder: Folder | None, name: str = "bo1") -> dict[str, Any]:
    """The file provider of the dashboards: in `folder` (its uid too, so grizzly and the API agree), else General."""
    provider: dict[str, Any] = {
        "name": name,
        "folder": folder.title if folder else "",
        "type": "file",
        "disableDeletion": True,
        "allowUiUpdates": False,
        "updateIntervalSeconds": 30,
        "options": {"path": GRAFANA_DASHBOARDS_PATH, "foldersFromFilesStructure": False},
    }
    if folder:
        provider["folderUid"] = folder.uid
    return {"apiVersion": 1, "providers": [provider]}


def render(
    compiled: CompiledMixin,
    out_dir: Path,
    *,
    prometheus_config: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> dict[Path, str]:
    """Every file the build writes, path -> text. Raises ProvisionError when the mixin is inconsistent."""
    check_consistency(compiled)
    try:
        folder = mixin_folder(compiled)
    except FolderError as exc:
        raise ProvisionError(str(exc)) from None
    files: dict[Path, str] = {}
    dash_dir = paths.dashboards_dir(out_dir)
    for name in sorted(compiled.dashboards):
        files[dash_dir / name] = dump_json(compiled.dashboards[name])
    if "datasources" in compiled.config:  # another mixin may leave datasources to its Grafana
        files[paths.datasources_dir(out_dir) / "bo1.yml"] = dump_yaml(datasources_provisioning(compiled.config))
    files[paths.dashboard_providers_dir(out_dir) / "bo1.yml"] = dump_yaml(dashboards_provider(folder))
    rules_dir = paths.rules_dir(out_dir)
    if compiled.rules:
        files[rules_dir / "bo1-rules.yml"] = dump_yaml(compiled.rules)
    if compiled.alerts:
        files[rules_dir / "bo1-alerts.yml"] = dump_yaml(compiled.alerts)
    if prometheus_config is not None:
        files[out_dir / "prometheus" / "prometheus.yml"] = dump_yaml(prometheus_config(compiled.config))
    return files


def check_consistency(compiled: CompiledMixin) -> None:
    """Unique uids/titles, and every datasource uid provisioned by the same `_config` (when it has datasources)."""
    checks_datasources = "datasources" in compiled.config
    known_uids = {ds["uid"] for ds in compiled.config.get("datasources", {}).values()}
    seen_uids: dict[str, str] = {}
    seen_titles: dict[str, str] = {}
    problems: list[str] = []
    for name, dash in sorted(compiled.dashboards.items()):
        uid, title = dash["uid"], dash["title"]
        if uid in seen_uids:
            problems.append(f"{name}: uid {uid!r} is also used by {seen_uids[uid]}; give each dashboard its own uid")
        if title in seen_titles:
            problems.append(f"{name}: title {title!r} is also used by {seen_titles[title]}; rename one")
        seen_uids[uid], seen_titles[title] = name, name
        for panel in _panels(dash) if checks_datasources else []:
            for ref in _datasource_refs(panel):
                if ref not in known_uids and not ref.startswith("$"):
                    problems.append(
                        f"{name} ({uid}) panel {panel.get('title')!r}: datasource uid {ref!r} is not provisioned; "
                        f"use one of {sorted(known_uids)} from _config.datasources"
                    )
    if problems:
        raise ProvisionError("\n".join(problems))


def _panels(dash: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for panel in dash.get("panels", []):
        out.append(panel)
        out.extend(panel.get("panels", []))  # collapsed rows carry their panels
    return out


def _datasource_refs(panel: dict[str, Any]) -> set[str]:
    refs = set()
    for obj in [panel, *panel.get("targets", [])]:
        ds = obj.get("datasource")
        if isinstance(ds, dict) and ds.get("uid") and ds.get("type") not in ("datasource", "grafana"):
            refs.add(ds["uid"])
    return refs


def write_atomically(files: dict[Path, str], *, owned_dirs: Sequence[Path] = ()) -> ProvisionResult:
    """Stage every file beside its target, then rename all into place.

    Files in `owned_dirs` with the same suffix that the build no longer produces are removed after the
    new files are in place (a dashboard deleted from the mixin disappears from Grafana too).
    """
    for target in files:
        if target.is_dir():
            raise ProvisionError(f"{target} is a directory; remove it so the build can write the file there")
    staged: list[tuple[Path, Path]] = []
    try:
        for target, text in sorted(files.items()):
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.chmod(name, 0o644)
            staged.append((Path(name), target))
    except BaseException:
        for staged_file, _ in staged:
            staged_file.unlink(missing_ok=True)
        raise
    written = []
    for staged_file, target in staged:
        if target.exists() and target.read_text(encoding="utf-8") == files[target]:
            staged_file.unlink()
            continue
        os.replace(staged_file, target)
        written.append(target)
    removed = []
    for d in owned_dirs:
        wanted = {t for t in files if t.parent == d}
        suffixes = {t.suffix for t in wanted}
        for existing in sorted(d.glob("*")) if d.is_dir() else []:
            if existing.is_file() and existing.suffix in suffixes and existing not in wanted:
                existing.unlink()
                removed.append(existing)
    return ProvisionResult(written=written, removed=removed)


def provision(
    compiled: CompiledMixin,
    out_dir: Path,
    *,
    prometheus_config: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> ProvisionResult:
    """Render, check and atomically write dashboards, provisioning files and rules under `out_dir`."""
    files = render(compiled, out_dir, prometheus_config=prometheus_config)
    owned = [paths.dashboards_dir(out_dir), paths.rules_dir(out_dir)]
    return write_atomically(files, owned_dirs=owned)
