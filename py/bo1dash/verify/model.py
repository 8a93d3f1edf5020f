"""The verdicts: per target, per panel, per run."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from bo1dash.grafana.frames import QueryResult


class Status(str, Enum):  # noqa: UP042 -- str() and format() of members are relied on as they are
    PASSED = "passed"
    FAILED = "failed"
    UNPROVABLE = "unprovable"  # the data source of the panel does not exist here (e.g. no cAdvisor job)
    SKIPPED = "skipped"  # nothing to query (text panel)


@dataclass(frozen=True)
class Endpoints:
    """Where the panels' datasources really are (provisioning holds compose URLs)."""

    prometheus_url: str | None = None
    postgres_dsn: str | None = None


@dataclass(frozen=True)
class TargetFinding:
    ref_id: str
    datasource: str
    query: str
    ok: bool
    reason: str = ""
    unprovable_job: str | None = None


@dataclass
class PanelResult:
    dashboard_uid: str
    panel_title: str
    panel_type: str
    status: Status
    shown: str = ""
    expected: str = ""
    reason: str = ""
    truth: str = ""  # "checked", "mismatch", or "no truth: <why>"
    targets: list[TargetFinding] = field(default_factory=list)
    seconds: float = 0.0
    unprovable_job: str | None = None
    panel_id: int | None = None  # the panel's `id` in its dashboard (None when it has none)
    # What the panel showed: one result per visible target, in target order, exactly what the judge judged
    # (a target that gave nothing, e.g. a rejected query, has an empty result; masked-fallback probes are not here).
    results: tuple[QueryResult, ...] = ()
    # The part of the time range whose values were compared with truth (None: no truth); see verify/truth_range.py
    judged: tuple[datetime, datetime] | None = None

    @property
    def name(self) -> str:
        return f"{self.dashboard_uid}/{self.panel_title}"


@dataclass
class VerifyReport:
    panels: list[PanelResult] = field(default_factory=list)
    seconds: float = 0.0
    allowed_unprovable: frozenset[str] = frozenset()
    now: datetime | None = None  # the instant every panel's time range ended at

    def count(self, status: Status) -> int:
        return sum(1 for p in self.panels if p.status is status)

    @property
    def proven(self) -> int:
        return self.count(Status.PASSED)

    @property
    def truth_checked(self) -> int:
        return sum(1 for p in self.panels if p.status is Status.PASSED and p.truth == "checked")

    @property
    def failed(self) -> int:
        return self.count(Status.FAILED)

    @property
    def unprovable(self) -> int:
        return self.count(Status.UNPROVABLE)

    def blocking_unprovable(self) -> list[PanelResult]:
        """Unprovable panels whose job was not allowed with --allow-unprovable: they fail the run."""
        return [
            p for p in self.panels if p.status is Status.UNPROVABLE and p.unprovable_job not in self.allowed_unprovable
        ]

    @property
    def ok(self) -> bool:
        return self.failed == 0 and not self.blocking_unprovable()
