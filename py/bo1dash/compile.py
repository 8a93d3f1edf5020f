"""Compile a Jsonnet mixin through the jsonnet bindings into dashboards, rules and its config.

Any mixin works: give its entry file. The import path puts the given vendor directories first (where
`jb install` puts grafonnet), then our grafonnet-compatible subset, then the entry's own directory.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _jsonnet

from bo1dash import paths

# Evaluated around the entry so the hidden fields (`_config` is `::`) come out too.
_EXTRACT = """
local m = import '%(entry)s';
local has(f) = std.objectHasAll(m, f);
{
  dashboards: if has('grafanaDashboards') then m.grafanaDashboards else {},
  config: if has('_config') then m._config else {},
  rules: if has('prometheusRules') then m.prometheusRules else null,
  alerts: if has('prometheusAlerts') then m.prometheusAlerts else null,
  folder: if has('grafanaDashboardFolder') then m.grafanaDashboardFolder else null,
}
"""


@dataclass(frozen=True)
class CompiledMixin:
    """What a mixin yields: dashboards by file name, its `_config`, rule and alert groups, folder title."""

    entry: Path
    dashboards: dict[str, dict[str, Any]]
    config: dict[str, Any]
    rules: dict[str, Any] | None = None
    alerts: dict[str, Any] | None = None
    import_path: tuple[Path, ...] = field(default_factory=tuple)
    folder: str | None = None  # `grafanaDashboardFolder`: the title of the dashboards' Grafana folder


class CompileError(Exception):
    """Jsonnet failed; `file` and `line` point at the source, `message` says what and how to fix."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file = file
        self.line = line
        self.message = message
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {message}")


def import_path(root: Path, vendor_dirs: list[Path] | None = None) -> list[Path]:
    """The Jsonnet import path, first match wins: extra vendor trees, vendor/, our grafonnet subset, jsonnet/."""
    extra = [Path(v).resolve() for v in (vendor_dirs or [])]
    return [*extra, paths.vendor_dir(root), paths.grafonnet_compat_dir(root), root / "jsonnet"]


def compile_mixin(entry: Path, *, root: Path | None = None, vendor_dirs: list[Path] | None = None) -> CompiledMixin:
    """Evaluate `entry` and return its dashboards, config, rules and alerts.

    Raises CompileError naming the Jsonnet file and line on any evaluation error, and when a
    dashboard is not an object with a uid and title.
    """
    entry = Path(entry).resolve()
    if not entry.is_file():
        raise CompileError(str(entry), None, "mixin entry file not found; pass the path of its mixin.libsonnet")
    root = root or paths.repo_root(entry.parent)
    jpath = import_path(root, vendor_dirs)
    snippet = _EXTRACT % {"entry": _jsonnet_string(str(entry))}
    # The jsonnet library searches its jpathdir right-most first: pass the path reversed.
    jpathdir = [str(p) for p in reversed(jpath) if p.is_dir()]
    try:
        out = _jsonnet.evaluate_snippet(str(entry.parent / "<bo1dash>"), snippet, jpathdir=jpathdir)
    except RuntimeError as exc:
        raise _compile_error(str(exc), entry) from None
    data = json.loads(out)
    dashboards = data["dashboards"]
    for name, dash in dashboards.items():
        _check_dashboard(entry, name, dash)
    return CompiledMixin(
        entry=entry,
        dashboards=dashboards,
        config=data["config"],
        rules=data["rules"],
        alerts=data["alerts"],
        import_path=tuple(jpath),
        folder=data["folder"],
    )


def _jsonnet_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


_LOCATION = re.compile(r"(?P<file>[^\s:()]+\.(?:libsonnet|jsonnet|json)):\(?(?P<line>\d+):(?P<col>\d+)")


def _compile_error(text: str, entry: Path) -> CompileError:
    """Turn the jsonnet library's error text into file + line + the first message line."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    message = lines[0] if lines else "jsonnet evaluation failed"
    message = re.sub(r"^(RUNTIME|STATIC) ERROR:\s*", "", message)
    for ln in lines:
        m = _LOCATION.search(ln)
        if m and "<bo1dash>" not in m.group("file"):
            file = m.group("file")
            if message.startswith(file):
                message = message.split(":", 3)[-1].strip() or message
            return CompileError(file, int(m.group("line")), f"{message} (fix the Jsonnet at this line)")
    return CompileError(str(entry), None, f"{message} (fix the mixin that {entry.name} imports)")


def _check_dashboard(entry: Path, name: str, dash: Any) -> None:
    if not name.endswith(".json"):
        raise CompileError(str(entry), None, f"grafanaDashboards key {name!r} must be a file name ending in .json")
    if not isinstance(dash, dict):
        raise CompileError(
            str(entry), None, f"grafanaDashboards[{name!r}] is not an object: build it with dashboard.new()"
        )
    for key in ("uid", "title"):
        if not dash.get(key):
            raise CompileError(
                str(entry), None, f"dashboard {name!r} has no {key}: set it with dashboard.with{key.capitalize()}()"
            )
