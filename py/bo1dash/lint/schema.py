"""Grafana 11 schema: the dashboard, each panel (per-type Options and FieldConfig) and each query.

Two sources of the same knowledge:
- `SdkSource()` (the default, no files needed): the model classes of the pinned grafana-foundation-sdk
  (11.6), generated from Grafana's own schema. Each class's type hints (keys, value types, enums,
  literals, nested models) are read once and the JSON is walked against them; per panel type the
  plugin's Options/FieldConfig classes and per datasource type its dataquery class are used.
- `JsonSchemaSource(dir)` (`--schema-dir`): Grafana's published JSON Schema files (dashboard.jsonschema.json,
  `<panel type>.jsonschema.json` with Options/FieldConfig, `<datasource>.jsonschema.json` with dataquery).
Each source is built once per process (`schema_source()` is cached, compiled validators are kept).

What Grafana stores is what is checked, and what Grafana accepts is not an error:
- `required` in the schema mostly marks fields that have a default; Grafana fills them in, so a
  missing one is not reported (except the panel type, gridPos fields and a query's refId/expr);
- a key set to null counts as unset; keys starting with `__` (export metadata) are left to the
  datasource rule;
- a few keys Grafana's query editors write but the schema lacks are accepted (QUERY_EXTRAS), and so are
  the keys Grafana 11 itself writes or still loads from older versions (GRAFANA_WRITES).
Deprecated Angular panel types are errors (Grafana 11 no longer renders them).
"""

from __future__ import annotations

import enum
import functools
import json
import types
import typing
from collections.abc import Mapping
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
    as_dict,
    datasource_ref,
    iter_panels,
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
# Keys Grafana's query editors store although the dataquery schema does not list them, and the
# keys old Prometheus query editors stored that Grafana 11 still loads (metric, step, calculatedInterval).
QUERY_EXTRAS = frozenset(
    {
        "metric",
        "calculatedInterval",
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
    def panel(self, panel: Mapping[str, Any]) -> list[Problem] | None: ...
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
        out: dict[str, Any] = {}
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
        self._validators: dict[tuple[int, str], jsonschema.Draft7Validator] = {}
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
        key = (id(schema), definition)
        validator = self._validators.get(key)
        if validator is None:
            root = {"$ref": f"#/definitions/{definition}", "definitions": schema["definitions"]}
            validator = self._validators[key] = jsonschema.Draft7Validator(root)
        problems = []
        for error in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
            if error.validator == "additionalProperties" and isinstance(error.instance, dict):
                allowed = set((error.schema.get("properties") or {}).keys())
                if set(error.instance) - allowed <= ACCEPTED_KEY_NAMES:
                    continue
            path = _path(error)
            problems.append(Problem(f"{prefix}{path}" if prefix else path, error.message))
        return problems

    def dashboard(self, data: dict[str, Any]) -> list[Problem]:
        body = _strip_nulls(data)
        if isinstance(body.get("panels"), list):
            body["panels"] = []  # each panel is checked on its own
        return self._validate(self._dash, "Dashboard", body)

    def panel(self, panel: Mapping[str, Any]) -> list[Problem] | None:
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
        custom = as_dict(as_dict(data.get("fieldConfig")).get("defaults")).get("custom")
        if "FieldConfig" in defs and isinstance(custom, dict):
            problems += self._validate(plugin, "FieldConfig", custom, "fieldConfig/defaults/custom/")
        return problems

    def query(self, ds_type: str, target: dict[str, Any]) -> list[Problem] | None:
        schema = self._load(QUERY_SCHEMA_FILES.get(ds_type, "-"))
        if schema is None:
            return None
        data = {k: v for k, v in _strip_nulls(target).items() if k not in QUERY_EXTRAS}
        return self._validate(schema, "dataquery", data)


# Keys Grafana 11 itself writes although the 11.6 model lacks them (what Grafana accepts is not an
# error): (model class, key). Old Grafana versions' keys that 11 still loads are accepted the same way.
GRAFANA_WRITES = frozenset(
    {
        ("FieldConfig", "fieldMinMax"),
        ("FieldConfig", "unitScale"),
        ("Dashboard", "style"),
        ("Dashboard", "iteration"),
        ("TimePickerConfig", "time_options"),
        ("TimePickerConfig", "collapse"),
        ("TimePickerConfig", "enable"),
        ("TimePickerConfig", "notice"),
        ("TimePickerConfig", "now"),
        ("TimePickerConfig", "status"),
        ("TimePickerConfig", "type"),
        ("VariableModel", "definition"),
        ("VariableModel", "queryValue"),
        ("VariableModel", "tagValuesQuery"),
        ("VariableModel", "tags"),
        ("VariableModel", "tagsQuery"),
        ("VariableModel", "useTags"),
    }
)
ACCEPTED_KEY_NAMES = frozenset(key for _, key in GRAFANA_WRITES)


class _Unset:
    """A value no model holds: finds the JSON key an attribute is written under."""


@functools.cache
def _model_fields(cls: type) -> dict[str, Any]:
    """JSON key -> type hint of a grafana-foundation-sdk model class (computed once per class)."""
    hints = typing.get_type_hints(cls)
    instance = cls()
    keys: dict[str, Any] = {}
    for attr, hint in hints.items():
        marker = _Unset()
        before = getattr(instance, attr, None)
        setattr(instance, attr, marker)
        key = next((k for k, v in instance.to_json().items() if v is marker), None)
        setattr(instance, attr, before)
        if key is not None:
            keys[key] = hint
    return keys


def _type_name(hint: Any) -> str:
    if isinstance(hint, type):
        if issubclass(hint, enum.Enum):
            return "one of " + ", ".join(repr(e.value) for e in hint)
        return {"str": "a string", "bool": "a boolean", "int": "an integer", "float": "a number"}.get(
            hint.__name__, f"an object ({hint.__name__})"
        )
    origin = typing.get_origin(hint)
    if origin is list:
        return "a list"
    if origin is dict:
        return "an object"
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(hint))
    return str(hint)


class _ModelChecker:
    """Checks JSON against the type hints of grafana-foundation-sdk's generated model classes."""

    def __init__(self, dataquery_base: type) -> None:
        self._dataquery_base = dataquery_base

    def value(self, value: Any, hint: Any, path: str) -> list[Problem]:
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if hint is typing.Any or hint is object or value is None:
            return []
        if origin in (typing.Union, types.UnionType):
            options = [a for a in args if a is not type(None)]
            results = [self.value(value, a, path) for a in options]
            if any(not r for r in results):
                return []
            if len(results) == 1:
                return results[0]
            return [Problem(path, f"{value!r} is none of: {'; '.join(_type_name(a) for a in options)}")]
        if origin is typing.Literal:
            return [] if value in args else [Problem(path, f"{value!r} is not {_type_name(hint)}")]
        if origin is list:
            if not isinstance(value, list):
                return [Problem(path, f"{_short(value)} is not a list")]
            item = args[0] if args else typing.Any
            return [p for i, v in enumerate(value) for p in self.value(v, item, f"{path}/{i}")]
        if origin is dict:
            if not isinstance(value, dict):
                return [Problem(path, f"{_short(value)} is not an object")]
            item = args[1] if len(args) > 1 else typing.Any
            return [p for k, v in value.items() for p in self.value(v, item, f"{path}/{k}")]
        if not isinstance(hint, type):
            return []
        if issubclass(hint, enum.Enum):
            allowed = [e.value for e in hint]
            return [] if value in allowed else [Problem(path, f"{value!r} is not {_type_name(hint)}")]
        if hint is bool:
            return [] if isinstance(value, bool) else [Problem(path, f"{_short(value)} is not a boolean")]
        if hint in (int, float):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            return [] if ok else [Problem(path, f"{_short(value)} is not a number")]
        if hint is str:
            return [] if isinstance(value, str) else [Problem(path, f"{_short(value)} is not a string")]
        if issubclass(hint, self._dataquery_base):
            return []  # queries are checked on their own, with their datasource's model
        if hasattr(hint, "from_json"):
            return self.model(value, hint, path)
        return []

    def model(self, value: Any, cls: type, path: str) -> list[Problem]:
        if not isinstance(value, dict):
            return [Problem(path or "(root)", f"{_short(value)} is not an object ({cls.__name__})")]
        fields = _model_fields(cls)
        problems: list[Problem] = []
        prefix = f"{path}/" if path else ""
        for key, item in value.items():
            if key not in fields:
                if (cls.__name__, key) not in GRAFANA_WRITES:
                    problems.append(Problem(f"{prefix}{key}", f"unknown key {key!r} (not in {cls.__name__})"))
                continue
            problems.extend(self.value(item, fields[key], f"{prefix}{key}"))
        return problems


def _model_of(hook: Any) -> type:
    """The model class of an SDK `from_json` hook (the hooks are the classes' bound `from_json`)."""
    return typing.cast(type, hook.__self__)


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class SdkSource:
    """Grafana 11.6's model from grafana-foundation-sdk: keys, value types and enums from its type hints."""

    name = "grafana-foundation-sdk 11.6 models"

    def __init__(self) -> None:
        from grafana_foundation_sdk.cog import plugins, runtime, variants
        from grafana_foundation_sdk.models import dashboard

        plugins.register_default_plugins()
        self._dashboard = dashboard
        self._runtime = runtime.Runtime()
        self._check = _ModelChecker(variants.Dataquery)

    def dashboard(self, data: dict[str, Any]) -> list[Problem]:
        body = _strip_nulls(data)
        if isinstance(body.get("panels"), list):
            body["panels"] = []  # each panel is checked on its own
        return self._check.model(body, self._dashboard.Dashboard, "")

    def panel(self, panel: Mapping[str, Any]) -> list[Problem] | None:
        data = _strip_nulls(panel)
        if data.get("type") == "row":
            return self._check.model({**data, "panels": []}, self._dashboard.RowPanel, "")
        skip = ("targets", "options", "fieldConfig")
        problems = self._check.model({k: v for k, v in data.items() if k not in skip}, self._dashboard.Panel, "")
        fc = data.get("fieldConfig")
        if fc is not None and not isinstance(fc, dict):
            problems.append(Problem("fieldConfig", f"{_short(fc)} is not an object (FieldConfigSource)"))
            fc = None
        defaults = (fc or {}).get("defaults")
        if isinstance(fc, dict):
            stripped = dict(fc)
            if isinstance(defaults, dict):
                stripped["defaults"] = {k: v for k, v in defaults.items() if k != "custom"}
            problems += self._check.model(stripped, self._dashboard.FieldConfigSource, "fieldConfig")
        config = self._runtime.panelcfg_config(str(data.get("type", "")))
        if config is None:
            return None if not problems else problems
        options = data.get("options")
        if config.options_from_json_hook and options is not None:
            problems += self._check.model(options, _model_of(config.options_from_json_hook), "options")
        custom = defaults.get("custom") if isinstance(defaults, dict) else None
        if config.field_config_from_json_hook and custom is not None:
            problems += self._check.model(
                custom, _model_of(config.field_config_from_json_hook), "fieldConfig/defaults/custom"
            )
        return problems

    def query(self, ds_type: str, target: dict[str, Any]) -> list[Problem] | None:
        variant = self._runtime.dataquery_variants.get(ds_type)
        if variant is None:
            return None
        data = {k: v for k, v in _strip_nulls(target).items() if k not in QUERY_EXTRAS}
        return self._check.model(data, _model_of(variant.from_json_hook), "")


@functools.cache
def schema_source(schema_dir: Path | None) -> SchemaSource:
    """The schema for `schema_dir` (None: the SDK models), built once per process."""
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
    panels = list(iter_panels(dashboard.data))
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
