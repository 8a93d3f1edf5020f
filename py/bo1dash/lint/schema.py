"""Grafana 11 schema: the dashboard, each panel (per-type Options and FieldConfig) and each query.

Two sources of the same knowledge:
- `JsonSchemaSource(dir)`: Grafana's published JSON Schema files (dashboard.jsonschema.json,
  `<panel type>.jsonschema.json` with Options/FieldConfig, `<datasource>.jsonschema.json` with dataquery).
- `SdkSource()`: the grafana-foundation-sdk 11.6 models (no files needed): a value is decoded with the
  model's `from_json` and encoded again; a key the model drops is a key Grafana 11.6 does not know.
  It checks keys and structure only, not enum values.

What Grafana stores is what is checked, and what Grafana accepts is not an error:
- `required` in the schema mostly marks fields that have a default; Grafana fills them in, so a
  missing one is not reported (except the panel type, gridPos fields and a query's refId/expr);
- a key set to null counts as unset; keys starting with `__` (export metadata) are left to the
  datasource rule;
- a few keys Grafana's query editors write but the schema lacks are accepted (QUERY_EXTRAS).
Deprecated Angular panel types are errors (Grafana 11 no longer renders them).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import jsonschema

from bo1dash.lint.model import (
    ERROR,
    WARNING,
    Dashboard,
    Finding,
    LintContext,
    datasource_ref,
    iter_targets,
    panel_title,
)

ANGULAR_PANELS = {
    "graph": "timeseries",
    "singlestat": "stat",
    "table-old": "table",
    "grafana-singlestat-panel": "stat",
    "grafana-piechart-panel": "piechart",
    "grafana-worldmap-panel": "geomap",
    "natel-discrete-panel": "state-timeline",
    "grafana-polystat-panel": "stat or a newer polystat",
    "briangann-gauge-panel": "gauge",
    "vonage-status-panel": "stat",
    "btplc-status-dot-panel": "stat",
    "savantly-heatmap-panel": "heatmap",
    "michaeldmoore-annunciator-panel": "stat",
    "jdbranham-diagram-panel": "canvas or nodeGraph",
}
# Panel types whose plugin id differs from the schema file name.
PANEL_SCHEMA_FILES = {"state-timeline": "statetimeline", "status-history": "statushistory"}
# Datasource type -> query schema file.
QUERY_SCHEMA_FILES = {
    "prometheus": "prometheus",
    "loki": "loki",
    "__expr__": "expr",
    "tempo": "tempo",
    "grafana-testdata-datasource": "testdata",
    "elasticsearch": "elasticsearch",
}
# Keys Grafana's query editors store although the dataquery schema does not list them.
QUERY_EXTRAS = frozenset(
    {
        "intervalMs",
        "maxDataPoints",
        "step",
        "useBackend",
        "disableTextWrap",
        "fullMetaSearch",
        "includeNullMetadata",
        "utcOffsetSec",
        "key",
        "datasourceId",
    }
)
KEEP_REQUIRED = {"GridPos": None, "dataquery": None, "Panel": ["type"], "RowPanel": ["type"]}
# Where the published schema is narrower than what Grafana 11 itself saves: (definition, property) -> schema.
# A query variable's `query` is stored by the Prometheus editor as {"query": "...", "refId": "...", "qryType": 1},
# while the schema only allows a map of objects.
SCHEMA_PATCHES = {("VariableModel", "query"): {"type": ["string", "object"]}}


@dataclass(frozen=True)
class Problem:
    path: str
    message: str


class SchemaSource(Protocol):
    name: str

    def dashboard(self, data: dict[str, Any]) -> list[Problem]: ...
    def panel(self, panel: dict[str, Any]) -> list[Problem] | None: ...
    def query(self, ds_type: str, target: dict[str, Any]) -> list[Problem] | None: ...


def _strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None and not str(k).startswith("__")}
    if isinstance(value, list):
        return [_strip_nulls(v) for v in value]
    return value


def _relax(schema: Any, definition: str | None = None) -> Any:
    """Drop `required` (Grafana applies defaults) except where KEEP_REQUIRED says otherwise."""
    if isinstance(schema, dict):
        out = {}
        for key, value in schema.items():
            if key == "definitions" and isinstance(value, dict):
                out[key] = {name: _relax(body, name) for name, body in value.items()}
            elif key == "required":
                if definition in KEEP_REQUIRED:
                    keep = KEEP_REQUIRED[definition]
                    out[key] = value if keep is None else [r for r in value if r in keep]
            else:
                out[key] = _relax(value, definition)
        return out
    if isinstance(schema, list):
        return [_relax(v, definition) for v in schema]
    return schema


def _patch(schema: dict[str, Any]) -> dict[str, Any]:
    for (definition, prop), replacement in SCHEMA_PATCHES.items():
        props = schema.get("definitions", {}).get(definition, {}).get("properties", {})
        if prop in props:
            description = props[prop].get("description")
            props[prop] = {**replacement, **({"description": description} if description else {})}
    return schema


def _path(error: jsonschema.ValidationError) -> str:
    return "/".join(str(p) for p in error.absolute_path) or "(root)"


class JsonSchemaSource:
    def __init__(self, directory: Path):
        self.directory = directory
        self.name = f"JSON Schema in {directory}"
        self._cache: dict[str, dict[str, Any] | None] = {}
        dash = self._load("dashboard")
        if dash is None:
            raise FileNotFoundError(
                f"{directory}/dashboard.jsonschema.json not found: pass the Grafana JSON Schema directory"
            )
        self._dash = dash

    def _load(self, name: str) -> dict[str, Any] | None:
        if name not in self._cache:
            path = self.directory / f"{name}.jsonschema.json"
            self._cache[name] = _patch(_relax(json.loads(path.read_text()))) if path.is_file() else None
        return self._cache[name]

    def _validate(self, schema: dict[str, Any], definition: str, instance: Any, prefix: str = "") -> list[Problem]:
        root = {"$ref": f"#/definitions/{definition}", "definitions": schema["definitions"]}
        validator = jsonschema.Draft7Validator(root)
        problems = []
        for error in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
            path = _path(error)
            problems.append(Problem(f"{prefix}{path}" if prefix else path, error.message))
        return problems

    def dashboard(self, data: dict[str, Any]) -> list[Problem]:
        body = {k: v for k, v in _strip_nulls(data).items() if k != "panels"}
        return self._validate(self._dash, "Dashboard", body)

    def panel(self, panel: dict[str, Any]) -> list[Problem] | None:
        data = _strip_nulls(panel)
        kind = str(data.get("type", ""))
        if kind == "row":
            return self._validate(self._dash, "RowPanel", {**data, "panels": []})
        problems = self._validate(self._dash, "Panel", {**data, "targets": []})
        plugin = self._load(PANEL_SCHEMA_FILES.get(kind, kind))
        if plugin is None:
            return None if not problems else problems
        defs = plugin.get("definitions", {})
        if "Options" in defs and isinstance(data.get("options"), dict):
            problems += self._validate(plugin, "Options", data["options"], "options/")
        custom = ((data.get("fieldConfig") or {}).get("defaults") or {}).get("custom")
        if "FieldConfig" in defs and isinstance(custom, dict):
            problems += self._validate(plugin, "FieldConfig", custom, "fieldConfig/defaults/custom/")
        return problems

    def query(self, ds_type: str, target: dict[str, Any]) -> list[Problem] | None:
        schema = self._load(QUERY_SCHEMA_FILES.get(ds_type, "-"))
        if schema is None:
            return None
        data = {k: v for k, v in _strip_nulls(target).items() if k not in QUERY_EXTRAS}
        return self._validate(schema, "dataquery", data)


def _dropped_keys(given: Any, kept: Any, path: str) -> Iterable[Problem]:
    if isinstance(given, dict) and isinstance(kept, dict):
        for key, value in given.items():
            if key not in kept:
                yield Problem(f"{path}{key}", f"Additional properties are not allowed ({key!r} was unexpected)")
            else:
                yield from _dropped_keys(value, kept[key], f"{path}{key}/")
    elif isinstance(given, list) and isinstance(kept, list):
        for i, (a, b) in enumerate(zip(given, kept)):
            yield from _dropped_keys(a, b, f"{path}{i}/")


class SdkSource:
    """Grafana 11.6's model from grafana-foundation-sdk: unknown keys are the ones from_json drops."""

    name = "grafana-foundation-sdk 11.6 models"

    def __init__(self) -> None:
        from grafana_foundation_sdk.cog import encoder, plugins, runtime
        from grafana_foundation_sdk.models import dashboard

        plugins.register_default_plugins()
        self._dashboard = dashboard
        self._runtime = runtime
        self._encoder = encoder.JSONEncoder

    def _round_trip(self, cls: Any, data: dict[str, Any], prefix: str = "") -> list[Problem]:
        try:
            kept = json.loads(json.dumps(cls.from_json(data), cls=self._encoder))
        except (AttributeError, TypeError, KeyError, ValueError) as exc:
            return [Problem(prefix or "(root)", f"does not fit the model {cls.__name__}: {exc}")]
        return list(_dropped_keys(data, kept, prefix))

    def dashboard(self, data: dict[str, Any]) -> list[Problem]:
        body = {k: v for k, v in _strip_nulls(data).items() if k != "panels"}
        return self._round_trip(self._dashboard.Dashboard, body)

    def panel(self, panel: dict[str, Any]) -> list[Problem] | None:
        data = _strip_nulls(panel)
        if data.get("type") == "row":
            return self._round_trip(self._dashboard.RowPanel, {**data, "panels": []})
        problems = self._round_trip(
            self._dashboard.Panel, {k: v for k, v in data.items() if k not in ("targets", "options", "fieldConfig")}
        )
        config = self._runtime.panelcfg_config(str(data.get("type", "")))
        if config is None:
            return None if not problems else problems
        if config.options_from_json_hook and isinstance(data.get("options"), dict):
            problems += self._hook(config.options_from_json_hook, data["options"], "options/")
        custom = ((data.get("fieldConfig") or {}).get("defaults") or {}).get("custom")
        if config.field_config_from_json_hook and isinstance(custom, dict):
            problems += self._hook(config.field_config_from_json_hook, custom, "fieldConfig/defaults/custom/")
        fc = data.get("fieldConfig")
        if isinstance(fc, dict):
            stripped = {**fc, "defaults": {k: v for k, v in (fc.get("defaults") or {}).items() if k != "custom"}}
            problems += self._round_trip(self._dashboard.FieldConfigSource, stripped, "fieldConfig/")
        return problems

    def _hook(self, hook: Any, data: dict[str, Any], prefix: str) -> list[Problem]:
        try:
            kept = json.loads(json.dumps(hook(data), cls=self._encoder))
        except (AttributeError, TypeError, KeyError, ValueError) as exc:
            return [Problem(prefix, f"does not fit the model: {exc}")]
        return list(_dropped_keys(data, kept, prefix))

    def query(self, ds_type: str, target: dict[str, Any]) -> list[Problem] | None:
        if ds_type not in self._runtime.Runtime().dataquery_variants:
            return None
        data = {k: v for k, v in _strip_nulls(target).items() if k not in QUERY_EXTRAS}
        return self._hook(lambda d: self._runtime.dataquery_from_json(d, ds_type), data, "")


def schema_source(schema_dir: Path | None) -> SchemaSource:
    return JsonSchemaSource(schema_dir) if schema_dir is not None else SdkSource()


def check(dashboard: Dashboard, ctx: LintContext) -> list[Finding]:
    source: SchemaSource = ctx.schema
    findings: list[Finding] = []
    for problem in source.dashboard(dashboard.data):
        findings.append(
            dashboard.finding(
                "schema/dashboard",
                ERROR,
                f"{problem.path}: {problem.message}",
                f"make the dashboard match Grafana 11's dashboard schema ({source.name})",
            )
        )
    panels: list[dict[str, Any]] = []
    for panel in dashboard.data.get("panels") or []:
        if isinstance(panel, dict):
            panels.append(panel)
            if panel.get("type") == "row":
                panels.extend(p for p in panel.get("panels") or [] if isinstance(p, dict))
    for panel in panels:
        title = panel_title(panel)
        kind = str(panel.get("type", ""))
        if kind in ANGULAR_PANELS:
            findings.append(
                dashboard.finding(
                    "schema/deprecated-panel",
                    ERROR,
                    f"panel type {kind!r} is a deprecated Angular plugin: Grafana 11 does not render it",
                    f"use the {ANGULAR_PANELS[kind]} panel instead",
                    panel=title,
                )
            )
            continue
        problems = source.panel(panel)
        if problems is None:
            findings.append(
                dashboard.finding(
                    "schema/unknown-panel-type",
                    WARNING,
                    f"no schema for panel type {kind!r}: its options are not checked",
                    "use a core panel type, or check the plugin is installed on every Grafana",
                    panel=title,
                )
            )
            continue
        for problem in problems:
            findings.append(
                dashboard.finding(
                    "schema/panel",
                    ERROR,
                    f"{problem.path}: {problem.message}",
                    f"make the {kind} panel match Grafana 11's schema ({source.name})",
                    panel=title,
                )
            )
    for target in iter_targets(dashboard, ctx):
        if not target.ds_type:
            continue
        problems = source.query(target.ds_type, target.data)
        for problem in problems or []:
            findings.append(
                dashboard.finding(
                    "schema/query",
                    ERROR,
                    f"targets/{problem.path}: {problem.message}",
                    f"make the {target.ds_type} query match its schema ({source.name})",
                    panel=target.panel_title,
                    ref_id=target.ref_id,
                )
            )
    return findings


__all__ = ["JsonSchemaSource", "SdkSource", "schema_source", "check", "ANGULAR_PANELS", "datasource_ref"]
