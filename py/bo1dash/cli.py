"""`bo1dash <command>`: thin callers of the package's modules (nox sessions call these)."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bo1dash import jsonnet_engine, paths
from bo1dash.compile import CompileError, compile_mixin, import_path
from bo1dash.provision import ProvisionError, provision

# Commands whose implementation lives in a module of their own: name -> "module:function(argv) -> int".
_DELEGATED = {
    "verify": "bo1dash.verify:main",
    "up": "bo1dash.stack.cli:main",
    "scenario": "bo1dash.scenario.__main__:main",
    "bench": "bo1dash.bench:main",
    "preview": "bo1dash.preview:main",
    "catalog": "bo1dash.catalog.live:main",
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
    _engine_option(parser)
    args = parser.parse_args(argv)
    root = paths.repo_root()
    entry = args.mixin or paths.mixin_entry(root)
    out = (args.out or paths.infra_dir(root)).resolve()
    started = time.perf_counter()
    try:
        compiled = compile_mixin(entry, root=root, vendor_dirs=args.vendor, engine=args.engine)
        result = provision(compiled, out, prometheus_config=_compose_prometheus_config(entry, root))
    except CompileError as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    except ProvisionError as exc:
        print(f"build failed, nothing written: {exc}", file=sys.stderr)
        return 1
    took = time.perf_counter() - started
    for p in result.written:
        print(f"wrote {p.relative_to(out.parent) if out.parent in p.parents else p}")
    for p in result.removed:
        print(f"removed {p}")
    print(
        f"built {len(compiled.dashboards)} dashboards into {out} in {took:.2f}s with {compiled.engine} "
        f"({len(result.written)} files changed)"
    )
    return 0


def _engine_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--engine",
        choices=jsonnet_engine.ENGINES,
        help=f"jsonnet binding (default: ${jsonnet_engine.ENV_VAR}, else {jsonnet_engine.DEFAULT_ENGINE})",
    )


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
    from bo1dash.lint import files_given, wants_json

    if any(a in ("-h", "--help") for a in argv):
        from bo1dash.lint import main as lint_main

        return lint_main(argv)
    root = paths.repo_root()
    if files_given(argv):
        return _lint_files(root, argv)
    # Our own build. The infra checks are subprocesses (promtool, amtool, docker-compose): they start first and
    # run while the lint's imports load, _config's retention and scrape interval evaluate and the dashboards lint.
    with ThreadPoolExecutor(max_workers=1) as pool:
        infra_checks = pool.submit(_infra_findings, root)
        from bo1dash.lint import main as lint_main

        extra = _recorded_series_options(root)
        json_format = wants_json(argv)
        if not any(a == "--retention" or a.startswith("--retention=") for a in argv):
            try:
                config = _our_time_config(root)
            except CompileError as exc:
                print(f"lint failed: {exc}", file=sys.stderr)
                return 1
            extra += ["--retention", config["retention"], "--scrape-interval", config["scrapeInterval"]]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            status = lint_main([*extra, *argv])
        infra = infra_checks.result()
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


def _lint_files(root: Path, argv: list[str]) -> int:
    """Lint given dashboard files: they are not ours, so nothing of our mixin is evaluated (it may not even
    compile); our built rule files still say which recorded series exist."""
    from bo1dash.lint import main as lint_main

    return lint_main([*_recorded_series_options(root), *argv])


def _recorded_series_options(root: Path) -> list[str]:
    """`--extra-metric NAME` for every series our built rule files (YAML, no Jsonnet) record."""
    from bo1dash.lint.recorded import recorded_series

    return [a for record in recorded_series(paths.rules_dir(paths.infra_dir(root))) for a in ("--extra-metric", record)]


def _our_time_config(root: Path) -> dict[str, str]:
    """`retention` and `scrapeInterval` of our mixin's `_config`, evaluated alone (no dashboard is built)."""
    entry = paths.mixin_entry(root)
    snippet = (
        f"local c = (import '{entry.name}')._config; {{ retention: c.retention, scrapeInterval: c.scrapeInterval }}"
    )
    try:
        text = jsonnet_engine.evaluate(str(entry), snippet, import_path=import_path(root))
    except jsonnet_engine.JsonnetError as exc:
        raise CompileError(exc.file or str(entry), exc.line, exc.message) from None
    except jsonnet_engine.EngineUnavailable as exc:
        raise CompileError(str(entry), None, str(exc)) from None
    return dict(json.loads(text))


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
