"""Datasource references resolve to provisioned datasources; template variables are defined."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bo1dash.lint.model import (
    BUILTIN_DATASOURCES,
    ERROR,
    WARNING,
    Dashboard,
    Finding,
    LintContext,
    as_dict,
    as_list,
    datasource_ref,
    iter_panels,
    panel_targets,
    panel_title,
    variable_datasource_type,
)
from bo1dash.lint.substitute import GLOBAL_VARIABLES, SQL_MACROS, variable_uses


def _ref_sites(dashboard: Dashboard) -> Iterator[tuple[str, str, Any, str]]:
    """(panel title, refId, datasource ref, where) of every datasource reference of the dashboard."""
    for var in dashboard.variables():
        if "datasource" in var and var.get("type") == "query":
            yield "", "", var.get("datasource"), f"variable {var.get('name')!r}"
    for ann in as_list(as_dict(dashboard.data.get("annotations")).get("list")):
        if isinstance(ann, dict) and ann.get("datasource") is not None:
            yield "", "", ann.get("datasource"), f"annotation {ann.get('name')!r}"
    for panel in iter_panels(dashboard.data):
        title = panel_title(panel)
        if panel.get("datasource") is not None:
            yield title, "", panel.get("datasource"), "panel"
        for target in panel_targets(panel):
            if target.get("datasource") is not None:
                yield title, str(target.get("refId") or ""), target.get("datasource"), "target"


def _check_ref(dashboard: Dashboard, ctx: LintContext, title: str, ref_id: str, ref: Any, where: str) -> list[Finding]:
    uid, kind = datasource_ref(ref)
    if uid is None:
        return []
    if isinstance(ref, str):
        return [
            dashboard.finding(
                "datasource/legacy-ref",
                WARNING,
                f"{where} references datasource {ref!r} by name (a plain string)",
                'reference datasources as {"type": ..., "uid": ...} with the provisioned uid',
                panel=title,
                ref_id=ref_id,
            )
        ]
    var_type = variable_datasource_type(dashboard, uid) if "$" in uid else None
    if (uid.startswith("${DS_") or uid.startswith("$DS_")) and var_type is None:
        return [
            dashboard.finding(
                "datasource/import-input",
                ERROR,
                f"{where} uses the import placeholder {uid!r}: provisioning never fills ${{DS_*}} inputs",
                "use the provisioned datasource uid from _config.datasources (e.g. 'prometheus', 'bo1-postgres')",
                panel=title,
                ref_id=ref_id,
            )
        ]
    if uid in BUILTIN_DATASOURCES:
        return []
    if "$" in uid:
        if var_type is None:
            return [
                dashboard.finding(
                    "datasource/unknown-variable",
                    ERROR,
                    f"{where} references datasource {uid!r}, which is not a datasource variable of this dashboard",
                    "define a templating variable of type 'datasource' with that name, or use a provisioned uid",
                    panel=title,
                    ref_id=ref_id,
                )
            ]
        if kind and kind != var_type:
            return [
                dashboard.finding(
                    "datasource/type-mismatch",
                    ERROR,
                    f"{where} says type {kind!r} but datasource variable {uid!r} lists {var_type!r} datasources",
                    f"set the reference type to {var_type!r}",
                    panel=title,
                    ref_id=ref_id,
                )
            ]
        return []
    if ctx.datasources is None:
        return []
    ds = ctx.datasources.get(uid)
    if ds is None:
        known = ", ".join(f"{d.uid} ({d.type})" for d in ctx.datasources.values()) or "none"
        return [
            dashboard.finding(
                "datasource/unknown-uid",
                ERROR,
                f"{where} references datasource uid {uid!r}, which no provisioning file defines (provisioned: {known})",
                "use a provisioned uid (from _config.datasources) or provision a datasource with this uid",
                panel=title,
                ref_id=ref_id,
            )
        ]
    if kind and kind != ds.type:
        return [
            dashboard.finding(
                "datasource/type-mismatch",
                ERROR,
                f"{where} references uid {uid!r} as type {kind!r}, but it is provisioned as {ds.type!r} ({ds.file})",
                f"set the reference type to {ds.type!r}",
                panel=title,
                ref_id=ref_id,
            )
        ]
    return []


def _text_sites(dashboard: Dashboard) -> Iterator[tuple[str, str, str, str]]:
    """(panel title, refId, field, text) of every string in which Grafana substitutes variables."""
    for var in dashboard.variables():
        query = var.get("query")
        if isinstance(query, dict):
            query = query.get("query") or query.get("expr") or query.get("rawSql")
        if isinstance(query, str) and var.get("type") in ("query", "custom", "interval"):
            yield "", "", f"variable {var.get('name')!r} query", query
        if isinstance(var.get("regex"), str):
            yield "", "", f"variable {var.get('name')!r} regex", var["regex"]
    for panel in iter_panels(dashboard.data):
        title = panel_title(panel)
        for key in ("title", "description", "repeat", "interval"):
            if isinstance(panel.get(key), str):
                text = panel[key] if key != "repeat" else "$" + panel[key]
                yield title, "", f"panel {key}", text
        for target in panel_targets(panel):
            for key in ("expr", "rawSql", "legendFormat", "interval", "query"):
                if isinstance(target.get(key), str):
                    yield title, str(target.get("refId") or ""), f"target {key}", target[key]


def check_variables(dashboard: Dashboard) -> list[Finding]:
    defined = dashboard.variable_names()
    findings: list[Finding] = []
    seen: set[tuple[str, str, str]] = set()
    for title, ref_id, where, text in _text_sites(dashboard):
        for use in variable_uses(text):
            if use.name in defined or use.name in GLOBAL_VARIABLES or use.name in SQL_MACROS or use.name[0].isdigit():
                # `$0.0005` in a description is a price, not a variable (Grafana leaves it as written)
                continue
            if (title, ref_id, use.name) in seen:
                continue
            seen.add((title, ref_id, use.name))
            findings.append(
                dashboard.finding(
                    "variable/undefined",
                    ERROR,
                    f"{where} uses ${use.name}, which is neither a variable of this dashboard nor a Grafana global",
                    f"add a templating variable named {use.name!r} or remove the reference "
                    f"(defined: {', '.join(sorted(defined)) or 'none'})",
                    panel=title,
                    ref_id=ref_id,
                )
            )
    return findings


def check(dashboard: Dashboard, ctx: LintContext) -> list[Finding]:
    findings: list[Finding] = []
    if "__inputs" in dashboard.data:
        names = [i.get("name") for i in dashboard.data["__inputs"] if isinstance(i, dict)]
        findings.append(
            dashboard.finding(
                "datasource/import-input",
                ERROR,
                f"the dashboard declares __inputs {names}: that is the export format for manual import, "
                "provisioning does not substitute it",
                "remove __inputs/__requires and reference the provisioned datasource uids directly",
            )
        )
    for title, ref_id, ref, where in _ref_sites(dashboard):
        findings.extend(_check_ref(dashboard, ctx, title, ref_id, ref, where))
    for panel in iter_panels(dashboard.data):
        targets = panel_targets(panel)
        if panel.get("datasource") is None and any(t.get("datasource") is None for t in targets):
            findings.append(
                dashboard.finding(
                    "datasource/implicit-default",
                    WARNING,
                    "the panel names no datasource, so it runs against whatever datasource is the default",
                    "set the panel datasource to a provisioned {type, uid}",
                    panel=panel_title(panel),
                )
            )
    findings.extend(check_variables(dashboard))
    return findings
