"""The benchmark's JSON report and the table printed at the end."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bo1dash.bench.panels import DashboardRun

TARGET_SECONDS = {"7d": 1.0, "30d": 3.0}
RULE_RATIO_TARGET = 10.0


def _version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    return ((out.stdout or out.stderr).strip().splitlines() or ["?"])[0]


def machine(postgres_bin: str | None, prometheus_bin: str | None) -> dict[str, Any]:
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        mem = None
    return {
        "cores": os.cpu_count(), "memory_bytes": mem, "platform": platform.platform(),
        "python": platform.python_version(),
        "prometheus": _version([prometheus_bin, "--version"]) if prometheus_bin else "not found",
        "postgres": _version([postgres_bin, "--version"]) if postgres_bin else "not found",
    }


def ratio(raw: float | None, rules: float | None) -> float | None:
    if raw is None or rules is None or rules <= 0:
        return None
    return raw / rules


def dashboard_summary(run: DashboardRun) -> dict[str, Any]:
    rules_seconds = sum((p.rules_seconds if p.rules_seconds is not None else p.seconds) for p in run.panels)
    rules_samples = sum((p.rules_samples if p.rules_samples is not None else p.samples) for p in run.panels)
    target = TARGET_SECONDS.get(run.range)
    return {
        "uid": run.uid, "range": run.range, "seconds": run.seconds, "samples": run.samples,
        "sql_execution_ms": run.sql_ms, "target_seconds": target,
        "meets_target": None if target is None else run.seconds < target,
        "with_rules_seconds": rules_seconds, "with_rules_samples": rules_samples,
        "seconds_ratio": ratio(run.seconds, rules_seconds), "samples_ratio": ratio(run.samples, rules_samples),
    }


def panel_rows(run: DashboardRun) -> list[dict[str, Any]]:
    rows = []
    for panel in run.panels:
        row = {"uid": run.uid, "range": run.range, "title": panel.title, "type": panel.type,
               "seconds": panel.seconds, "samples": panel.samples,
               "with_rules_seconds": panel.rules_seconds, "with_rules_samples": panel.rules_samples,
               "samples_ratio": ratio(panel.samples, panel.rules_samples),
               "seconds_ratio": ratio(panel.seconds, panel.rules_seconds),
               "targets": [asdict(t) for t in panel.targets]}
        seq = sorted({p for t in panel.targets for p in t.seq_scanned_partitions})
        row["seq_scanned_partitions"] = seq
        row["flag_seq_scan_24h"] = bool(seq) and run.range in ("1h", "24h")
        rows.append(row)
    return rows


def write_json(path: Path, report: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(report, indent=2, sort_keys=True, default=str) + "\n")
    tmp.replace(path)


def _fmt(value: float | None, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def table(report: dict[str, Any]) -> str:
    lines = [f"{'dashboard':<20} {'range':>5} {'seconds':>8} {'target':>6} {'samples':>13} "
             f"{'rules s':>8} {'rules samples':>13} {'x samples':>9} {'sql ms':>8}"]
    for d in report["dashboards"]:
        mark = "" if d["meets_target"] is None else (" ok" if d["meets_target"] else " MISS")
        lines.append(f"{d['uid']:<20} {d['range']:>5} {d['seconds']:>8.3f} {_fmt(d['target_seconds'], '.0f'):>6}"
                     f" {d['samples']:>13,} {d['with_rules_seconds']:>8.3f} {d['with_rules_samples']:>13,}"
                     f" {_fmt(d['samples_ratio'], '.1f'):>9} {d['sql_execution_ms']:>8.1f}{mark}")
    lines.append("")
    lines.append("heaviest panels at 30d (samples, raw vs rules):")
    rows = [p for p in report["panels"] if p["range"] == "30d"]
    for p in sorted(rows, key=lambda r: -(r["samples"] or 0))[:12]:
        lines.append(f"  {p['uid']:<18} {p['title'][:34]:<34} {p['seconds']:>7.3f}s {p['samples']:>13,}"
                     f"  rules {_fmt(p['with_rules_seconds'])}s {p['with_rules_samples'] or 0:>11,}"
                     f"  x{_fmt(p['samples_ratio'], '.1f')}")
    flagged = [p for p in report["panels"] if p["flag_seq_scan_24h"]]
    lines.append("")
    lines.append("ledger seq scans on short ranges: " + (", ".join(
        f"{p['uid']}/{p['title']} ({p['range']}: {', '.join(p['seq_scanned_partitions'])})" for p in flagged)
        or "none"))
    return "\n".join(lines)
