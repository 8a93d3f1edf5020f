"""Template variables and query habits, after grafana/dashboard-linter's rules (mapping in docs/lint.md).

template/label-promql           a Prometheus query variable's query (label_values, query_result, ...)
                                does not parse, or names a series/label the catalog lacks
template/on-time-change-reload  a Prometheus query variable refreshes only on load (stale values)
template/uneditable             a provisioned dashboard left editable (edits are lost on reload)
promql/rate-interval            rate()/irate() over a literal window instead of $__rate_interval (fixable)
template/datasource             Prometheus panels on a fixed datasource uid, no datasource variable
                                (opinionated: off unless turned on in .bo1dash-lint.yaml; fixable)
template/job, template/instance no job / instance variable on a Prometheus dashboard (opinionated: off)
"""

from __future__ import annotations

import re
from typing import Any

import promql_parser as pp

from bo1dash.lint.model import (
    ERROR,
    PROMETHEUS_TYPES,
    WARNING,
    Dashboard,
    Finding,
    LintContext,
    as_dict,
    iter_targets,
    variable_datasource_type,
)
from bo1dash.lint.substitute import interpolate_promql

# Rules that state a preference, not a defect: off unless the settings turn them on.
OPINIONATED = frozenset({"template/datasource", "template/job", "template/instance"})
# Grafana's Prometheus variable query functions (docs: Prometheus template variables).
VARIABLE_QUERY = re.compile(
    r"^\s*(?:label_values\((?P<lv>.*)\)|label_names\((?P<ln>.*)\)|metrics\((?P<m>.*)\)|query_result\((?P<qr>.*)\))\s*$",
    re.S,
)
RATE_WINDOW = re.compile(r"\b(i?rate\s*\((?:[^()\[\]]|\([^()]*\))*?)\[((?:\d+(?:ms|[smhdwy]))+)\]")
DATASOURCE_VARIABLE = "datasource"


def _variable_query(var: dict[str, Any]) -> str | None:
    query = var.get("query")
    if isinstance(query, dict):
        query = query.get("query")
    return query if isinstance(query, str) else None


def _is_prometheus_variable(dashboard: Dashboard, var: dict[str, Any], ctx: LintContext) -> bool:
    from bo1dash.lint.model import datasource_ref, resolve_type

    uid, kind = datasource_ref(var.get("datasource"))
    return resolve_type(dashboard, uid, kind, ctx) in PROMETHEUS_TYPES


def _check_expression(text: str, dashboard: Dashboard, ctx: LintContext) -> str | None:
    """Why a variable's inner PromQL is wrong, or None."""
    expr = interpolate_promql(text, dashboard.variables(), ctx.scrape_interval_seconds)
    try:
        tree = pp.parse(expr)
    except (ValueError, TypeError) as exc:
        return f"does not parse: {exc}"
    selectors = [tree] if isinstance(tree, pp.VectorSelector) else []
    for vs in selectors:
        name = vs.name
        if name and ctx.catalog.lookup(name) is None:
            return f"series {name!r} is in no catalogued family"
    return None


def check_variables(dashboard: Dashboard, ctx: LintContext) -> list[Finding]:
    findings: list[Finding] = []
    for var in dashboard.variables():
        if var.get("type") != "query" or not _is_prometheus_variable(dashboard, var, ctx):
            continue
        name = str(var.get("name") or "")
        where = f"variable {name!r}"
        query = _variable_query(var)
        if query:
            m = VARIABLE_QUERY.match(query)
            problem: str | None = None
            if m is None:
                problem = "is none of label_values(), label_names(), metrics(), query_result()"
            elif m.group("lv") is not None:
                args = m.group("lv")
                metric, _, label = args.rpartition(",")
                label = label.strip()
                if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", label):
                    problem = f"label_values(): {label!r} is not a label name"
                elif metric.strip():
                    problem = _check_expression(metric.strip(), dashboard, ctx)
                    ref = None
                    if problem is None:
                        tree = pp.parse(interpolate_promql(metric.strip(), dashboard.variables(), 15))
                        ref = (
                            ctx.catalog.lookup(tree.name) if isinstance(tree, pp.VectorSelector) and tree.name else None
                        )
                    if ref is not None and not ref.family.allows_label(label, ctx.catalog.target_labels):
                        problem = f"label_values(): {ref.family.name} has no label {label!r}"
            elif m.group("qr") is not None:
                problem = _check_expression(m.group("qr"), dashboard, ctx)
            if problem:
                findings.append(
                    dashboard.finding(
                        "template/label-promql",
                        ERROR,
                        f"{where} query {query!r} {problem}",
                        "write label_values(<series selector>, <label>) with a catalogued series and label",
                    )
                )
        if var.get("refresh") not in (2, "2"):
            findings.append(
                dashboard.finding(
                    "template/on-time-change-reload",
                    WARNING,
                    f"{where} refreshes only on dashboard load: its values go stale when the time range changes",
                    'set "refresh": 2 (On time range change)',
                )
            )
    return findings


def rate_windows(expr: str) -> list[str]:
    """The literal windows of rate()/irate() calls in `expr` (text level, as --fix rewrites them)."""
    return [m.group(2) for m in RATE_WINDOW.finditer(expr)]


def fix_rate_windows(expr: str) -> str:
    return RATE_WINDOW.sub(lambda m: f"{m.group(1)}[$__rate_interval]", expr)


def check(dashboard: Dashboard, ctx: LintContext) -> list[Finding]:
    findings = check_variables(dashboard, ctx)
    if dashboard.data.get("editable") is not False:
        findings.append(
            dashboard.finding(
                "template/uneditable",
                WARNING,
                "the dashboard is editable: changes made in Grafana are lost when provisioning reloads it",
                'set "editable": false and change the source instead',
            )
        )
    prometheus_targets = [t for t in iter_targets(dashboard, ctx) if t.ds_type in PROMETHEUS_TYPES]
    for target in prometheus_targets:
        expr = str(target.data.get("expr") or "")
        literal = rate_windows(expr)
        if literal:
            findings.append(
                dashboard.finding(
                    "promql/rate-interval",
                    WARNING,
                    f"rate()/irate() over a fixed window ({', '.join(literal)}): too short on long ranges, "
                    "too coarse on short ones",
                    "use [$__rate_interval] (bo1dash lint --fix rewrites it)",
                    panel=target.panel_title,
                    ref_id=target.ref_id,
                )
            )
    if prometheus_targets:
        variables = {str(v.get("name")): v for v in dashboard.variables()}
        uids = {str(as_dict(t.panel.get("datasource")).get("uid") or "") for t in prometheus_targets}
        if not any(variable_datasource_type(dashboard, uid) for uid in uids if uid):
            findings.append(
                dashboard.finding(
                    "template/datasource",
                    WARNING,
                    "Prometheus panels use a fixed datasource uid and the dashboard has no datasource variable",
                    f"add a datasource variable ${DATASOURCE_VARIABLE} (bo1dash lint --fix adds it and points "
                    "the Prometheus panels at it)",
                )
            )
        for label in ("job", "instance"):
            if label not in variables:
                findings.append(
                    dashboard.finding(
                        f"template/{label}",
                        WARNING,
                        f"no {label} variable: the dashboard cannot be narrowed to one {label}",
                        f'add a query variable {label} = label_values(up, {label}) and match {label}=~"${label}"',
                    )
                )
    return findings
