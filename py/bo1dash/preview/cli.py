"""`bo1dash preview`: render every dashboard to results/preview/<uid>.png from live data, plus index.html.

    bo1dash preview                                   # start the stack, run the scenario, render, stop
    bo1dash preview --prometheus-url URL --postgres-dsn DSN [FILES...]   # a running stack (nox -s up)

The verifier runs every panel's queries once (`bo1dash.verify`, same stack start-up as `bo1dash verify`); each
panel is drawn from exactly the results it judged, at the instant the queries ran, and badged with its verdict.
Exit status: 0 when every PNG was written (whatever the verdicts), 2 on a usage or setup error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bo1dash.preview.index import Page, page_for, write_index
from bo1dash.preview.render import render_dashboard
from bo1dash.preview.verdicts import panels_by_id
from bo1dash.verify.model import Endpoints, VerifyReport
from bo1dash.verify.report import totals_line
from bo1dash.verify.runner import verify_dashboards
from bo1dash.verify.session import add_input_arguments, default_inputs, repo_config, run_on_fresh_stack


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bo1dash preview", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_input_arguments(parser)
    parser.add_argument("--expectations", type=Path, help="expectations JSON of a scenario run (for the verdicts)")
    parser.add_argument(
        "--results", type=Path, help="results dir; PNGs and index.html go to its preview/ (default: results/)"
    )
    parser.add_argument("--seed", type=int, default=1, help="scenario seed (self-started stack only)")
    return parser


def render_report(report: VerifyReport, files: Sequence[Path], out_dir: Path) -> list[Page]:
    """Draw each dashboard file from the verifier's report: every panel from the results the verifier judged,
    badged with its verdict, at the instant the queries ran (`report.now`); returns the index pages."""
    pages = []
    for path in files:
        dashboard = json.loads(path.read_text())
        panels = panels_by_id(report, str(dashboard.get("uid", "")))
        png = render_dashboard(
            dashboard,
            {pid: p.results for pid, p in panels.items()},
            panels,
            out_dir / f"{dashboard.get('uid') or path.stem}.png",
            now=report.now,
        )
        print(f"wrote {png}")
        pages.append(page_for(dashboard, png, panels))
    return pages


def _verify(args: argparse.Namespace, files: list[Path], datasources: Path, results: Path) -> tuple[VerifyReport, str]:
    """The verifier's report on the given endpoints, or on a stack started (and stopped) here; and where from."""
    if args.prometheus_url or args.postgres_dsn:
        report = verify_dashboards(
            files,
            endpoints=Endpoints(args.prometheus_url, args.postgres_dsn),
            provisioning_dir=datasources,
            expectations=args.expectations,
            config=repo_config("bo1dash preview") if args.expectations else None,
        )
        postgres = "a" if args.postgres_dsn else "no"
        return report, f"Live data from {args.prometheus_url or 'no Prometheus'} and {postgres} PostgreSQL."
    report = run_on_fresh_stack(files, datasources, results, seed=args.seed, allow_unprovable=frozenset())
    return report, f"Live data from a stack started for this run, filled by the scenario (seed {args.seed})."


def main(argv: Sequence[str] | None = None) -> int:
    started = time.monotonic()
    args = _parser().parse_args(list(argv) if argv is not None else None)
    try:
        files, datasources, results = default_inputs(
            "bo1dash preview", list(args.files), args.datasources, args.results
        )
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    out_dir = results / "preview"
    try:
        report, note = _verify(args, files, datasources, results)
        print(totals_line(report))
        pages = render_report(report, files, out_dir)
    except (OSError, RuntimeError, TimeoutError, ValueError) as exc:
        print(f"bo1dash preview: {exc}", file=sys.stderr)
        return 2
    index = write_index(out_dir, pages, note=note)
    print(f"wrote {index} ({len(pages)} dashboards) in {time.monotonic() - started:.1f}s")
    return 0
