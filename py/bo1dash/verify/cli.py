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
from pathlib import Path

from bo1dash.verify.model import Endpoints
from bo1dash.verify.report import render_text, write_results
from bo1dash.verify.runner import verify_dashboards
from bo1dash.verify.session import add_input_arguments, default_inputs, repo_config, run_on_fresh_stack


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bo1dash verify", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_input_arguments(parser)
    parser.add_argument("--expectations", type=Path, help="expectations JSON of a scenario run")
    parser.add_argument("--results", type=Path, help="where verify.xml and verify.md go (default: results/)")
    parser.add_argument(
        "--allow-unprovable",
        action="append",
        default=[],
        metavar="JOB",
        help="a scrape job (e.g. cadvisor) whose absence from this Prometheus does not fail the run",
    )
    parser.add_argument("--seed", type=int, default=1, help="scenario seed (self-started stack only)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    started = time.monotonic()
    args = _parser().parse_args(argv)
    try:
        files, datasources, results = default_inputs("bo1dash verify", list(args.files), args.datasources, args.results)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        if args.prometheus_url or args.postgres_dsn:
            report = verify_dashboards(
                files,
                endpoints=Endpoints(args.prometheus_url, args.postgres_dsn),
                provisioning_dir=datasources,
                expectations=args.expectations,
                allow_unprovable=frozenset(args.allow_unprovable),
                config=repo_config("bo1dash verify") if args.expectations else None,
            )
        else:
            report = run_on_fresh_stack(
                files, datasources, results, seed=args.seed, allow_unprovable=frozenset(args.allow_unprovable)
            )
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
