"""`bo1dash <command>`: thin callers of the package's modules (nox sessions call these)."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import sys
import time
from pathlib import Path

from bo1dash import paths
from bo1dash.compile import CompileError, compile_mixin
from bo1dash.provision import ProvisionError, provision

# Commands whose implementation lives in a module of their own: name -> "module:function(argv) -> int".
_DELEGATED = {
    "verify": "bo1dash.verify:main",
    "up": "bo1dash.stack.cli:main",
    "scenario": "bo1dash.scenario.__main__:main",
    "bench": "bo1dash.bench:main",
    "preview": "bo1dash.preview:main",
    "export": "bo1dash.deliver.cli:run_export",
    "apply": "bo1dash.deliver.cli:run_apply",
    "diff": "bo1dash.deliver.cli:run_diff",
    "pull": "bo1dash.deliver.cli:run_pull",
    "watch": "bo1dash.deliver.cli:run_watch",
}


def build(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bo1dash build", description="Compile the mixin and provision it.")
    parser.add_argument("--mixin", type=Path, help="mixin entry file (default: jsonnet/mixin.libsonnet)")
    parser.add_argument(
        "--vendor",
        type=Path,
        action="append",
        default=[],
        help="extra jsonnet vendor tree, put first on the import path",
    )
    parser.add_argument("--out", type=Path, help="directory to write instead of infra/")
    args = parser.parse_args(argv)
    root = paths.repo_root()
    entry = args.mixin or paths.mixin_entry(root)
    out = (args.out or paths.infra_dir(root)).resolve()
    started = time.perf_counter()
    try:
        compiled = compile_mixin(entry, root=root, vendor_dirs=args.vendor)
        result = provision(compiled, out, prometheus_config=_compose_prometheus_config(entry, root))
    except CompileError as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    except ProvisionError as exc:
        print(f"build failed, nothing written:\n{exc}", file=sys.stderr)
        return 1
    took = time.perf_counter() - started
    for p in result.written:
        print(f"wrote {p.relative_to(out.parent) if out.parent in p.parents else p}")
    for p in result.removed:
        print(f"removed {p}")
    print(
        f"built {len(compiled.dashboards)} dashboards into {out} in {took:.2f}s ({len(result.written)} files changed)"
    )
    return 0


def _compose_prometheus_config(entry: Path, root: Path):
    """Our own mixin also ships the compose stack's prometheus.yml; another mixin does not."""
    if entry.resolve() != paths.mixin_entry(root).resolve():
        return None
    try:
        from bo1dash.compose import compose_prometheus_config
    except ImportError:
        return None
    return compose_prometheus_config


def lint(argv: list[str]) -> int:
    """Dashboard lint; our recording rules count as known series and _config gives the retention.

    Without dashboard files (our own build), the Prometheus, Alertmanager and compose files are checked too.
    """
    from bo1dash.lint import main as lint_main
    from bo1dash.lint.recorded import recorded_series

    root = paths.repo_root()
    extra: list[str] = []
    if not any(a == "--retention" or a.startswith("--retention=") for a in argv):
        config = compile_mixin(paths.mixin_entry(root), root=root).config
        extra += ["--retention", config["retention"], "--scrape-interval", config["scrapeInterval"]]
    for record in recorded_series(paths.rules_dir(paths.infra_dir(root))):
        extra += ["--extra-metric", record]
    json_format = "json" in argv
    if not _only_options(argv):
        return lint_main([*extra, *argv])
    # Our own build: the dashboards, then the Prometheus, Alertmanager and compose files.
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = lint_main([*extra, *argv])
    infra = _infra_findings(root)
    if json_format:
        merged = json.loads(out.getvalue() or "[]") + [
            {
                "file": f.file,
                "dashboard": None,
                "panel": None,
                "ref_id": None,
                "rule": f.rule,
                "severity": f.severity,
                "message": f.message,
                "fix": f.fix,
            }
            for f in infra
        ]
        print(json.dumps(merged, indent=2, sort_keys=True))
    else:
        sys.stdout.write(out.getvalue())
        for f in infra:
            print(f"  {f.severity.upper()} [{f.rule}] {f.file}\n      {f.message}\n      fix: {f.fix}")
        errors = sum(f.severity == "error" for f in infra)
        print(f"infra checks (promtool, amtool, docker-compose): {errors} error(s), {len(infra) - errors} warning(s)")
    return max(status, 1 if any(f.severity == "error" for f in infra) else 0)


def _only_options(argv: list[str]) -> bool:
    takes_value = {"--format", "--datasources", "--schema-dir", "--retention", "--scrape-interval", "--extra-metric"}
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in takes_value:
            skip = True
        elif not arg.startswith("-"):
            return False
    return True


def _infra_findings(root: Path) -> list:
    """promtool, amtool and docker-compose checks of infra/ and docker-compose.yml."""
    from bo1dash.checks import run_infra_checks

    return run_infra_checks(root)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = ["build", "lint", *_DELEGATED]
    if not argv or argv[0] in ("-h", "--help"):
        print(f"usage: bo1dash {{{','.join(commands)}}} [args...]")
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "build":
        return build(rest)
    if command == "lint":
        return lint(rest)
    if command in _DELEGATED:
        module, func = _DELEGATED[command].split(":")
        return int(getattr(importlib.import_module(module), func)(rest) or 0)
    print(f"bo1dash: unknown command {command!r}; one of {', '.join(commands)}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
