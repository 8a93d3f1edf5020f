"""`bo1dash preview`: render every dashboard to results/preview/<uid>.png from live data, plus index.html.

    bo1dash preview                                   # start the stack, run the scenario, render, stop
    bo1dash preview --prometheus-url URL --postgres-dsn DSN [FILES...]   # a running stack (nox -s up)

Each panel is drawn from its queries' results at one instant `now`, and badged with the verifier's verdict of
the same run. Exit status: 0 when every PNG was written (whatever the verdicts), 2 on a usage or setup error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bo1dash import paths
from bo1dash.preview.collect import Sources, collect_results, verdicts_by_panel_id
from bo1dash.preview.index import Page, page_for, write_index
from bo1dash.preview.render import render_dashboard
from bo1dash.verify.datasources import load_datasources
from bo1dash.verify.model import Endpoints
from bo1dash.verify.prometheus import PrometheusClient
from bo1dash.verify.sql import SqlRunner


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bo1dash preview", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path, help="dashboard JSON files (default: infra/grafana/dashboards/*.json)")
    parser.add_argument("--prometheus-url", help="a running Prometheus (starts nothing)")
    parser.add_argument("--postgres-dsn", help="a running PostgreSQL, read-only role (starts nothing)")
    parser.add_argument("--datasources", type=Path, help="datasource provisioning dir (default: the repo's)")
    parser.add_argument("--expectations", type=Path, help="expectations JSON of a scenario run (for the verdicts)")
    parser.add_argument("--results", type=Path, help="results dir; PNGs and index.html go to its preview/ (default: results/)")
    parser.add_argument("--seed", type=int, default=1, help="scenario seed (self-started stack only)")
    return parser


def render_all(files: Sequence[Path], endpoints: Endpoints, datasources: Path, out_dir: Path,
               expectations: Path | None, now: datetime) -> list[Page]:
    """Verify and render each dashboard file at `now`; returns the index pages."""
    from bo1dash.verify.runner import verify_dashboards

    report = verify_dashboards(list(files), endpoints=endpoints, provisioning_dir=datasources,
                               expectations=expectations, now=now)
    sources = Sources(
        datasources=load_datasources(datasources),
        prometheus=PrometheusClient(endpoints.prometheus_url) if endpoints.prometheus_url else None,
        sql=SqlRunner(endpoints.postgres_dsn) if endpoints.postgres_dsn else None,
    )
    pages = []
    for path in files:
        dashboard = json.loads(path.read_text())
        collected = collect_results(dashboard, sources, now)
        verdicts = verdicts_by_panel_id(dashboard, report.panels)
        png = render_dashboard(dashboard, collected.results, verdicts,
                               out_dir / f"{dashboard.get('uid') or path.stem}.png", now=now)
        print(f"wrote {png}")
        pages.append(page_for(dashboard, png, verdicts))
    return pages


def _self_started(args: argparse.Namespace, files: list[Path], datasources: Path, results: Path,
                  out_dir: Path) -> list[Page]:
    from bo1dash.scenario import run_scenario
    from bo1dash.stack import StackOptions, start_stack
    from bo1dash.verify.cli import wait_for_scrape_after

    with start_stack(StackOptions(seed=args.seed)) as stack:
        if stack.api_url is None:
            raise RuntimeError("the stack started no workload API")
        out = results / "expectations.json"
        with run_scenario(stack.api_url, stack.database_url, seed=args.seed, out=out) as expectations:
            end = datetime.fromisoformat(str(expectations.data["window"]["end"]))
            wait_for_scrape_after(stack.prometheus_url, ".*", end)
            return render_all(files, Endpoints(stack.prometheus_url, stack.grafana_dsn), datasources, out_dir, out,
                              datetime.now(UTC))


def main(argv: Sequence[str] | None = None) -> int:
    started = time.monotonic()
    args = _parser().parse_args(list(argv) if argv is not None else None)
    try:
        root: Path | None = paths.repo_root()
    except FileNotFoundError:
        root = None
    infra = paths.infra_dir(root) if root else None
    files = list(args.files) or (sorted(paths.dashboards_dir(infra).glob("*.json")) if infra else [])
    datasources = args.datasources or (paths.datasources_dir(infra) if infra else None)
    results = args.results or (paths.results_dir(root) if root else Path("results"))
    out_dir = results / "preview"
    if not files:
        print("bo1dash preview: no dashboard files (pass FILES or run inside the repository)", file=sys.stderr)
        return 2
    if datasources is None or not datasources.is_dir():
        print(f"bo1dash preview: datasource provisioning dir {datasources} not found (pass --datasources)", file=sys.stderr)
        return 2
    try:
        if args.prometheus_url or args.postgres_dsn:
            pages = render_all(files, Endpoints(args.prometheus_url, args.postgres_dsn), datasources, out_dir,
                               args.expectations, datetime.now(UTC))
            note = f"Live data from {args.prometheus_url or 'no Prometheus'} and {'a' if args.postgres_dsn else 'no'} PostgreSQL."
        else:
            pages = _self_started(args, files, datasources, results, out_dir)
            note = f"Live data from a stack started for this run, filled by the scenario (seed {args.seed})."
    except (OSError, RuntimeError, TimeoutError, ValueError) as exc:
        print(f"bo1dash preview: {exc}", file=sys.stderr)
        return 2
    index = write_index(out_dir, pages, note=note)
    print(f"wrote {index} ({len(pages)} dashboards) in {time.monotonic() - started:.1f}s")
    return 0
