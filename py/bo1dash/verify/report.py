"""The verify report as text (terminal), Markdown (results/verify.md) and JUnit XML (results/verify.xml)."""

from __future__ import annotations

from datetime import UTC
from itertools import groupby
from pathlib import Path
from xml.etree import ElementTree as ET

from bo1dash.verify.model import PanelResult, Status, VerifyReport


def _cell(text: str, width: int | None = None) -> str:
    flat = " ".join(text.split()).replace("|", "\\|")
    return flat if width is None or len(flat) <= width else flat[: width - 1] + "…"


def _rows(report: VerifyReport) -> list[tuple[str, list[PanelResult]]]:
    return [(uid, list(group)) for uid, group in groupby(report.panels, key=lambda p: p.dashboard_uid)]


def totals_line(report: VerifyReport) -> str:
    allowed = f" (allowed: {', '.join(sorted(report.allowed_unprovable))})" if report.allowed_unprovable else ""
    return (
        f"{len(report.panels)} panels: {report.proven} proven ({report.truth_checked} with truth checked), "
        f"{report.failed} failed, {report.unprovable} unprovable here{allowed}, "
        f"{report.count(Status.SKIPPED)} skipped; {report.seconds:.1f}s"
    )


def judged_range(panel: PanelResult) -> str:
    """The part of the range compared with truth, `start..end` in RFC 3339 (UTC), or "" for none."""
    if panel.judged is None:
        return ""
    return "..".join(t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") for t in panel.judged)


def _why(panel: PanelResult) -> str:
    return panel.reason or panel.truth


def render_text(report: VerifyReport) -> str:
    lines: list[str] = []
    for uid, panels in _rows(report):
        lines.append(f"\n{uid}")
        width = max(len(p.panel_title) for p in panels)
        for p in panels:
            lines.append(
                f"  {p.panel_title:<{width}}  {p.status.value:<10}  {_cell(p.shown, 28):<28}  "
                f"{_cell(p.expected, 12):<12}  {_cell(_why(p), 160)}"
            )
    lines.append("")
    lines.append(totals_line(report))
    return "\n".join(lines)


def render_markdown(report: VerifyReport) -> str:
    out = ["# Dashboard verification", ""]
    for uid, panels in _rows(report):
        out += [
            f"## {uid}",
            "",
            "| panel | status | value | expected | range judged | reason |",
            "|---|---|---|---|---|---|",
        ]
        for p in panels:
            out.append(
                f"| {_cell(p.panel_title)} | {p.status.value} | {_cell(p.shown)} | {_cell(p.expected)} "
                f"| {judged_range(p) or '-'} | {_cell(_why(p))} |"
            )
        out.append("")
    out += ["## Totals", "", totals_line(report), ""]
    return "\n".join(out)


def render_junit(report: VerifyReport) -> str:
    suite = ET.Element(
        "testsuite",
        name="bo1dash.verify",
        tests=str(len(report.panels)),
        failures=str(report.failed + len(report.blocking_unprovable())),
        skipped=str(report.count(Status.SKIPPED) + report.unprovable - len(report.blocking_unprovable())),
        time=f"{report.seconds:.3f}",
    )
    blocking = {id(p) for p in report.blocking_unprovable()}
    for p in report.panels:
        case = ET.SubElement(suite, "testcase", classname=p.dashboard_uid, name=p.name, time=f"{p.seconds:.3f}")
        if p.judged is not None:
            properties = ET.SubElement(case, "properties")
            ET.SubElement(properties, "property", name="range", value=judged_range(p))
        detail = "\n".join(
            f"{t.ref_id} [{t.datasource}]: {t.query}" + (f"\n  -> {t.reason}" if t.reason else "") for t in p.targets
        )
        if p.status is Status.FAILED or id(p) in blocking:
            ET.SubElement(case, "failure", message=_cell(_why(p), 500)).text = detail
        elif p.status in (Status.UNPROVABLE, Status.SKIPPED):
            ET.SubElement(case, "skipped", message=_cell(_why(p), 500))
        ET.SubElement(case, "system-out").text = f"value: {p.shown}\nexpected: {p.expected}\n{p.truth}\n{detail}"
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def write_results(report: VerifyReport, results_dir: Path) -> tuple[Path, Path]:
    results_dir.mkdir(parents=True, exist_ok=True)
    xml, md = results_dir / "verify.xml", results_dir / "verify.md"
    xml.write_text(render_junit(report))
    md.write_text(render_markdown(report))
    return xml, md
