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
        "cores": os.cpu_count(),
        "memory_bytes": mem,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "prometheus": _version([prometheus_bin, "--version"]) if prometheus_bin else "not found",
        "postgres": _version([postgres_bin, "--version"]) if postgres_bin else "not found",
    }


def ratio(raw: float | None, rules: float | None) -> float | None:
    if raw is None or rules is None or rules <= 0:
        return None
    return raw / rules


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def dashboard_summary(run: DashboardRun) -> dict[str, Any]:
    """Totals as the dashboard is (on its recording rules), without rules (`raw_*`: each recorded series
    expanded to its rule's expression) and with the bench's proposed fixes (`with_fixes_*`)."""
    raw_seconds = sum(_or(p.raw_seconds, p.seconds) for p in run.panels)
    raw_samples = sum(int(_or(p.raw_samples, p.samples)) for p in run.panels)
    fix_seconds = sum(_or(p.fix_seconds, p.seconds) for p in run.panels)
    fix_samples = sum(int(_or(p.fix_samples, p.samples)) for p in run.panels)
    target = TARGET_SECONDS.get(run.range)
    return {
        "uid": run.uid,
        "range": run.range,
        "seconds": run.seconds,
        "samples": run.samples,
        "sql_execution_ms": run.sql_ms,
        "target_seconds": target,
        "meets_target": None if target is None else run.seconds < target,
        "raw_seconds": raw_seconds,
        "raw_samples": raw_samples,
        "seconds_ratio": ratio(raw_seconds, run.seconds),
        "samples_ratio": ratio(raw_samples, run.samples),
        "with_fixes_seconds": fix_seconds,
        "with_fixes_samples": fix_samples,
        "meets_target_with_fixes": None if target is None else fix_seconds < target,
    }


def panel_rows(run: DashboardRun) -> list[dict[str, Any]]:
    rows = []
    for panel in run.panels:
        samples_ratio = ratio(panel.raw_samples, panel.samples)
        row = {
            "uid": run.uid,
            "range": run.range,
            "title": panel.title,
            "type": panel.type,
            "seconds": panel.seconds,
            "samples": panel.samples,
            "raw_seconds": panel.raw_seconds,
            "raw_samples": panel.raw_samples,
            "samples_ratio": samples_ratio,
            "seconds_ratio": ratio(panel.raw_seconds, panel.seconds),
            "meets_rule_ratio": None if samples_ratio is None else samples_ratio >= RULE_RATIO_TARGET,
            "with_fixes_seconds": panel.fix_seconds,
            "with_fixes_samples": panel.fix_samples,
            "targets": [asdict(t) for t in panel.targets],
        }
        seq = sorted({p for t in panel.targets for p in t.seq_scanned_partitions})
        row["seq_scanned_partitions"] = seq
        row["ledger_access"] = sorted({a for t in panel.targets for a in t.ledger_access})
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
    lines = [
        f"{'dashboard':<18} {'range':>5} {'seconds':>8} {'target':>6} {'samples':>13} "
        f"{'raw s':>8} {'raw samples':>13} {'x samples':>9} {'sql ms':>8} {'fixes s':>8}"
    ]
    for d in report["dashboards"]:
        mark = "" if d["meets_target"] is None else (" ok" if d["meets_target"] else " MISS")
        fixed = (
            ""
            if d["meets_target_with_fixes"] is None or d["meets_target"]
            else (" (fixed)" if d["meets_target_with_fixes"] else " (still missed)")
        )
        lines.append(
            f"{d['uid']:<18} {d['range']:>5} {d['seconds']:>8.3f} {_fmt(d['target_seconds'], '.0f'):>6}"
            f" {d['samples']:>13,} {d['raw_seconds']:>8.3f} {d['raw_samples']:>13,}"
            f" {_fmt(d['samples_ratio'], '.1f'):>9} {d['sql_execution_ms']:>8.1f}"
            f" {d['with_fixes_seconds']:>8.3f}{mark}{fixed}"
        )
    for range_name in ("7d", "30d"):
        rows = [p for p in report["panels"] if p["range"] == range_name]
        if not rows:
            continue
        lines.append("")
        lines.append(f"heaviest panels at {range_name} (as is, without rules, with the proposed fix):")
        for p in sorted(rows, key=lambda r: -(r["seconds"] or 0))[:10]:
            lines.append(
                f"  {p['uid']:<17} {p['title'][:32]:<32} {p['seconds']:>7.3f}s {p['samples']:>12,}"
                f"  raw {_fmt(p['raw_seconds'])}s {p['raw_samples'] or 0:>12,} x{_fmt(p['samples_ratio'], '.1f')}"
                f"  fix {_fmt(p['with_fixes_seconds'])}s {p['with_fixes_samples'] or 0:>10,}"
            )
    flagged = [p for p in report["panels"] if p["flag_seq_scan_24h"]]
    lines.append("")
    lines.append(
        "ledger seq scans on short ranges: "
        + (
            ", ".join(
                f"{p['uid']}/{p['title']} ({p['range']}: {', '.join(p['seq_scanned_partitions'])})" for p in flagged
            )
            or "none"
        )
    )
    before = {(p["range"], p["title"]): p for p in report.get("ledger_before_vacuum") or []}
    if before:
        lines.append("")
        lines.append("ledger panels before -> after VACUUM (ANALYZE):")
        for p in report["panels"]:
            b = before.get((p["range"], p["title"]))
            if b is None or p["uid"] != b["uid"]:
                continue
            lines.append(
                f"  {p['range']:>4} {p['title'][:28]:<28} {b['seconds'] * 1000:>7.0f} ms -> "
                f"{p['seconds'] * 1000:>7.0f} ms  {'; '.join(b['ledger_access'])} -> "
                f"{'; '.join(p['ledger_access'])}"
            )
    return "\n".join(lines)
