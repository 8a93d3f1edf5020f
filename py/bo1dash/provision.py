"""Write a compiled mixin into Grafana's (and Prometheus') provisioning tree, atomically.

Everything is rendered in memory and checked first, every existing target is read and compared before the
first rename; changed files are then staged next to their targets and renamed into place, so an error leaves
what is already provisioned untouched. Output is deterministic: sorted keys, fixed indentation, trailing
newline. A hidden manifest (`.bo1dash-manifest.json` in the output directory) lists the files the build
wrote: a later build removes only those the mixin no longer makes, never a file it did not write.

What a kill (SIGKILL, power loss) in the middle can and cannot leave:
- it can leave some targets new and others old (each rename is atomic, the set of renames is not): the
  next build finishes the job, since it rewrites every file that differs;
- it can leave `.bo1dash-NAME.*.tmp` files beside the targets: the next build removes them first;
- it can leave a file of the earlier build that the mixin no longer makes: the manifest still lists it
  (it lists the earlier and the new files while the renames run), so the next build removes it;
- it cannot leave a half-written target (a target is only ever replaced by a rename of a complete,
  fsynced file), nor touch a file the build never wrote.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
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
    if compiled.rules:
        files[paths.rule_file(out_dir, "rules")] = dump_yaml(compiled.rules)
    if compiled.alerts:
        files[paths.rule_file(out_dir, "alerts")] = dump_yaml(compiled.alerts)
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


MANIFEST_NAME = ".bo1dash-manifest.json"
_TMP_PREFIX = ".bo1dash-"
_TMP_SUFFIX = ".tmp"


def write_atomically(
    files: dict[Path, str], out_dir: Path, *, prune: bool = True, manifest_name: str = MANIFEST_NAME
) -> ProvisionResult:
    """Write `files` (all under `out_dir`) so that an error changes nothing and a kill leaves whole files.

    1. Check `out_dir` and read every existing target (bytes) before anything is renamed: an unreadable
       target, a directory where a file goes, an `out_dir` that is a file or read-only is a ProvisionError.
    2. Remove temp files an interrupted earlier run left (`.bo1dash-*.tmp` beside the targets).
    3. Stage each changed file as a temp file beside its target (written and fsynced), then rename them into
       place. The manifest (`.bo1dash-manifest.json`, paths relative to `out_dir`) lists what this and the
       earlier build wrote while the renames run, then just what this build wrote.
    4. Remove the files an earlier build wrote (they are in the manifest) that this build no longer makes.
       A file the build never wrote (another team's dashboard, another rule file) is never touched.
    With `prune=False` (files that become the user's, e.g. pulled dashboards) no manifest is kept and nothing
    is removed. `manifest_name` names the manifest where a reader of the directory must not take it for one
    of its files (an export directory that `grr apply` reads: no `.json`/`.yaml` suffix).
    """
    out_dir = Path(out_dir)
    _check_out_dir(out_dir)
    manifest = out_dir / manifest_name
    earlier = _read_manifest(manifest) if prune else set()
    current = {_relative(t, out_dir) for t in files}
    changed: dict[Path, bytes] = {}
    for target, text in sorted(files.items()):
        data = text.encode("utf-8")
        if _existing_bytes(target) != data:
            changed[target] = data
    _remove_stale_temp_files([*files, *(out_dir / r for r in earlier), *([manifest] if prune else [])])
    staged: list[tuple[Path, Path]] = []
    try:
        for target, data in changed.items():
            staged.append((_stage(target, data), target))
        if prune and (changed or earlier != current):
            staged_manifest = _stage(manifest, _manifest_bytes(earlier | current))
            os.replace(staged_manifest, manifest)
    except OSError as exc:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise ProvisionError(
            f"{exc.filename or out_dir}: cannot write ({exc.strerror or exc}); nothing changed"
        ) from None
    for tmp, target in staged:
        os.replace(tmp, target)
    removed = []
    for rel in sorted(earlier - current):
        stale = out_dir / rel
        if stale.is_file() and not stale.is_symlink():
            stale.unlink()
            removed.append(stale)
    if prune and (earlier != current or not manifest.is_file()):
        os.replace(_stage(manifest, _manifest_bytes(current)), manifest)
    return ProvisionResult(written=[t for _, t in staged], removed=removed)


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise ProvisionError(f"--out {out_dir} is a file, not a directory; give a directory (it is created)")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ProvisionError(
            f"--out {out_dir}: cannot create it ({exc.strerror or exc}); give a writable directory"
        ) from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise ProvisionError(f"--out {out_dir} is not writable; give a writable directory or fix its permissions")


def _relative(target: Path, out_dir: Path) -> str:
    try:
        return target.relative_to(out_dir).as_posix()
    except ValueError:
        raise ProvisionError(f"{target} is outside the output directory {out_dir}; nothing written") from None


def _existing_bytes(target: Path) -> bytes | None:
    """What is at `target` now (None: nothing); read before anything is renamed."""
    if target.is_dir():
        raise ProvisionError(f"{target} is a directory; remove it so the build can write the file there")
    if not target.exists():
        return None
    try:
        return target.read_bytes()
    except OSError as exc:
        raise ProvisionError(f"{target}: cannot read it ({exc.strerror or exc}); nothing changed") from None


def _read_manifest(manifest: Path) -> set[str]:
    """The paths an earlier build wrote; only plain relative paths inside the output directory count."""
    if not manifest.is_file():
        return set()
    try:
        listed = json.loads(manifest.read_bytes())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        raise ProvisionError(
            f"{manifest} is not a bo1dash build manifest; remove it (the next build writes a new one)"
        ) from None
    return {
        rel
        for rel in listed
        if isinstance(rel, str) and rel and not Path(rel).is_absolute() and ".." not in Path(rel).parts
    }


def _manifest_bytes(files: set[str]) -> bytes:
    body = {"about": "files the last bo1dash build wrote here; a rebuild removes only these", "files": sorted(files)}
    return dump_json(body).encode("utf-8")


def _stage(target: Path, data: bytes) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f"{_TMP_PREFIX}{target.name}.", suffix=_TMP_SUFFIX, dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _remove_stale_temp_files(targets: list[Path]) -> None:
    """Temp files a killed run left beside the targets (`.bo1dash-NAME.*.tmp`, and `.NAME.*.tmp` of older builds)."""
    patterns = {(t.parent, f"{_TMP_PREFIX}*{_TMP_SUFFIX}") for t in targets}
    patterns |= {(t.parent, f".{t.name}.*{_TMP_SUFFIX}") for t in targets}
    for d, pattern in sorted(patterns):
        for tmp in d.glob(pattern) if d.is_dir() else []:
            if tmp.is_file() and not tmp.is_symlink():
                tmp.unlink(missing_ok=True)


def provision(
    compiled: CompiledMixin,
    out_dir: Path,
    *,
    prometheus_config: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> ProvisionResult:
    """Render, check and atomically write dashboards, provisioning files and rules under `out_dir`."""
    files = render(compiled, out_dir, prometheus_config=prometheus_config)
    return write_atomically(files, out_dir)
