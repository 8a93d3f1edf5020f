"""`bo1dash export|apply|diff|pull|watch`: argument parsing and printing over the deliver modules.

Every failure is one line on stderr and a non-zero exit: 1, and for diff 2 (diff's 1 means "differs").
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bo1dash.deliver.errors import DeliverError

if TYPE_CHECKING:
    from bo1dash.deliver.client import Grafana


def _mixin_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mixin", type=Path, help="mixin entry file (default: jsonnet/mixin.libsonnet)")
    parser.add_argument("--vendor", type=Path, action="append", default=[], help="extra jsonnet vendor tree")


def _grafana_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--grafana-url",
        help="Grafana's address (default: $GRAFANA_URL); credentials from $GRAFANA_TOKEN, "
        "or $GRAFANA_USER and $GRAFANA_PASSWORD",
    )


def _guarded(command: str, run: Callable[[], int], error_status: int = 1) -> int:
    try:
        return run()
    except DeliverError as exc:
        print(f"bo1dash {command}: {exc.message}", file=sys.stderr)
        return error_status


def _open(url: str | None) -> Grafana:
    """Connect as the environment says; fails (one line) before anything is read or written."""
    from bo1dash.deliver.client import open_grafana
    from bo1dash.deliver.connection import connection_from_env

    return open_grafana(connection_from_env(os.environ, url))


def run_export(argv: list[str]) -> int:
    from bo1dash.deliver.export import FORMATS, export
    from bo1dash.deliver.resources import load_resources

    parser = argparse.ArgumentParser(
        prog="bo1dash export", description="Write the mixin as grizzly or app-platform resources."
    )
    parser.add_argument("--format", choices=FORMATS, default="grizzly")
    parser.add_argument("--out", type=Path, required=True, help="directory to write (one file per resource)")
    _mixin_options(parser)
    args = parser.parse_args(argv)

    def run() -> int:
        resources = load_resources(args.mixin, args.vendor)
        result = export(resources, args.out.resolve(), args.format)
        for path in result.written:
            print(f"wrote {path}")
        for path in result.removed:
            print(f"removed {path}")
        kept_out = (
            [e["uid"] for e in resources.datasources if e.get("secureJsonData")] if args.format == "grizzly" else []
        )
        if kept_out:
            print(f"secrets left out of datasources {', '.join(kept_out)}: set them in Grafana, or apply --datasources")
        print(f"exported {args.format} resources to {args.out} ({len(result.written)} files changed)")
        return 0

    return _guarded("export", run)


def run_apply(argv: list[str]) -> int:
    from bo1dash.deliver.apply import apply
    from bo1dash.deliver.resources import load_resources

    parser = argparse.ArgumentParser(
        prog="bo1dash apply", description="Create or update the folder and dashboards in Grafana."
    )
    parser.add_argument("--dry-run", action="store_true", help="read and report, change nothing")
    parser.add_argument(
        "--datasources", action="store_true", help="apply the datasources too (secrets from the environment)"
    )
    _mixin_options(parser)
    _grafana_options(parser)
    args = parser.parse_args(argv)

    def run() -> int:
        grafana = _open(args.grafana_url)  # a refused credential or a dead address fails before the build
        resources = load_resources(args.mixin, args.vendor)
        report = apply(resources, grafana, dry_run=args.dry_run, datasources=args.datasources, emit=print)
        for line in report.summary():
            print(line, file=sys.stdout if report.ok else sys.stderr)
        return 0 if report.ok else 1

    return _guarded("apply", run)


def run_diff(argv: list[str]) -> int:
    from bo1dash.deliver.diff import diff
    from bo1dash.deliver.resources import load_resources

    parser = argparse.ArgumentParser(
        prog="bo1dash diff", description="What apply would change; exit 0 equal, 1 differs, 2 error."
    )
    _mixin_options(parser)
    _grafana_options(parser)
    args = parser.parse_args(argv)

    def run() -> int:
        grafana = _open(args.grafana_url)
        resources = load_resources(args.mixin, args.vendor)
        report = diff(resources, grafana)
        for text in report.differences:
            print(text)
        for note in report.notes:
            print(f"note: {note}")
        if report.differs:
            print(f"{len(report.differences)} difference(s) between {grafana.url} and the build")
            return 1
        print(f"{grafana.url} equals the build ({report.compared} resources)")
        return 0

    return _guarded("diff", run, error_status=2)


def run_pull(argv: list[str]) -> int:
    from bo1dash.deliver.pull import pull
    from bo1dash.deliver.resources import load_resources

    parser = argparse.ArgumentParser(prog="bo1dash pull", description="Write live dashboards as normalized JSON.")
    parser.add_argument("--out", type=Path, required=True, help="directory for <uid>.json files")
    parser.add_argument("uids", nargs="*", help="dashboard uids (default: every uid the mixin defines)")
    _mixin_options(parser)
    _grafana_options(parser)
    args = parser.parse_args(argv)

    def run() -> int:
        grafana = _open(args.grafana_url)
        uids = args.uids or [d.uid for d in load_resources(args.mixin, args.vendor).dashboards]
        for path in pull(grafana, uids, args.out.resolve()):
            print(f"wrote {path}")
        print(f"pulled {len(uids)} dashboard(s) from {grafana.url}: port the changes to jsonnet/, build, then diff")
        return 0

    return _guarded("pull", run)


def run_watch(argv: list[str]) -> int:
    from bo1dash.deliver.watch import WatchOptions, watch

    parser = argparse.ArgumentParser(
        prog="bo1dash watch", description="Rebuild and lint on every change under jsonnet/ and vendor/ (Ctrl-C ends)."
    )
    parser.add_argument("--out", type=Path, help="directory to build into instead of infra/")
    parser.add_argument("--apply", action="store_true", help="apply to Grafana after every clean lint")
    _mixin_options(parser)
    _grafana_options(parser)
    args = parser.parse_args(argv)
    options = WatchOptions(
        mixin=args.mixin, vendor_dirs=args.vendor, out=args.out, apply=args.apply, grafana_url=args.grafana_url
    )
    return _guarded("watch", lambda: watch(options))
