"""A verify run on a stack started for it: start the stack, run the scenario, wait until Prometheus holds what
the panels need, verify every panel, stop the stack. `bo1dash verify` and `bo1dash preview` both run this.

    report = run_on_fresh_stack(files, datasources, results, seed=1, allow_unprovable=frozenset())
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bo1dash import paths
from bo1dash.compile import CompileError, compile_mixin
from bo1dash.grafana.prometheus import PrometheusClient, PrometheusError
from bo1dash.verify import stack_facts
from bo1dash.verify.history import history_needed
from bo1dash.verify.model import Endpoints, VerifyReport
from bo1dash.verify.runner import verify_dashboards


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that say what to check and against what (`default_inputs` fills in what is left out);
    shared by `bo1dash verify` and `bo1dash preview`."""
    parser.add_argument(
        "files", nargs="*", type=Path, help="dashboard JSON files (default: infra/grafana/dashboards/*.json)"
    )
    parser.add_argument("--prometheus-url", help="a running Prometheus (starts nothing)")
    parser.add_argument("--postgres-dsn", help="a running PostgreSQL, read-only role (starts nothing)")
    parser.add_argument("--datasources", type=Path, help="datasource provisioning dir (default: the repo's)")


def default_inputs(
    prog: str, files: list[Path], datasources: Path | None, results: Path | None
) -> tuple[list[Path], Path, Path]:
    """The dashboards, datasource provisioning and results directory of a run: the given ones, else the
    repository's built dashboards, its provisioning and results/. Raises ValueError saying what to pass."""
    try:
        root: Path | None = paths.repo_root()
    except FileNotFoundError:
        root = None
    infra = paths.infra_dir(root) if root else None
    files = list(files) or (sorted(paths.dashboards_dir(infra).glob("*.json")) if infra else [])
    datasources = datasources or (paths.datasources_dir(infra) if infra else None)
    results = results or (paths.results_dir(root) if root else Path("results"))
    if not files:
        raise ValueError(f"{prog}: no dashboard files (pass FILES or run inside the repository after `bo1dash build`)")
    if datasources is None or not datasources.is_dir():
        raise ValueError(f"{prog}: datasource provisioning dir {datasources} not found (pass --datasources)")
    return files, datasources, results


def repo_config(prog: str) -> dict[str, Any]:
    """The repository mixin's `_config` (empty outside the repository). Raises ValueError naming the Jsonnet
    file and line when the mixin does not compile."""
    try:
        root = paths.repo_root()
    except FileNotFoundError:
        return {}
    try:
        return compile_mixin(paths.mixin_entry(root), root=root).config
    except CompileError as exc:
        raise ValueError(f"{prog}: {exc}") from None


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
            raise TimeoutError(
                f"Prometheus at {prometheus_url} did not scrape {job_regex} after {after.isoformat()} within {timeout:.0f}s"
            )
        time.sleep(0.5)


def wait_for_history(files: list[Path], datasources: Path, first_scrape: float) -> None:
    """Let the young stack grow the history its widest-step panel needs to draw a line (see history.py)."""
    needed, panel = history_needed(files, datasources, datetime.now(UTC))
    remaining = first_scrape + needed - time.time()
    if remaining > 0:
        print(f"waiting {remaining:.0f}s: {panel} needs {needed:.0f}s of Prometheus history to draw a line", flush=True)
        time.sleep(remaining)


def _window_end(expectations: Mapping[str, Any]) -> datetime:
    """When the scenario's traffic ended (its expectations' window end)."""
    return datetime.fromisoformat(str(expectations["window"]["end"]))


def run_on_fresh_stack(
    files: list[Path], datasources: Path, results: Path, *, seed: int, allow_unprovable: frozenset[str]
) -> VerifyReport:
    """Verify `files` on a stack started here and filled by the scenario (seed `seed`); the scenario's
    expectations go to `results`/expectations.json. The stack is stopped before this returns."""
    from bo1dash.scenario import run_scenario
    from bo1dash.stack import StackOptions, start_stack

    with start_stack(StackOptions(seed=seed)) as stack:
        if stack.api_url is None:
            raise RuntimeError("the stack started no workload API")
        first_scrape = time.time()
        out = results / "expectations.json"
        with run_scenario(stack.api_url, stack.database_url, seed=seed, out=out) as expectations:
            wait_for_scrape_after(stack.prometheus_url, ".*", _window_end(expectations.data))
            wait_for_history(files, datasources, first_scrape)
            return verify_dashboards(
                files,
                endpoints=Endpoints(stack.prometheus_url, stack.grafana_dsn),
                provisioning_dir=datasources,
                expectations=out,
                now=datetime.now(UTC),
                allow_unprovable=allow_unprovable,
                facts=stack_facts.from_stack(stack),
                config=stack.config,
            )
