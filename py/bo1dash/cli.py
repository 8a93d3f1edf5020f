"""`bo1dash <command>`: thin callers of the package's modules (nox sessions call these)."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

from bo1dash import paths
from bo1dash.compile import CompileError, compile_mixin
from bo1dash.provision import ProvisionError, provision

# Commands whose implementation lives in a module of their own: name -> "module:function(argv) -> int".
_DELEGATED = {
    "lint": "bo1dash.lint:main",
    "verify": "bo1dash.verify:main",
    "up": "bo1dash.stack.cli:main",
    "bench": "bo1dash.bench:main",
    "preview": "bo1dash.preview:main",
}


def build(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bo1dash build", description="Compile the mixin and provision it.")
    parser.add_argument("--mixin", type=Path, help="mixin entry file (default: jsonnet/mixin.libsonnet)")
    parser.add_argument(
        "--vendor", type=Path, action="append", default=[], help="extra jsonnet vendor tree, put first on the import path"
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
    print(f"built {len(compiled.dashboards)} dashboards into {out} in {took:.2f}s ({len(result.written)} files changed)")
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


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = ["build", *_DELEGATED]
    if not argv or argv[0] in ("-h", "--help"):
        print(f"usage: bo1dash {{{','.join(commands)}}} [args...]")
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "build":
        return build(rest)
    if command in _DELEGATED:
        module, func = _DELEGATED[command].split(":")
        return int(getattr(importlib.import_module(module), func)(rest) or 0)
    print(f"bo1dash: unknown command {command!r}; one of {', '.join(commands)}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
