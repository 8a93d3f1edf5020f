"""What every lint rule shares: the Finding, the loaded dashboard, panels, targets and datasources."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bo1dash.catalog import Catalog
from bo1dash.grafana.panels import iter_panels

ERROR = "error"
WARNING = "warning"

# Datasource plugin types by family (Grafana renamed the Postgres plugin in 10.x; both ids load).
PROMETHEUS_TYPES = frozenset({"prometheus"})
POSTGRES_TYPES = frozenset({"grafana-postgresql-datasource", "postgres"})
# Datasource uids Grafana itself provides (no provisioning needed).
BUILTIN_DATASOURCES = {
    "-- Grafana --": "datasource",
    "grafana": "datasource",
    "-- Mixed --": "mixed",
    "-- Dashboard --": "dashboard",
    "__expr__": "__expr__",
}


@dataclass(frozen=True)
class Finding:
    """One problem, located as precisely as the rule can: file, dashboard uid, panel title, refId."""

    file: str
    dashboard: str
    panel: str
    ref_id: str
    rule: str
    severity: str
    message: str
    fix: str

    def to_json(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class Datasource:
    name: str
    type: str
    uid: str
    is_default: bool = False
    file: str = ""


@dataclass
class Dashboard:
    """A dashboard file as loaded: `data` is the JSON object Grafana stores."""

    path: Path
    data: dict[str, Any]

    @property
    def uid(self) -> str:
        return str(self.data.get("uid") or "")

    @property
    def file(self) -> str:
        return str(self.path)

    def variables(self) -> list[dict[str, Any]]:
        return [v for v in as_list(as_dict(self.data.get("templating")).get("list")) if isinstance(v, dict)]

    def variable_names(self) -> set[str]:
        return {str(v.get("name")) for v in self.variables() if v.get("name")}

    def finding(
        self, rule: str, severity: str, message: str, fix: str, *, panel: str = "", ref_id: str = ""
    ) -> Finding:
        return Finding(self.file, self.uid, panel, ref_id, rule, severity, message, fix)


@dataclass
class Target:
    """A panel query with the datasource it really runs against (panel default applied)."""

    panel: Mapping[str, Any]
    data: dict[str, Any]
    ds_uid: str | None
    ds_type: str | None

    @property
    def ref_id(self) -> str:
        return str(self.data.get("refId") or "")

    @property
    def panel_title(self) -> str:
        return panel_title(self.panel)


@dataclass
class LintContext:
    catalog: Catalog
    datasources: Mapping[str, Datasource] | None
    retention_seconds: float
    scrape_interval_seconds: float
    schema: Any = None  # a bo1dash.lint.schema.SchemaSource
    retention_assumed: bool = False  # no --retention: Prometheus' default is assumed
    notes: list[str] = field(default_factory=list)


def as_dict(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else {} (the schema rule reports the wrong type)."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """`value` if it is a JSON array, else [] (the schema rule reports the wrong type)."""
    return value if isinstance(value, list) else []


def panel_targets(panel: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [t for t in as_list(panel.get("targets")) if isinstance(t, dict)]


def panel_title(panel: Mapping[str, Any]) -> str:
    title = panel.get("title")
    if title:
        return str(title)
    return f"<untitled {panel.get('type', 'panel')} id={panel.get('id')}>"


def datasource_ref(ref: Any) -> tuple[str | None, str | None]:
    """(uid, type) of a datasource reference: an object {type, uid}, a legacy name string, or None."""
    if ref is None:
        return None, None
    if isinstance(ref, str):
        return ref, None
    if isinstance(ref, dict):
        uid = ref.get("uid")
        kind = ref.get("type")
        return (str(uid) if uid is not None else None), (str(kind) if kind is not None else None)
    return None, None


def variable_datasource_type(dashboard: Dashboard, uid: str) -> str | None:
    """Type of a `$ds` / `${ds}` datasource variable reference, or None if `uid` is not one."""
    name = uid.strip()
    if name.startswith("${") and name.endswith("}"):
        name = name[2:-1].split(":")[0]
    elif name.startswith("$"):
        name = name[1:]
    else:
        return None
    for var in dashboard.variables():
        if var.get("name") == name and var.get("type") == "datasource":
            query = var.get("query")
            return str(query) if isinstance(query, str) else None
    return None


def resolve_type(dashboard: Dashboard, uid: str | None, kind: str | None, ctx: LintContext) -> str | None:
    if kind:
        return kind
    if uid is None:
        if ctx.datasources:
            for ds in ctx.datasources.values():
                if ds.is_default:
                    return ds.type
        return None
    if uid in BUILTIN_DATASOURCES:
        return BUILTIN_DATASOURCES[uid]
    var_type = variable_datasource_type(dashboard, uid)
    if var_type:
        return var_type
    if ctx.datasources:
        if uid in ctx.datasources:
            return ctx.datasources[uid].type
        for ds in ctx.datasources.values():  # legacy reference by name
            if ds.name == uid:
                return ds.type
    return None


def iter_targets(dashboard: Dashboard, ctx: LintContext) -> Iterator[Target]:
    for panel in iter_panels(dashboard.data):
        if panel.get("type") == "row":
            continue
        p_uid, p_type = datasource_ref(panel.get("datasource"))
        for target in panel_targets(panel):
            if "datasource" in target and target["datasource"] is not None:
                uid, kind = datasource_ref(target["datasource"])
            else:
                uid, kind = p_uid, p_type
            yield Target(panel, target, uid, resolve_type(dashboard, uid, kind, ctx))


def load_dashboard(path: Path) -> tuple[Dashboard | None, Finding | None]:
    def invalid(message: str, fix: str) -> tuple[None, Finding]:
        return None, Finding(str(path), "", "", "", "file/invalid-json", ERROR, message, fix)

    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        return invalid(f"cannot read the file: {exc.strerror or exc}", "check the path and its permissions")
    except UnicodeDecodeError as exc:
        return invalid(
            f"not a text file (byte {exc.start} is not UTF-8): a dashboard is a JSON text file",
            "give the dashboard's .json file (exported from Grafana or written by bo1dash build)",
        )
    except json.JSONDecodeError as exc:
        return invalid(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
            "regenerate the file (bo1dash build) or fix its JSON syntax",
        )
    except RecursionError:
        return invalid(
            "the JSON is nested too deeply to be a dashboard",
            "give a dashboard JSON file (a dashboard nests a few levels, not hundreds)",
        )
    if not isinstance(data, dict):
        return invalid(
            f"the file holds a JSON {type(data).__name__}, not a dashboard object",
            "a dashboard file holds one dashboard object",
        )
    # Some exports wrap the model: {"dashboard": {...}, "meta": {...}}.
    if "dashboard" in data and isinstance(data["dashboard"], dict) and "panels" not in data:
        data = data["dashboard"]
    return Dashboard(path, data), None


def _provisioning_finding(path: Path, message: str, fix: str) -> Finding:
    return Finding(str(path), "", "", "", "datasource/provisioning", ERROR, message, fix)


def load_datasources(directory: Path) -> tuple[dict[str, Datasource], list[Finding]]:
    """Datasources provisioned by the YAML files of `directory` (or that one file; apiVersion 1), by uid."""
    found: dict[str, Datasource] = {}
    findings: list[Finding] = []
    if directory.is_file():
        files = [directory]
    elif directory.is_dir():
        files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    else:
        return found, [
            _provisioning_finding(
                directory,
                "no such file or directory",
                "give the directory of the Grafana datasource provisioning YAML files",
            )
        ]
    for path in files:
        try:
            doc = yaml.safe_load(path.read_bytes().decode("utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}: " if mark is not None else ""
            reason = getattr(exc, "problem", None) or getattr(exc, "strerror", None) or type(exc).__name__
            findings.append(
                _provisioning_finding(
                    path, f"cannot read the provisioning YAML: {where}{reason}", "fix the YAML syntax"
                )
            )
            continue
        if doc is None:
            continue
        entries = doc.get("datasources") if isinstance(doc, dict) else None
        if not isinstance(doc, dict) or not isinstance(entries, (list, type(None))):
            findings.append(
                _provisioning_finding(
                    path,
                    f"the file holds a YAML {type(doc).__name__} where Grafana expects a mapping with a "
                    "`datasources:` list"
                    if not isinstance(doc, dict)
                    else f"`datasources` is a {type(entries).__name__}, not a list",
                    "write `apiVersion: 1` and `datasources:` followed by a list of {name, type, uid, url} entries",
                )
            )
            continue
        for entry in entries or []:
            if not isinstance(entry, dict):
                findings.append(
                    _provisioning_finding(
                        path, f"datasources entry {entry!r} is not a mapping", "each entry is {name, type, uid, ...}"
                    )
                )
                continue
            uid = entry.get("uid")
            if not uid:
                findings.append(
                    _provisioning_finding(
                        path,
                        f"datasource {entry.get('name')!r} has no uid: Grafana invents one and panels cannot reference it",
                        "give every provisioned datasource a fixed uid",
                    )
                )
                continue
            found[str(uid)] = Datasource(
                str(entry.get("name", "")),
                str(entry.get("type", "")),
                str(uid),
                bool(entry.get("isDefault", False)),
                str(path),
            )
    return found, findings
