"""python -m bo1dash.scenario --api-url URL --database-url URL --out results/expectations.json [--seed N]

Writes the expectations file, then keeps the scenario's SSE streams open until interrupted
(--no-hold closes them and exits at once).
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from bo1dash.scenario.config import SMALL, ScenarioConfig
from bo1dash.scenario.run import run_scenario


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bo1dash.scenario", description=__doc__)
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--out", type=Path, default=Path("results/expectations.json"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--small", action="store_true", help="a few sessions, no minimum duration")
    parser.add_argument("--no-hold", action="store_true", help="close the SSE streams and exit after writing")
    args = parser.parse_args(argv)
    config = SMALL if args.small else ScenarioConfig()
    with run_scenario(args.api_url, args.database_url, seed=args.seed, out=args.out, config=config) as truth:
        print(f"wrote {args.out} ({truth.data['http']['open_sse_streams_at_end']} SSE streams open)", flush=True)
        if not args.no_hold:
            stop = threading.Event()
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: stop.set())
            stop.wait()


if __name__ == "__main__":
    main()
