"""`index.html`: every dashboard's PNG and, below it, each panel with the verifier's verdict."""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bo1dash.grafana.panels import visible_panels
from bo1dash.preview.verdicts import badge


@dataclass(frozen=True)
class PanelLine:
    panel_id: int | None
    title: str
    type: str
    status: str  # the verdict's status, "" when the verifier gave none
    shown: str
    reason: str


@dataclass(frozen=True)
class Page:
    """One rendered dashboard."""

    uid: str
    title: str
    png: Path
    panels: tuple[PanelLine, ...]


def page_for(dashboard: Mapping[str, Any], png: Path, verdicts: Mapping[int, Any] | None) -> Page:
    """The index entry of a dashboard: its panels (rows excluded) in layout order with their verdicts."""
    lines = []
    panels = [p for p in visible_panels(dashboard) if p.get("type") != "row"]
    panels.sort(key=lambda p: (int((p.get("gridPos") or {}).get("y", 0)), int((p.get("gridPos") or {}).get("x", 0))))
    for panel in panels:
        pid = panel.get("id")
        mark = badge((verdicts or {}).get(pid)) if isinstance(pid, int) else None
        lines.append(
            PanelLine(
                panel_id=pid if isinstance(pid, int) else None,
                title=str(panel.get("title") or ""),
                type=str(panel.get("type") or ""),
                status=mark.status if mark else "",
                shown=mark.shown if mark else "",
                reason=mark.reason if mark else "",
            )
        )
    return Page(str(dashboard.get("uid") or ""), str(dashboard.get("title") or ""), png, tuple(lines))


_STYLE = """
body { background: #111217; color: #ccccdc; font-family: sans-serif; margin: 24px; }
a { color: #6e9fff; }
img { max-width: 100%; border: 1px solid #2c3235; }
table { border-collapse: collapse; margin: 12px 0 40px; }
th, td { text-align: left; padding: 4px 12px; border-bottom: 1px solid #2c3235; vertical-align: top; }
td.passed { color: #73bf69; font-weight: bold; }
td.failed { color: #f2495c; font-weight: bold; }
td.unprovable, td.skipped, td.none { color: #8e8e9e; font-weight: bold; }
"""


def _page_html(page: Page, out_dir: Path) -> str:
    src = os.path.relpath(page.png, out_dir)
    counts: dict[str, int] = {}
    for line in page.panels:
        counts[line.status or "no verdict"] = counts.get(line.status or "no verdict", 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    rows = "\n".join(
        "<tr>"
        f"<td>{html.escape(line.title)}</td><td>{html.escape(line.type)}</td>"
        f'<td class="{html.escape(line.status or "none")}">{html.escape(line.status or "no verdict")}</td>'
        f"<td>{html.escape(line.shown)}</td><td>{html.escape(line.reason)}</td>"
        "</tr>"
        for line in page.panels
    )
    anchor = html.escape(page.uid)
    return (
        f'<h2 id="{anchor}">{html.escape(page.title)} <small>({anchor})</small></h2>\n'
        f"<p>{html.escape(summary)}</p>\n"
        f'<a href="{html.escape(src)}"><img src="{html.escape(src)}" alt="{html.escape(page.title)}"></a>\n'
        "<table><tr><th>panel</th><th>type</th><th>verdict</th><th>shown</th><th>reason</th></tr>\n"
        f"{rows}\n</table>\n"
    )


def write_index(out_dir: Path, pages: Sequence[Page], *, note: str = "") -> Path:
    """Write `out_dir/index.html` linking every page's PNG (relative paths) with its panels' verdicts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    toc = " · ".join(f'<a href="#{html.escape(p.uid)}">{html.escape(p.title)}</a>' for p in pages)
    body = "\n".join(_page_html(p, out_dir) for p in pages)
    text = (
        '<!doctype html>\n<html><head><meta charset="utf-8"><title>bo1 dashboard previews</title>'
        f"<style>{_STYLE}</style></head><body>\n<h1>bo1 dashboard previews</h1>\n"
        + (f"<p>{html.escape(note)}</p>\n" if note else "")
        + f"<p>{toc}</p>\n{body}</body></html>\n"
    )
    path = out_dir / "index.html"
    path.write_text(text, encoding="utf-8")
    return path
