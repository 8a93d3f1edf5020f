"""A verify run on a stack started for it: start the stack with its history backfilled (scenario/history.py),
run the live scenario, verify every panel as soon as its last scrape is in, stop the stack. `bo1dash verify` and
`bo1dash preview` both run this.

    report = run_on_fresh_stack(files, datasources, results, seed=1, allow_unprovable=frozenset())
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bo1dash import paths
from bo1dash.compile import CompileError, compile_mixin
from bo1dash.grafana.prometheus import PrometheusClient, PrometheusError
from bo1dash.verify import stack_facts
from bo1dash.verify.history import history_needed, panel_steps
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


def wait_for_last_points(
    files: list[Path], datasources: Path, prometheus_url: str, *, cap: float = 20.0, timeout: float = 60.0
) -> None:
    """Once the final scrape is in: wait until every rule group has been evaluated on it and the last point of
    every panel stepping at most `cap` seconds (the short ranges whose truth reads the final state, e.g. requests
    in flight) lies after that. Wider steps' last points may predate it: their truth (rate integrals) weights the
    last increments by what the plotted rate has shown of them (verify/truth_prom.py)."""
    scraped = time.time()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = httpx.get(f"{prometheus_url}/api/v1/rules", params={"type": "record"}, timeout=10)
        groups = (response.json().get("data") or {}).get("groups") or []
        times = [datetime.fromisoformat(str(g.get("lastEvaluation", ""))[:26].rstrip("Z")) for g in groups]
        if all(t.replace(tzinfo=UTC).timestamp() > scraped for t in times):
            break
        time.sleep(0.5)
    until = settled_at(time.time(), panel_steps(files, datasources, datetime.now(UTC)), cap)
    remaining = until - time.time()
    if remaining > 0:
        time.sleep(remaining)


def settled_at(final: float, steps: Iterable[float], cap: float) -> float:
    """When every panel stepping at most `cap` seconds has a point at or after `final` (a range query's last point
    is the last multiple of its step): wider steps (a 7 d panel's 10 min) are not waited for."""
    return max((math.ceil(final / s) * s for s in steps if 0 < s <= cap), default=final)


def _window_end(expectations: Mapping[str, Any]) -> datetime:
    """When the scenario's traffic ended (its expectations' window end)."""
    return datetime.fromisoformat(str(expectations["window"]["end"]))


def run_on_fresh_stack(
    files: list[Path], datasources: Path, results: Path, *, seed: int, allow_unprovable: frozenset[str]
) -> VerifyReport:
    """Verify `files` on a stack started here and filled by the scenario (seed `seed`); the scenario's
    expectations go to `results`/expectations.json. The stack is stopped before this returns."""
    from bo1dash.scenario import run_scenario
    from bo1dash.scenario.history import ledger_history, stack_hook
    from bo1dash.stack import StackOptions, start_stack

    rules = paths.rules_dir(paths.infra_dir(paths.repo_root()))
    started = time.monotonic()

    def step(what: str) -> None:
        print(f"[verify {time.monotonic() - started:5.1f}s] {what}", flush=True)

    with start_stack(StackOptions(seed=seed, history=stack_hook(seed, files, rules))) as stack:
        if stack.api_url is None:
            raise RuntimeError("the stack started no workload API")
        step("stack up" + (", history backfilled" if stack.history is not None else ""))
        first_scrape = time.time()
        out = results / "expectations.json"
        ledger = ledger_history(stack.history) if stack.history is not None else None
        with run_scenario(stack.api_url, stack.database_url, seed=seed, out=out, history=ledger) as expectations:
            step("live scenario done")
            wait_for_scrape_after(stack.prometheus_url, ".*", _window_end(expectations.data))
            step("its last scrape is in")
            if stack.history is None:
                wait_for_history(files, datasources, first_scrape)
            else:  # the backfilled history draws the lines: judge once the last points hold the final state
                wait_for_last_points(files, datasources, stack.prometheus_url)
                step("rules evaluated on it, in every panel's last point")
                data = json.loads(out.read_text())
                data["history"] = stack.history.to_json()
                out.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
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
