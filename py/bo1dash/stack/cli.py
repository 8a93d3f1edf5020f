"""`bo1dash up` (nox -s up): start the local stack, run the scenario, print the URLs, stay up until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from bo1dash import paths
from bo1dash.stack.binaries import GRAFANA, MissingBinaryError, default_search_path, which
from bo1dash.stack.core import RunningStack, StackOptions, start_stack
from bo1dash.stack.process import StackError, failure, port_open

log = logging.getLogger("bo1dash.stack")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bo1dash up", description=__doc__)
    parser.add_argument("--seed", type=int, default=1, help="seed of the workload and the scenario (default 1)")
    parser.add_argument("--time-scale", type=float, help="workload time scale (faster sessions when > 1)")
    parser.add_argument("--no-scenario", action="store_true", help="only the workload's own traffic")
    parser.add_argument(
        "--out",
        type=Path,
        help="where the scenario writes its expectations (default results/scenario-expectations.json)",
    )
    parser.add_argument("--grafana-port", type=int, default=3001, help="Grafana's port when it is installed")
    parser.add_argument("--redis-password", help="start Redis with requirepass (bo1 dev sets one)")
    return parser


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _run_scenario(stack: RunningStack, seed: int, out: Path) -> Any:
    """Run the scenario if it is importable; returns its result (holding SSE streams open until close())."""
    try:
        from bo1dash.scenario import run_scenario
    except ImportError as exc:
        print(f"scenario: not available ({exc}); the stack shows only the workload's own traffic")
        return None
    if stack.api_url is None:
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    print(f"scenario: running (seed {seed}) against {stack.api_url} ...", flush=True)
    from bo1dash.scenario.history import ledger_history

    ledger = ledger_history(stack.history) if stack.history is not None else None
    result = run_scenario(stack.api_url, stack.database_url, seed=seed, out=out, history=ledger)
    print(f"scenario: done, expectations in {out}")
    return result


def _start_grafana(stack: RunningStack, repo: Path, port: int, scrape_interval: str) -> str | None:
    binary = which(GRAFANA, default_search_path())
    if binary is None:
        return None
    if port_open(port):
        raise StackError(f"port {port} is taken, Grafana cannot use it: pass --grafana-port with a free port")
    from bo1dash.stack.grafana import apply_dashboards, start_grafana

    infra = paths.infra_dir(repo)
    start_grafana(
        binary,
        stack,
        provisioning_source=infra / "grafana" / "provisioning",
        dashboards_dir=paths.dashboards_dir(infra),
        port=port,
        scrape_interval=scrape_interval,
        dashboards_by_file=False,
    )
    url = f"http://127.0.0.1:{port}"
    # The dashboards come the way `bo1dash apply` delivers them (the datasources stay file-provisioned).
    apply_dashboards(url, "admin", "admin")
    return url


def _print_urls(stack: RunningStack, grafana_url: str | None) -> None:
    rows = [
        ("Prometheus", stack.prometheus_url),
        ("bo1 API (workload)", stack.api_url or "-"),
        ("Postgres (admin)", stack.admin_dsn),
        ("Postgres (bo1, owner)", stack.database_url),
        ("Postgres (grafana_ro)", stack.grafana_dsn),
        ("Redis", stack.redis_url),
        *((f"exporter {job}", url) for job, url in stack.exporter_urls.items()),
        ("logs", str(stack.logs_dir)),
    ]
    width = max(len(name) for name, _ in rows)
    print()
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    if grafana_url:
        print(f"\n  Grafana  {grafana_url}  (admin / admin; dashboards in folder bo1)")
    else:
        print(
            "\n  Grafana is not installed here. To see the dashboards, run Grafana with the repo's provisioning:\n"
            "    docker compose --profile monitoring up\n"
            "  or point any Grafana at the Prometheus URL above (datasource uid 'prometheus') and\n"
            "  the Postgres DSN of grafana_ro (datasource uid 'bo1-postgres'), then import infra/grafana/dashboards."
        )
    print("\nUp. Ctrl-C stops everything and removes the temp root.", flush=True)


def _stay_up(stack: RunningStack) -> int:
    while True:
        for service in stack.services:
            if not service.running():
                print(failure(service, "stopped on its own"), file=sys.stderr)
                return 1
        time.sleep(1)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    repo = paths.repo_root()
    history = None
    if not args.no_scenario:  # the scenario's history too: the dashboards' whole ranges drawn, as in production
        from bo1dash.scenario.history import stack_hook

        dashboards = sorted(paths.dashboards_dir(paths.infra_dir(repo)).glob("*.json"))
        history = stack_hook(args.seed, dashboards, paths.rules_dir(paths.infra_dir(repo)))
    options = StackOptions(
        repo=repo, seed=args.seed, time_scale=args.time_scale, redis_password=args.redis_password, history=history
    )
    try:
        with start_stack(options) as stack:
            log.info("stack up in %s", stack.root)
            scenario = None
            try:
                if not args.no_scenario:
                    out = args.out or paths.results_dir(repo) / "scenario-expectations.json"
                    scenario = _run_scenario(stack, args.seed, out)
                grafana_url = _start_grafana(stack, repo, args.grafana_port, options.scrape_interval)
                _print_urls(stack, grafana_url)
                return _stay_up(stack)
            finally:
                if scenario is not None and hasattr(scenario, "close"):
                    scenario.close()  # the scenario's open SSE streams, before the API stops
    except (MissingBinaryError, StackError) as exc:
        print(f"bo1dash up: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopped; nothing left behind")
        return 0
