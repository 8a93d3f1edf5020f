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
    # Knobs of the smaller histories (the verifier's, scenario/history.py); the defaults are the bench's.
    models: int = 0  # the first N of series.MODELS (0: all)
    nodes: int = 0  # the first N of series.GRAPH_NODES (0: all)
    families: tuple[str, ...] = ()  # only these metric families (0: all)
    # exporter job -> scrape target (instance label) of its series; default series.EXPORTER_JOBS
    exporter_instances: tuple[tuple[str, str], ...] = ()
    # (job, step, steps down): the exporter restarts at `step`, is down that long (up 0), its counters reset
    exporter_restarts: tuple[tuple[str, int, int], ...] = ()
    # [first, last) steps with no sample at all (Prometheus itself was not scraping); counters go on
    gaps: tuple[tuple[int, int], ...] = ()

    @property
    def minutes(self) -> int:
        return int(self.days * 86400 // self.step_seconds)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, tuple):
                data[key] = [list(v) if isinstance(v, tuple) else v for v in value]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Scale:
        """The inverse of `to_json` (tuples back)."""
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key, value in fields.items():
            if isinstance(value, list):
                fields[key] = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        return cls(**fields)


def history_end(now: datetime | None = None) -> datetime:
    """The end of the history: the last whole hour before now (UTC), so the 30 days fit bo1's partitions."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return moment.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)


PRESETS: dict[str, Scale] = {
    "production": Scale(),
    "small": Scale(days=2, ledger_rows=2_000, users=50, handlers=44, deploy_every_hours=20),
}
