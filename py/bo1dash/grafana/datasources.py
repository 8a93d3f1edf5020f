"""Grafana's datasources as provisioning declares them, and how a panel target resolves to one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bo1dash.grafana.variables import VariableValue

MIXED_UID = "-- Mixed --"


@dataclass(frozen=True)
class Datasource:
    """One provisioned datasource (the URL is the provisioned one, e.g. a compose host: not used to connect)."""

    uid: str
    name: str
    type: str
    url: str = ""
    is_default: bool = False
    json_data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def time_interval(self) -> str | None:
        value = self.json_data.get("timeInterval")
        return str(value) if value else None

    @property
    def kind(self) -> str:
        """`prometheus`, `postgres`, or the raw type for anything else."""
        if self.type == "prometheus":
            return "prometheus"
        if self.type in ("grafana-postgresql-datasource", "postgres"):
            return "postgres"
        return self.type


class DatasourceError(LookupError):
    """A target names a datasource provisioning does not define."""


def load_datasources(provisioning_dir: Path) -> dict[str, Datasource]:
    """Every datasource of the provisioning directory's *.yml / *.yaml files, by uid."""
    found: dict[str, Datasource] = {}
    if not provisioning_dir.is_dir():
        raise FileNotFoundError(f"datasource provisioning directory {provisioning_dir} does not exist")
    for path in sorted([*provisioning_dir.glob("*.yml"), *provisioning_dir.glob("*.yaml")]):
        document = yaml.safe_load(path.read_text()) or {}
        for entry in document.get("datasources") or []:
            uid = str(entry.get("uid") or entry.get("name"))
            found[uid] = Datasource(
                uid=uid,
                name=str(entry.get("name", uid)),
                type=str(entry.get("type", "")),
                url=str(entry.get("url", "")),
                is_default=bool(entry.get("isDefault")),
                json_data=dict(entry.get("jsonData") or {}),
            )
    return found


def _variable_ref(text: str) -> str | None:
    if text.startswith("${") and text.endswith("}"):
        return text[2:-1].split(":")[0]
    if text.startswith("$"):
        return text[1:]
    return None


def resolve_datasource(
    target: Mapping[str, Any],
    panel: Mapping[str, Any],
    datasources: Mapping[str, Datasource],
    variables: Mapping[str, VariableValue],
) -> Datasource:
    """The datasource a target queries, as Grafana picks it: the target's, else the panel's (unless the panel is
    Mixed), else the default one. References may be `{type, uid}`, a uid/name string, or a `${var}` datasource
    variable. Raises DatasourceError naming the missing reference."""
    ref: Any = target.get("datasource")
    panel_ref = panel.get("datasource")
    if ref is None or (isinstance(ref, Mapping) and not ref.get("uid")):
        ref = panel_ref
    if isinstance(ref, Mapping):
        key = str(ref.get("uid") or "")
    elif ref is None:
        key = ""
    else:
        key = str(ref)
    if key == MIXED_UID:
        key = ""
    name = _variable_ref(key)
    if name is not None:
        var = variables.get(name)
        if var is None or not var.values:
            raise DatasourceError(f"datasource variable ${name} has no value")
        key = var.values[0]
    if not key:
        defaults = [ds for ds in datasources.values() if ds.is_default]
        if not defaults:
            raise DatasourceError("target names no datasource and provisioning defines no default datasource")
        return defaults[0]
    if key in datasources:
        return datasources[key]
    by_name = [ds for ds in datasources.values() if ds.name == key]
    if by_name:
        return by_name[0]
    raise DatasourceError(f"datasource {key!r} is missing from provisioning (defined: {sorted(datasources)})")
