"""`bo1dash lint --fix`: rewrite the mechanical findings in place.

promql/rate-interval            rate()/irate() windows become [$__rate_interval]
template/datasource             a datasource variable `datasource` (current value: the uid the panels
                                used) is added and Prometheus panels and targets point at ${datasource}
template/on-time-change-reload  Prometheus query variables get "refresh": 2
template/uneditable             "editable": false

A file is rewritten only when something changed, through a temporary file renamed over it (never
half-written); key order and the 2-space indentation of Grafana's export are kept.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bo1dash.lint.model import PROMETHEUS_TYPES, Finding, as_dict, as_list, iter_panels, panel_targets
from bo1dash.lint.templates import DATASOURCE_VARIABLE, fix_rate_windows

FIXABLE = frozenset(
    {"promql/rate-interval", "template/datasource", "template/on-time-change-reload", "template/uneditable"}
)


def _is_prometheus_ref(ref: Any) -> bool:
    return isinstance(ref, dict) and ref.get("type") in PROMETHEUS_TYPES and "$" not in str(ref.get("uid") or "")


def _fix_dashboard(dash: dict[str, Any], rules: set[str]) -> list[str]:
    done: list[str] = []
    if "template/uneditable" in rules and dash.get("editable") is not False:
        dash["editable"] = False
        done.append("editable: false")
    variables = [v for v in as_list(as_dict(dash.get("templating")).get("list")) if isinstance(v, dict)]
    if "template/on-time-change-reload" in rules:
        for var in variables:
            if var.get("type") == "query" and var.get("refresh") not in (2, "2"):
                var["refresh"] = 2
                done.append(f"variable {var.get('name')!r} refresh: 2")
    if "promql/rate-interval" in rules:
        for panel in iter_panels(dash):
            for target in panel_targets(panel):
                expr = target.get("expr")
                if isinstance(expr, str) and fix_rate_windows(expr) != expr:
                    target["expr"] = fix_rate_windows(expr)
                    done.append(f"panel {panel.get('title')!r} refId {target.get('refId')}: [$__rate_interval]")
    if "template/datasource" in rules and not any(v.get("name") == DATASOURCE_VARIABLE for v in variables):
        refs: list[dict[str, Any]] = [
            ref
            for ref in [p.get("datasource") for p in iter_panels(dash)]
            + [t.get("datasource") for p in iter_panels(dash) for t in panel_targets(p)]
            if isinstance(ref, dict) and _is_prometheus_ref(ref)
        ]
        uids = [str(r["uid"]) for r in refs if r.get("uid")]
        if uids:
            current = max(set(uids), key=uids.count)
            variable = {
                "name": DATASOURCE_VARIABLE,
                "label": "Prometheus",
                "type": "datasource",
                "query": "prometheus",
                "current": {"text": current, "value": current},
                "hide": 0,
            }
            templating = dash.setdefault("templating", {})
            if not isinstance(templating, dict):
                return done
            templating["list"] = [variable, *variables]
            for ref in refs:
                ref["uid"] = f"${{{DATASOURCE_VARIABLE}}}"
            done.append(f"datasource variable ${DATASOURCE_VARIABLE} (was uid {current!r})")
    return done


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.bo1dash-fix.tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    except OSError:
        if tmp.is_file():
            tmp.unlink()
        raise


def fix_files(findings: Iterable[Finding]) -> list[str]:
    """Apply the fixable findings to their files; one line per change ("file: what")."""
    by_file: dict[str, set[str]] = defaultdict(set)
    for f in findings:
        if f.rule in FIXABLE:
            by_file[f.file].add(f.rule)
    report: list[str] = []
    for file, rules in sorted(by_file.items()):
        path = Path(file)
        doc = json.loads(path.read_text())
        dash = doc["dashboard"] if isinstance(doc.get("dashboard"), dict) and "panels" not in doc else doc
        done = _fix_dashboard(dash, rules)
        if done:
            _write_atomically(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
            report.extend(f"{file}: fixed {what}" for what in done)
    return report
