"""`bo1dash bench`: what the dashboards cost at production scale, with and without recording rules.

Builds a month of bo1-shaped history (Prometheus TSDB backfilled with promtool, api_costs ledger COPYed into
bo1's schema), runs every panel at 1h/24h/7d/30d as the verifier would, and writes results/bench.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bo1dash import paths
from bo1dash.bench import report as rpt
from bo1dash.bench.build import table as build_table
from bo1dash.bench.build import time_build
from bo1dash.bench.floor import floor_table, machine_floor, rows_with_floor, summary_with_floor, time_against_floor
from bo1dash.bench.ledger import load_ledger, vacuum_ledger
from bo1dash.bench.panels import RANGES, Env, run_dashboard
from bo1dash.bench.prom import measure, start_prometheus
from bo1dash.bench.rules import CANDIDATES, backfill_rule_file, load_rules, records_read, widened
from bo1dash.bench.scale import PRESETS, history_end
from bo1dash.bench.series import plan
from bo1dash.bench.tsdb import backfill_openmetrics, backfill_rules, move_blocks
from bo1dash.compile import CompileError, compile_mixin
from bo1dash.grafana.datasources import load_datasources
from bo1dash.grafana.panels import iter_panels
from bo1dash.grafana.prometheus import PrometheusClient
from bo1dash.stack.binaries import INITDB, POSTGRES, PROMETHEUS, find_binaries
from bo1dash.stack.postgres import start_postgres
from bo1dash.stack.process import stop
from bo1dash.workload.schema import apply_schema


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bo1dash bench", description=__doc__)
    p.add_argument("--scale", choices=sorted(PRESETS), default="production")
    p.add_argument("--days", type=float, help="days of history (default: the preset's, 30 for production)")
    p.add_argument("--ledger-rows", type=int, help="api_costs rows (default: the preset's)")
    p.add_argument("--ranges", default=",".join(RANGES), help="comma-separated subset of 1h,24h,7d,30d")
    p.add_argument("--out", type=Path, default=Path("results/bench.json"))
    p.add_argument("--no-rules", action="store_true", help="skip the recording-rule backfill and comparison")
    p.add_argument("--no-vacuum", action="store_true", help="leave the ledger as COPY left it (no VACUUM)")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (TSDB, Postgres data, logs)")
    p.add_argument(
        "--only",
        choices=["build"],
        help="only this section (build: whole-process build and lint per Jsonnet engine), merged into --out",
    )
    p.add_argument(
        "--vendor",
        type=Path,
        action="append",
        default=[],
        help="jsonnet vendor tree for the build section (e.g. the real grafonnet from `jb install`)",
    )
    p.add_argument(
        "--passes",
        type=_positive,
        default=3,
        help="times each dashboard and range is timed against its floor, run and floor alternating (median)",
    )
    return p


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 1")
    return int(text)


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _tsdb_metric(url: str, name: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return -1.0


def _record_series(url: str, records: list[str], at: int) -> dict[str, int]:
    """Series per backfilled record over the last day of the history (0: the backfill recorded nothing)."""
    names = "|".join(re.escape(r) for r in records)
    query = f'count by (__name__) (last_over_time({{__name__=~"{names}"}}[1d]))'
    data = httpx.get(f"{url}/api/v1/query", params={"query": query, "time": at}, timeout=120).json()
    return {r["metric"]["__name__"]: int(float(r["value"][1])) for r in (data.get("data") or {}).get("result") or []}


def _per_evaluation(url: str, rules: list[Any], records: list[str], at: int) -> dict[str, dict[str, Any]]:
    """What one evaluation of each record costs raw (samples its expression touches at the end of the history)
    against the one point per series a dashboard reads from the record. Prometheus 2.42's stats do not count
    the samples inside a subquery, so the raw variants' `samples` understate; this is the per-point ratio."""
    client = PrometheusClient(url, timeout=120)
    out: dict[str, dict[str, Any]] = {}
    for record in records:
        rule = next(r for r in rules if r.record == record)
        raw = measure(client, rule.expr, instant_at=at)
        recorded = measure(client, record, instant_at=at)
        out[record] = {
            "raw_samples": raw.samples,
            "rule_samples": recorded.samples,
            "rule_series": recorded.series,
            "ratio": (raw.samples / recorded.samples) if raw.samples and recorded.samples else None,
        }
    return out


def _wait_compaction_settled(url: str, quiet_seconds: float = 65.0, timeout: float = 900.0) -> float:
    """Wait until Prometheus has run no compaction for `quiet_seconds` (its loop runs every minute), so rule
    blocks are merged into the backfilled ones before anything is timed."""
    started = time.monotonic()
    last = (_tsdb_metric(url, "prometheus_tsdb_compactions_total"), _tsdb_metric(url, "prometheus_tsdb_blocks_loaded"))
    quiet_since = time.monotonic()
    while time.monotonic() - started < timeout:
        time.sleep(5)
        now = (
            _tsdb_metric(url, "prometheus_tsdb_compactions_total"),
            _tsdb_metric(url, "prometheus_tsdb_blocks_loaded"),
        )
        if now != last:
            last, quiet_since = now, time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_seconds:
            break
    return time.monotonic() - started


def _exprs(dashboard: dict[str, Any]) -> list[str]:
    return [str(t["expr"]) for p in iter_panels(dashboard) for t in p.get("targets") or [] if t.get("expr")]


def _has_sql(dashboard: dict[str, Any]) -> bool:
    return any(t.get("rawSql") for p in iter_panels(dashboard) for t in p.get("targets") or [])


def run_bench(args: argparse.Namespace) -> dict[str, Any]:
    root_repo = paths.repo_root()
    scale = PRESETS[args.scale]
    if args.days is not None:
        scale = replace(scale, days=args.days)
    if args.ledger_rows is not None:
        scale = replace(scale, ledger_rows=args.ledger_rows)
    ranges = [r for r in args.ranges.split(",") if r in RANGES]
    binaries = find_binaries((INITDB, POSTGRES, PROMETHEUS))
    promtool = shutil.which("promtool") or "promtool"
    work = Path(tempfile.mkdtemp(prefix="bo1bench-"))
    work.chmod(0o755)
    out: dict[str, Any] = {
        "scale": scale.to_json(),
        "ranges": ranges,
        "machine": rpt.machine(binaries.get("postgres"), binaries.get("prometheus")),
    }
    postgres = prometheus = None
    try:
        _log("timing the build and lint per Jsonnet engine")
        out["build"] = time_build(root_repo, vendor_dirs=args.vendor)

        end = history_end()
        start_epoch = int(end.timestamp()) - scale.minutes * scale.step_seconds
        start_dt = datetime.fromtimestamp(start_epoch, UTC)
        out["history"] = {
            "start": start_dt.isoformat(),
            "end": end.isoformat(),
            "resolution_seconds": scale.step_seconds,
        }
        # job names, the stream route and the process groups of the history are the mixin's own
        config = compile_mixin(paths.mixin_entry(root_repo), root=root_repo).config
        families = plan(scale, (start_dt.weekday() * 1440 + start_dt.hour * 60 + start_dt.minute), config)
        tsdb = work / "tsdb"
        _log(f"backfilling {scale.days:g} days of {sum(len(f.series) for f in families)} series with promtool")
        stats = backfill_openmetrics(families, scale, start_epoch, tsdb, promtool)
        out["tsdb"] = {
            "series": stats.series,
            "samples": stats.samples,
            "blocks": stats.blocks,
            "openmetrics_bytes": stats.text_bytes,
            "seconds": stats.seconds,
            "series_by_family": {f.name: len(f.series) for f in families},
        }
        _log(f"TSDB: {stats.series} series, {stats.samples:,} samples, {stats.blocks} blocks in {stats.seconds:.0f}s")

        _log("PostgreSQL: bo1 schema, then the ledger")
        postgres = start_postgres(binaries, work, apply_schema=apply_schema, timeout=120)
        ledger = load_ledger(postgres.database_url, scale, end)
        out["ledger"] = asdict(ledger)
        _log(f"ledger: {ledger.api_costs:,} api_costs rows, {ledger.sessions:,} sessions in {ledger.seconds:.0f}s")

        prometheus = start_prometheus(binaries["prometheus"], tsdb, work)
        rule_path = paths.rule_file(paths.infra_dir(root_repo), "rules")
        rules = load_rules(rule_path) if rule_path.is_file() else []
        available: set[str] = set()
        out["rules"] = {
            "file": str(rule_path.relative_to(root_repo)),
            "records_in_file": sorted({r.record for r in rules}),
        }
        dashboards = [
            json.loads(p.read_text()) for p in sorted((root_repo / "infra" / "grafana" / "dashboards").glob("*.json"))
        ]
        if not args.no_rules:
            # What the dashboards read as they are, plus the records of the bench's proposed fixes.
            read = {n for d in dashboards for e in _exprs(d) for n in records_read(e, rules)}
            needs = read | {n for c in CANDIDATES for n in c.needs}
            out["rules"]["read_by_dashboards"] = sorted(read)
            bench_rules = work / "bench-rules.yml"
            # Two samples per rate window at the history's resolution (see rules.widen_windows).
            min_window = 2 * scale.step_seconds
            written = backfill_rule_file(rules, needs, bench_rules, min_window)
            out["rules"]["min_window_seconds"] = min_window
            _log(f"backfilling recording rules {written} with promtool")
            rule_blocks = work / "rule-blocks"
            seconds = backfill_rules(
                bench_rules, prometheus.url, start_epoch, int(end.timestamp()), rule_blocks, promtool
            )
            prometheus.stop()
            moved = move_blocks(rule_blocks, tsdb)
            prometheus = start_prometheus(binaries["prometheus"], tsdb, work)
            settle = _wait_compaction_settled(prometheus.url)
            counts = _record_series(prometheus.url, written, int(end.timestamp()))
            out["rules"]["series_per_record"] = counts
            empty = sorted(r for r in written if not counts.get(r))
            if empty:
                _log(f"WARNING: backfilled records without series (not measured): {empty}")
            available = set(written) - set(empty)
            out["rules"]["per_evaluation"] = _per_evaluation(
                prometheus.url, widened(rules, min_window), sorted(read - set(empty)), int(end.timestamp())
            )
            out["rules"].update(
                {
                    "backfilled": written,
                    "proposed": sorted({n for c in CANDIDATES if c.proposed for n in c.needs}),
                    "backfill_seconds": seconds,
                    "rule_blocks": moved,
                    "compaction_wait_seconds": settle,
                }
            )
            _log(f"rules backfilled in {seconds:.0f}s, compaction settled after {settle:.0f}s")

        datasources = load_datasources(root_repo / "infra" / "grafana" / "provisioning" / "datasources")
        # The history has one sample per step: Grafana's scrape interval must say so, as it would in prod.
        datasources = {
            uid: (
                replace(ds, json_data={**ds.json_data, "timeInterval": f"{scale.step_seconds}s"})
                if ds.kind == "prometheus"
                else ds
            )
            for uid, ds in datasources.items()
        }
        env = Env(
            datasources=datasources,
            prometheus=PrometheusClient(prometheus.url, timeout=120),
            sql_dsn=postgres.grafana_dsn,
            rules=widened(rules, 2 * scale.step_seconds),
            available_records=available,
        )
        if not args.no_vacuum:
            # The ledger as COPY left it (ANALYZEd, visibility map unset), then as autovacuum keeps it in prod.
            before = [run_dashboard(env, d, r, end, sql_only=True) for d in dashboards if _has_sql(d) for r in ranges]
            out["ledger_before_vacuum"] = [row for r in before for row in rpt.panel_rows(r)]
            vacuum = vacuum_ledger(postgres.database_url)
            out["ledger"]["vacuum"] = asdict(vacuum)
            _log(f"VACUUM (ANALYZE) of the ledger in {vacuum.seconds:.0f}s")
        runs = []
        # The floor is per-query overhead (HTTP, a connection, scheduling): it moves with what else the machine
        # runs far more than the queries' work does, so the load beside it is part of the figure.
        load_before = os.getloadavg()
        for dashboard in dashboards:
            for range_name in ranges:
                run = run_dashboard(env, dashboard, range_name, end)
                passes = time_against_floor(env, dashboard, run, end, args.passes)
                _log(
                    f"{run.uid} {range_name}: {run.seconds:.3f}s, {run.samples:,} samples; median of"
                    f" {args.passes} {passes.seconds:.3f}s, floor {passes.floor_seconds:.3f}s"
                )
                runs.append((run, passes))
        out["dashboards"] = [summary_with_floor(rpt.dashboard_summary(r), p) for r, p in runs]
        out["panels"] = [row for r, p in runs for row in rows_with_floor(rpt.panel_rows(r), p)]
        out["floor"] = machine_floor([p for _, p in runs])
        out["load_average"] = {"before_timing": list(load_before), "after_timing": list(os.getloadavg())}
    finally:
        if prometheus is not None:
            prometheus.stop()
        if postgres is not None:
            stop(postgres.service)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            _log(f"kept {work}")
    return out


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.only == "build":
        missing = [str(v) for v in args.vendor if not v.is_dir()]
        if missing:
            print(
                f"bo1dash bench: --vendor {missing[0]} does not exist; run `jb install` or fix the path",
                file=sys.stderr,
            )
            return 2
        _log("timing the build and lint per Jsonnet engine")
        build = time_build(paths.repo_root(), vendor_dirs=args.vendor)
        earlier = json.loads(args.out.read_text()) if args.out.is_file() else {}
        rpt.write_json(args.out, {**earlier, "build": build})
        print(build_table(build))
        print(f"\nwrote the build section of {args.out}")
        return 0
    try:
        report = run_bench(args)
    except CompileError as exc:
        print(f"bo1dash bench: the mixin does not compile: {exc}", file=sys.stderr)
        return 2
    rpt.write_json(args.out, report)
    print(rpt.table(report))
    print()
    print(floor_table(report))
    print(f"\nwrote {args.out}")
    return 0
