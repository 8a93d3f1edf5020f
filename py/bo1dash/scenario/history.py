"""The verifier's history: the bench's generator (bench/series.py) at the verify scale, written into the stack's
Prometheus with promtool before the live scenario starts. One generator, two scales: the bench writes a month
of production at 1 min, the verifier the dashboards' 6 h at the scrape interval Grafana sees.

    info = backfill_history(data_dir, plan_history(seed, instances, config, now), rules, needs, binaries)

The history ends `QUIET` before the stack's Prometheus starts: longer than Prometheus' 5 min lookback, so the live
part of every panel (after `live_from`) holds only the scenario's live data, and the history part only the
generator's. Its special events, each with a panel check (verify/truth_range.py):
- blue/green deploys: `bo1-backend-blue` live, then `-green`, then `-blue` again (its counters start from 0: a
  counter reset in the same series; the idle colour is down, `up` 0);
- a process-exporter restart: one missed scrape (`up` 0), its counters reset;
- a scrape gap: `GAP` steps without any sample (Prometheus itself was down; longer than the lookback).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bo1dash.bench.prom import start_prometheus
from bo1dash.bench.rules import backfill_rule_file, load_rules, records_read
from bo1dash.bench.scale import Scale
from bo1dash.bench.series import EXPORTER_INSTANCES, MODELS, PLAN_CONFIG_KEYS, Family, api_windows, iter_series, plan
from bo1dash.bench.tsdb import backfill_openmetrics, backfill_rules, move_blocks
from bo1dash.grafana.panels import iter_panels

STEP = 15  # seconds: the Prometheus datasource's timeInterval, the scrape interval Grafana's $__rate_interval uses
STEPS = 1560  # 6 h 30 min: the API and infrastructure dashboards' 6 h plus their widest windows
QUIET = timedelta(minutes=5, seconds=30)  # last history sample -> live Prometheus start (> the 5 min lookback)
LOOKBACK = 300.0  # Prometheus' --query.lookback-delta: an instant selector still sees a sample this long
DEPLOY_STEPS = 600  # blue [0, 600), green [600, 1200), blue again [1200, STEPS)
RESTART = ("process-exporter", 720, 1)  # (job, step, steps down)
GAP = (1380, 1420)  # 10 min without any sample, inside the 1 h panels' range too
# What the dashboards read (cAdvisor is absent like in the stack: its panels stay unprovable here).
FAMILIES = (
    "http_requests",
    "http_request_duration_seconds",
    "http_requests_inprogress",
    "llm_cost_dollars",
    "llm_tokens",
    "bo1_graph_node_duration_seconds",
    "bo1_graph_node",
    "bo1_sessions",
    "up",
    "redis_memory_used_bytes",
    "redis_memory_max_bytes",
    "redis_connected_clients",
    "redis_blocked_clients",
    "pg_stat_database_numbackends",
    "pg_settings_max_connections",
    "pg_stat_activity_max_tx_duration",
    "node_filesystem_avail_bytes",
    "node_filesystem_size_bytes",
    "namedprocess_namegroup_cpu_seconds",
    "namedprocess_namegroup_memory_bytes",
)


@dataclass(frozen=True)
class History:
    """A planned history: the generator's scale and where its step 0 lies."""

    scale: Scale
    start_epoch: int
    # The mixin _config keys the generator reads (bench.series.PLAN_CONFIG_KEYS), as pairs: a History is hashable.
    config: tuple[tuple[str, Any], ...]

    def families(self) -> list[Family]:
        """The generator's families of this history."""
        return plan(self.scale, self.minute_of_week(), dict(self.config))

    @property
    def end_epoch(self) -> int:
        """One step after the last sample."""
        return self.start_epoch + self.scale.minutes * self.scale.step_seconds

    @property
    def live_from(self) -> float:
        """From here on no history sample is visible any more (last sample + lookback): the live part."""
        return self.end_epoch - self.scale.step_seconds + LOOKBACK + 1

    def at(self, step: int) -> datetime:
        return datetime.fromtimestamp(self.start_epoch + step * self.scale.step_seconds, UTC)

    def minute_of_week(self) -> int:
        start = datetime.fromtimestamp(self.start_epoch, UTC)
        return start.weekday() * 1440 + start.hour * 60 + start.minute

    def events(self) -> list[dict[str, Any]]:
        """The history's special events, in time order."""
        scale, out = self.scale, []
        for j, job in enumerate(scale.jobs):
            for k, w in enumerate(api_windows(scale, j)):
                if w.start > 0:
                    again = " again: its counters start from 0 (a counter reset)" if k else ""
                    out.append({"kind": "deploy", "at": _iso(self.at(w.start)), "detail": f"{job} live{again}"})
        for job, step, down in scale.exporter_restarts:
            out.append(
                {
                    "kind": "exporter restart",
                    "at": _iso(self.at(step)),
                    "detail": f"{job}: {down} scrape(s) missed, counters reset",
                }
            )
        for first, last in scale.gaps:
            out.append(
                {
                    "kind": "scrape gap",
                    "at": _iso(self.at(first)),
                    "end": _iso(self.at(last)),
                    "detail": f"no sample for {(last - first) * scale.step_seconds}s",
                }
            )
        day = (self.start_epoch // 86400 + 1) * 86400
        while day < self.end_epoch:
            out.append({"kind": "UTC midnight", "at": _iso(datetime.fromtimestamp(day, UTC)), "detail": ""})
            day += 86400
        return sorted(out, key=lambda e: e["at"])

    def to_json(self) -> dict[str, Any]:
        return {
            "scale": self.scale.to_json(),
            "config": dict(self.config),
            "start": _iso(self.at(0)),
            "start_epoch": self.start_epoch,
            "end": _iso(datetime.fromtimestamp(self.end_epoch, UTC)),
            "end_epoch": self.end_epoch,
            "live_from": _iso(datetime.fromtimestamp(self.live_from, UTC)),
            "lookback_seconds": LOOKBACK,
            "events": self.events(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> History:
        return cls(
            Scale.from_json(dict(data["scale"])), int(data["start_epoch"]), tuple(sorted(data["config"].items()))
        )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def plan_history(
    seed: int,
    exporter_instances: Mapping[str, str],
    config: Mapping[str, Any],
    now: datetime | None = None,
    steps: int = STEPS,
) -> History:
    """The verify-scale history ending `QUIET` before `now`, its exporters scraped at `exporter_instances`
    (job -> host:port, the stack's own, so their lines go on into the live part). Its traffic is the bench's own
    (the generator's seed; `seed`, the scenario's, only names the run): the first handlers, models and graph nodes
    of the production history, at the scrape interval."""
    moment = (now or datetime.now(UTC)).timestamp() - QUIET.total_seconds()
    end = int(moment // STEP) * STEP
    exporters = {str(config[key]) for key in EXPORTER_INSTANCES}
    exporter_instances = {job: at for job, at in exporter_instances.items() if job in exporters}
    scale = Scale(
        days=(steps * STEP + 0.5) / 86400,
        step_seconds=STEP,
        handlers=6,
        jobs=("bo1-backend-blue", "bo1-backend-green"),
        instances_per_job=1,
        deploy_every_hours=DEPLOY_STEPS * STEP / 3600,
        ledger_rows=0,
        users=0,
        models=5,
        nodes=6,
        families=FAMILIES,
        exporter_instances=tuple(sorted(exporter_instances.items())),
        exporter_restarts=(RESTART,) if RESTART[0] in exporter_instances and RESTART[1] < steps else (),
        gaps=(GAP,) if GAP[1] < steps else (),
    )
    return History(scale, end - steps * STEP, tuple(sorted((key, config[key]) for key in PLAN_CONFIG_KEYS)))


LEDGER_BLOCK = 300  # seconds of the history's cost counters per ledger row (blocks aligned on UTC midnight)
LEDGER_PROVIDERS = ("anthropic", "voyage", "brave", "tavily")  # bo1's api_costs.check_provider (no openai)
LEDGER_USERS = 3


def ledger_history(history: History) -> Any:
    """The history's spend as `api_costs` rows (a `scenario.backfill.BackfillResult`): per series of
    `llm_cost_dollars_total` of a ledger provider, one row per `LEDGER_BLOCK` with the counter's increase in it
    (a reset counts the new value), at the block's last sample. The ledger and the counters therefore agree on
    every UTC day, every provider and model: one generator for both."""
    from bo1dash.scenario.backfill import BackfillResult
    from bo1dash.workload.ledger import CostRecord

    scale, step = history.scale, history.scale.step_seconds
    raw = {model: raw_id or model for _, model, raw_id, _ in MODELS}
    gap = {t for a, b in scale.gaps for t in range(a, b)}
    users = {f"hist_prom_user_{i}": f"prom{i}@example.com" for i in range(1, LEDGER_USERS + 1)}
    records = []
    for spec in iter_series(history.families()):
        labels = dict(spec.labels)
        if spec.name != "llm_cost_dollars_total" or labels.get("provider") not in LEDGER_PROVIDERS:
            continue
        blocks: dict[int, tuple[int, Decimal]] = {}
        for w in spec.windows:
            last: Decimal | None = None
            for t in range(w.start, min(w.end, scale.minutes)):
                if t in gap:
                    continue
                value = Decimal(spec.value(t, w))
                if last is not None and value != last:
                    block = (history.start_epoch + t * step) // LEDGER_BLOCK
                    _, before = blocks.get(block, (t, Decimal(0)))
                    blocks[block] = (t, before + (value - last if value >= last else value))
                last = value
        for index, (_block, (t, amount)) in enumerate(sorted(blocks.items())):
            records.append(
                CostRecord(
                    created_at=history.at(t),
                    provider=labels["provider"],
                    model_name=raw.get(labels["model"], labels["model"]),
                    operation_type="completion",
                    total_cost=amount,
                    user_id=sorted(users)[index % len(users)],
                    node_name="history",
                )
            )
    records.sort(key=lambda r: (r.created_at, r.provider, r.model_name or ""))
    return BackfillResult(users, [], records)


@dataclass
class BackfillInfo:
    series: int = 0
    samples: int = 0
    records: list[str] = field(default_factory=list)
    seconds: float = 0.0


def backfill_history(
    history: History,
    data_dir: Path,
    rule_files: list[Path],
    needs: set[str],
    prometheus: str,
    promtool: str = "promtool",
) -> BackfillInfo:
    """Write the history's samples (promtool ... openmetrics) and the recorded series in `needs` evaluated over
    them at the history's step (promtool ... rules, against a Prometheus started here on `data_dir` and stopped
    again) into the TSDB directory `data_dir`, which no running Prometheus may use yet."""
    started = time.monotonic()
    scale = history.scale
    families = history.families()
    stats = backfill_openmetrics(families, scale, history.start_epoch, data_dir, promtool)
    info = BackfillInfo(series=stats.series, samples=stats.samples)
    rules = [replace(r, interval=f"{scale.step_seconds}s") for path in rule_files for r in load_rules(path)]
    if rules and needs:
        work = Path(tempfile.mkdtemp(prefix="bo1-history-"))
        try:
            (work / "logs").mkdir()
            rule_file = work / "history-rules.yml"
            info.records = backfill_rule_file(rules, needs, rule_file)
            if info.records:
                temp = start_prometheus(prometheus, data_dir, work)
                try:
                    backfill_rules(
                        rule_file, temp.url, history.start_epoch, history.end_epoch, work / "blocks", promtool
                    )
                finally:
                    temp.stop()
                move_blocks(work / "blocks", data_dir)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    # the temp Prometheus leaves its WAL and lock behind; the stack's starts with the blocks only
    for leftover in ("wal", "chunks_head", "lock", "queries.active"):
        target = data_dir / leftover
        if target.is_dir():
            shutil.rmtree(target, ignore_errors=True)
        else:
            target.unlink(missing_ok=True)
    info.seconds = time.monotonic() - started
    return info


def records_needed(dashboards: Iterable[Path], rule_files: Iterable[Path]) -> set[str]:
    """The recorded series the dashboards read (the ones the history must hold)."""
    rules = [r for path in rule_files for r in load_rules(path)]
    exprs = [
        str(t["expr"])
        for path in dashboards
        for p in iter_panels(json.loads(Path(path).read_text()))
        for t in p.get("targets") or []
        if t.get("expr")
    ]
    return {name for expr in exprs for name in records_read(expr, rules)}


def stack_hook(seed: int, dashboards: list[Path], rules_dir: Path) -> Callable[[Path, Mapping[str, str]], History]:
    """`StackOptions.history`: plan the history against the stack's own scrape targets and backfill it."""
    from bo1dash import paths
    from bo1dash.stack.binaries import PROMETHEUS, find_binaries
    from bo1dash.stack.core import load_config

    config = load_config(paths.repo_root())

    def hook(data_dir: Path, instances: Mapping[str, str]) -> History:
        history = plan_history(seed, instances, config)
        rule_files = sorted(rules_dir.glob("*.yml")) if rules_dir.is_dir() else []
        binary = find_binaries((PROMETHEUS,))[PROMETHEUS.key]
        backfill_history(
            history,
            data_dir,
            rule_files,
            records_needed(dashboards, rule_files),
            binary,
            shutil.which("promtool") or "promtool",
        )
        return history

    return hook
