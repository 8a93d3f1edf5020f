"""`bo1dash verify`: prove the dashboards against a stack started here, or against given endpoints.

    bo1dash verify                                   # start the stack, run the scenario, verify, stop
    bo1dash verify --prometheus-url URL --postgres-dsn DSN [FILES...]   # any running Prometheus/Postgres

Exit status: 0 when every panel passed (or is unprovable for a job given with --allow-unprovable),
1 when a panel failed or is unprovable for a job not allowed, 2 on a usage or setup error.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from bo1dash import paths
from bo1dash.verify import stack_facts
from bo1dash.verify.history import history_needed
from bo1dash.verify.model import Endpoints, VerifyReport
from bo1dash.verify.prometheus import PrometheusClient, PrometheusError
from bo1dash.verify.report import render_text, write_results
from bo1dash.verify.runner import verify_dashboards


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bo1dash verify", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path, help="dashboard JSON files (default: infra/grafana/dashboards/*.json)")
    parser.add_argument("--prometheus-url", help="a running Prometheus (starts nothing)")
    parser.add_argument("--postgres-dsn", help="a running PostgreSQL, read-only role (starts nothing)")
    parser.add_argument("--datasources", type=Path, help="datasource provisioning dir (default: the repo's)")
    parser.add_argument("--expectations", type=Path, help="expectations JSON of a scenario run")
    parser.add_argument("--results", type=Path, help="where verify.xml and verify.md go (default: results/)")
    parser.add_argument("--allow-unprovable", action="append", default=[], metavar="JOB",
                        help="a scrape job (e.g. cadvisor) whose absence from this Prometheus does not fail the run")
    parser.add_argument("--seed", type=int, default=1, help="scenario seed (self-started stack only)")
    return parser


def wait_for_scrape_after(prometheus_url: str, job_regex: str, after: datetime, *, timeout: float = 90.0) -> None:
    """Block until every target of `job_regex` was scraped after `after` (so the final state is in Prometheus)."""
    client = PrometheusClient(prometheus_url)
    deadline = time.monotonic() + timeout
    expr = f'min(timestamp(up{{job=~"{job_regex}"}}))'
    while True:
        try:
            last = client.scalar(expr, time.time())
        except PrometheusError:
            last = None
        if last is not None and last > after.timestamp():
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"Prometheus at {prometheus_url} did not scrape {job_regex} after {after.isoformat()} within {timeout:.0f}s")
        time.sleep(0.5)


def _wait_for_history(files: list[Path], datasources: Path, first_scrape: float) -> None:
    """Let the young stack grow the history its widest-step panel needs to draw a line (see history.py)."""
    needed, panel = history_needed(files, datasources, datetime.now(timezone.utc))
    remaining = first_scrape + needed - time.time()
    if remaining > 0:
        print(f"waiting {remaining:.0f}s: {panel} needs {needed:.0f}s of Prometheus history to draw a line", flush=True)
        time.sleep(remaining)


def _self_started(args: argparse.Namespace, files: list[Path], datasources: Path, results: Path) -> VerifyReport:
    from bo1dash.scenario import run_scenario
    from bo1dash.stack import StackOptions, start_stack

    with start_stack(StackOptions(seed=args.seed)) as stack:
        if stack.api_url is None:
            raise RuntimeError("the stack started no workload API")
        first_scrape = time.time()
        out = results / "expectations.json"
        with run_scenario(stack.api_url, stack.database_url, seed=args.seed, out=out) as expectations:
            end = datetime.fromisoformat(str(expectations.data["window"]["end"]).replace("Z", "+00:00"))
            wait_for_scrape_after(stack.prometheus_url, ".*", end)
            _wait_for_history(files, datasources, first_scrape)
            return verify_dashboards(
                files,
                endpoints=Endpoints(stack.prometheus_url, stack.grafana_dsn),
                provisioning_dir=datasources,
                expectations=out,
                now=datetime.now(timezone.utc),
                allow_unprovable=frozenset(args.allow_unprovable),
                facts=stack_facts.from_stack(stack),
            )


def main(argv: Sequence[str] | None = None) -> int:
    started = time.monotonic()
    args = _parser().parse_args(argv)
    try:
        root = paths.repo_root()
    except FileNotFoundError:
        root = None
    infra = paths.infra_dir(root) if root else None
    files = list(args.files) or (sorted(paths.dashboards_dir(infra).glob("*.json")) if infra else [])
    datasources = args.datasources or (paths.datasources_dir(infra) if infra else None)
    results = args.results or (paths.results_dir(root) if root else Path("results"))
    if not files:
        print("bo1dash verify: no dashboard files (pass FILES or run inside the repository after `bo1dash build`)", file=sys.stderr)
        return 2
    if datasources is None or not datasources.is_dir():
        print(f"bo1dash verify: datasource provisioning dir {datasources} not found (pass --datasources)", file=sys.stderr)
        return 2
    try:
        if args.prometheus_url or args.postgres_dsn:
            report = verify_dashboards(
                files,
                endpoints=Endpoints(args.prometheus_url, args.postgres_dsn),
                provisioning_dir=datasources,
                expectations=args.expectations,
                allow_unprovable=frozenset(args.allow_unprovable),
            )
        else:
            report = _self_started(args, files, datasources, results)
    except (OSError, RuntimeError, TimeoutError, ValueError) as exc:
        print(f"bo1dash verify: {exc}", file=sys.stderr)
        return 2
    print(render_text(report))
    xml, md = write_results(report, results)
    print(f"results: {xml} {md}")
    blocking = report.blocking_unprovable()
    if blocking:
        jobs = sorted({p.unprovable_job or "" for p in blocking})
        print(f"unprovable here and not allowed: {', '.join(jobs)} (pass --allow-unprovable JOB to accept)")
    verdict = "PASS" if report.ok else "FAIL"
    print(f"verdict: {verdict} after {time.monotonic() - started:.1f}s from start")
    return 0 if report.ok else 1
