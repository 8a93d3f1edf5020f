"""Compile a Jsonnet mixin into dashboards, rules and its config, through a pluggable Jsonnet engine.

Any mixin works: give its entry file. It may evaluate to a mixin object (`grafanaDashboards`, `_config`,
`prometheusRules`, `prometheusAlerts`) or, like the README's consumer snippet, to the `grafanaDashboards`
map itself. The import path puts the given vendor directories first (where `jb install` puts grafonnet),
then our grafonnet-compatible subset, then the entry's own directory. The engine (`jsonnet_engine`) is
rjsonnet, gojsonnet or the C++ jsonnet; all three give the same JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bo1dash import jsonnet_engine, paths

# Evaluated around the entry so the hidden fields (`_config` is `::`) come out too. An entry that is not a
# mixin object (no field of a mixin) is taken as the grafanaDashboards map.
_EXTRACT = """
local m = import '%(entry)s';
local has(f) = std.isObject(m) && std.objectHasAll(m, f);
local isMixin = std.length([f for f in ['grafanaDashboards', '_config', 'prometheusRules', 'prometheusAlerts'] if has(f)]) > 0;
{
  kind: if !std.isObject(m) then std.type(m) else if isMixin then 'mixin' else 'dashboards',
  dashboards: if isMixin then (if has('grafanaDashboards') then m.grafanaDashboards else {}) else if std.isObject(m) then m else {},
  config: if has('_config') then m._config else {},
  rules: if has('prometheusRules') then m.prometheusRules else null,
  alerts: if has('prometheusAlerts') then m.prometheusAlerts else null,
  folder: if has('grafanaDashboardFolder') then m.grafanaDashboardFolder else null,
}
"""

_WHAT_AN_ENTRY_IS = (
    "the entry must evaluate to a mixin object with grafanaDashboards (file name -> dashboard) "
    "or to that grafanaDashboards map itself"
)


@dataclass(frozen=True)
class CompiledMixin:
    """What a mixin yields: dashboards by file name, its `_config`, rule and alert groups, folder title."""

    entry: Path
    dashboards: dict[str, dict[str, Any]]
    config: dict[str, Any]
    rules: dict[str, Any] | None = None
    alerts: dict[str, Any] | None = None
    import_path: tuple[Path, ...] = field(default_factory=tuple)
    engine: str = jsonnet_engine.DEFAULT_ENGINE
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


def compile_mixin(
    entry: Path,
    *,
    root: Path | None = None,
    vendor_dirs: list[Path] | None = None,
    engine: str | None = None,
) -> CompiledMixin:
    """Evaluate `entry` and return its dashboards, config, rules and alerts.

    `engine` is a name of `jsonnet_engine.ENGINES` (default: $BO1DASH_JSONNET_ENGINE, else the fastest).
    Raises CompileError naming the Jsonnet file and line on any evaluation error, when a vendor directory
    does not exist, when the mixin yields no dashboard, and when a dashboard is not an object with a uid and
    title under a plain `.json` file name.
    """
    entry = Path(entry).resolve()
    if not entry.is_file():
        raise CompileError(str(entry), None, "mixin entry file not found; pass the path of its mixin.libsonnet")
    for vendor in vendor_dirs or []:
        if not Path(vendor).is_dir():
            raise CompileError(str(vendor), None, "--vendor directory does not exist; run `jb install` or fix the path")
    try:
        name = jsonnet_engine.resolve(engine)
    except jsonnet_engine.EngineUnavailable as exc:
        raise CompileError(str(entry), None, str(exc)) from None
    root = root or paths.repo_root(entry.parent)
    jpath = import_path(root, vendor_dirs)
    snippet = _EXTRACT % {"entry": _jsonnet_string(str(entry))}
    try:
        out = jsonnet_engine.evaluate(str(entry.parent / "<bo1dash>"), snippet, import_path=jpath, engine=name)
    except jsonnet_engine.JsonnetError as exc:
        raise _compile_error(exc, entry) from None
    data = json.loads(out)
    if data["kind"] not in ("mixin", "dashboards"):
        raise CompileError(str(entry), None, f"evaluates to a {data['kind']}; {_WHAT_AN_ENTRY_IS}")
    dashboards = data["dashboards"]
    if not dashboards:
        raise CompileError(str(entry), None, f"yields no dashboard; {_WHAT_AN_ENTRY_IS}")
    for key, dash in dashboards.items():
        _check_dashboard(entry, key, dash, data["kind"])
    return CompiledMixin(
        entry=entry,
        dashboards=dashboards,
        config=data["config"],
        rules=data["rules"],
        alerts=data["alerts"],
        import_path=tuple(jpath),
        engine=name,
        folder=data["folder"],
    )


def _jsonnet_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


_ASSERT_FAILED = re.compile(r"^assert(ion)? failed[.:]?\s*", re.IGNORECASE)


def _compile_error(exc: jsonnet_engine.JsonnetError, entry: Path) -> CompileError:
    if exc.file and exc.line:
        # The _config check (jsonnet/lib/config-check.libsonnet) names the consumer's key and its fix itself.
        told = _ASSERT_FAILED.sub("", exc.message)
        if told.startswith("_config."):
            return CompileError(exc.file, exc.line, told)
        return CompileError(exc.file, exc.line, f"{exc.message} (fix the Jsonnet at this line)")
    return CompileError(exc.file or str(entry), None, f"{exc.message} (fix the mixin that {entry.name} imports)")


def _check_dashboard(entry: Path, key: str, dash: Any, kind: str) -> None:
    hint = f"; {_WHAT_AN_ENTRY_IS}" if kind == "dashboards" else ""
    if not key.endswith(".json") or key != Path(key).name or "\\" in key or key.startswith("."):
        raise CompileError(
            str(entry),
            None,
            f"grafanaDashboards key {key!r} must be a plain file name ending in .json (no directory, not hidden){hint}",
        )
    if not isinstance(dash, dict):
        raise CompileError(
            str(entry), None, f"grafanaDashboards[{key!r}] is not an object: build it with dashboard.new(){hint}"
        )
    for field_name in ("uid", "title"):
        if not dash.get(field_name):
            raise CompileError(
                str(entry),
                None,
                f"dashboard {key!r} has no {field_name}: set it with dashboard.with{field_name.capitalize()}()",
            )
