"""How big the benchmark history is: days, resolution, cardinality knobs and ledger size."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class Scale:
    """The shape of the synthetic production history.

    jobs x instances_per_job API processes (bo1's prod blue/green); `deploy_every_hours` flips the live
    colour, the idle colour is down (no samples) as in bo1's prod, and a restart resets its counters.
    """

    days: float = 30.0
    step_seconds: int = 60
    handlers: int = 44
    jobs: tuple[str, ...] = ("bo1-backend-blue", "bo1-backend-green")
    instances_per_job: int = 2
    deploy_every_hours: float = 60.0
    ledger_rows: int = 1_000_000
    users: int = 3_000
    seed: int = 20260212

    @property
    def minutes(self) -> int:
        return int(self.days * 86400 // self.step_seconds)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["jobs"] = list(self.jobs)
        return data


def history_end(now: datetime | None = None) -> datetime:
    """The end of the history: the last whole hour before now (UTC), so the 30 days fit bo1's partitions."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return moment.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)


PRESETS: dict[str, Scale] = {
    "production": Scale(),
    "small": Scale(days=2, ledger_rows=2_000, users=50, handlers=44, deploy_every_hours=20),
}
