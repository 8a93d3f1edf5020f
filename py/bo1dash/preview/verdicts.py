"""The verifier's verdict on a panel, as the preview shows it (a badge on the panel, a row in index.html).

Accepts the verifier's `PanelResult` (status, shown, reason), a mapping with those keys, or a bare status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bo1dash.preview import colors
from bo1dash.verify.model import PanelResult, VerifyReport


@dataclass(frozen=True)
class Badge:
    status: str  # passed | failed | unprovable | skipped | ...
    shown: str = ""
    reason: str = ""

    @property
    def color(self) -> str:
        return {"passed": colors.PASS, "failed": colors.FAIL}.get(self.status, colors.OTHER)

    @property
    def symbol(self) -> str:
        return {"passed": "PASS", "failed": "FAIL"}.get(self.status, self.status.upper())


def _text(value: Any) -> str:
    value = getattr(value, "value", value)  # an Enum member
    return "" if value is None else str(value)


def badge(verdict: Any) -> Badge | None:
    if verdict is None:
        return None
    if isinstance(verdict, str):
        return Badge(status=verdict)
    if isinstance(verdict, Mapping):
        return Badge(_text(verdict.get("status")), _text(verdict.get("shown")), _text(verdict.get("reason")))
    return Badge(
        _text(getattr(verdict, "status", "")),
        _text(getattr(verdict, "shown", "")),
        _text(getattr(verdict, "reason", "")),
    )


def panels_by_id(report: VerifyReport, dashboard_uid: str) -> dict[int, PanelResult]:
    """The verifier's results of one dashboard keyed by panel id: each holds the panel's verdict and the query
    results it judged (`PanelResult.results`), which the preview draws. Panels without an id are not drawn."""
    return {p.panel_id: p for p in report.panels if p.dashboard_uid == dashboard_uid and p.panel_id is not None}
