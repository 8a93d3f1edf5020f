"""python -m bo1dash.workload --host H --port P --database-url URL --redis-url URL [--seed N] [--time-scale F]"""

from __future__ import annotations

import argparse

import uvicorn

from bo1dash.workload.app import create_app
from bo1dash.workload.schema import apply_schema
from bo1dash.workload.settings import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bo1dash.workload", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-scale", type=float, default=Settings.time_scale)
    parser.add_argument("--no-schema", action="store_true", help="do not create bo1's tables at start")
    args = parser.parse_args(argv)
    if not args.no_schema:
        apply_schema(args.database_url)
    settings = Settings(
        database_url=args.database_url, redis_url=args.redis_url, seed=args.seed, time_scale=args.time_scale
    )
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="warning", workers=1)


if __name__ == "__main__":
    main()
