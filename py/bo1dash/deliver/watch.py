"""Rebuild and lint on every change under jsonnet/ (and the vendor trees), printing the findings.

Each change compiles the mixin (compile_mixin), provisions it (provision: atomic, infra/ or `--out`) and lints
the built dashboards (lint_dashboards); with `apply`, a build without lint errors is applied to Grafana.
Ctrl-C ends the loop and returns 0.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import watchfiles

from bo1dash import paths
from bo1dash.compile import CompileError, compile_mixin
from bo1dash.deliver.errors import DeliverError
from bo1dash.provision import ProvisionError, provision

WATCHED_SUFFIXES = (".jsonnet", ".libsonnet", ".json")


@dataclass(frozen=True)
class WatchOptions:
    mixin: Path | None = None
    vendor_dirs: list[Path] = field(default_factory=list)
    out: Path | None = None
    apply: bool = False
    grafana_url: str | None = None


def watch(
    options: WatchOptions,
    *,
    emit: Callable[[str], None] = partial(print, flush=True),
    stop: threading.Event | None = None,
) -> int:
    """Build, lint (and apply) now and after every change, until Ctrl-C or `stop` is set."""
    root = paths.repo_root()
    entry = (options.mixin or paths.mixin_entry(root)).resolve()
    out = (options.out or paths.infra_dir(root)).resolve()
    grafana = None
    if options.apply:
        from bo1dash.deliver.client import open_grafana
        from bo1dash.deliver.connection import connection_from_env

        grafana = open_grafana(connection_from_env(os.environ, options.grafana_url))
    watched = _watched_dirs(root, entry, options.vendor_dirs)
    try:
        changes_seen = watchfiles.watch(
            *watched,
            watch_filter=_relevant,
            stop_event=stop,
            raise_interrupt=True,
            debounce=300,
            yield_on_timeout=True,
            rust_timeout=1000,
        )
        next(changes_seen)  # the first (empty) answer: the watcher is in place, no edit from now on is missed
        emit(f"watching {', '.join(str(d) for d in watched)} (Ctrl-C stops)")
        _cycle(root, entry, out, options, grafana, emit)
        for changes in changes_seen:
            if not changes:
                continue
            changed = sorted({Path(p).name for _, p in changes})
            emit(f"changed: {', '.join(changed)}")
            _cycle(root, entry, out, options, grafana, emit)
    except (KeyboardInterrupt, StopIteration):
        pass
    emit("watch stopped")
    return 0


def _watched_dirs(root: Path, entry: Path, vendor_dirs: list[Path]) -> list[Path]:
    candidates = [entry.parent, root / "jsonnet", paths.vendor_dir(root), *(Path(v).resolve() for v in vendor_dirs)]
    dirs: list[Path] = []
    for d in candidates:
        d = d.resolve()
        if d.is_dir() and not any(d == kept or kept in d.parents for kept in dirs):
            dirs = [kept for kept in dirs if d not in kept.parents] + [d]
    return dirs


def _relevant(change: watchfiles.Change, path: str) -> bool:
    return path.endswith(WATCHED_SUFFIXES) and "/." not in path


def _cycle(root: Path, entry: Path, out: Path, options: WatchOptions, grafana, emit: Callable[[str], None]) -> None:
    from bo1dash.cli import _compose_prometheus_config  # the build's own choice of prometheus.yml
    from bo1dash.lint import format_text, lint_dashboards
    from bo1dash.lint.recorded import recorded_series

    started = time.perf_counter()
    try:
        compiled = compile_mixin(entry, root=root, vendor_dirs=options.vendor_dirs)
        result = provision(compiled, out, prometheus_config=_compose_prometheus_config(entry, root))
    except CompileError as exc:
        emit(f"build failed: {exc}")
        return
    except ProvisionError as exc:
        emit(f"build failed, nothing written: {exc}")
        return
    dashboards = sorted(paths.dashboards_dir(out) / name for name in compiled.dashboards)
    datasources_dir = paths.datasources_dir(out)
    findings = lint_dashboards(
        dashboards,
        datasources_dir=datasources_dir if datasources_dir.is_dir() else None,
        retention=str(compiled.config.get("retention", "15d")),
        scrape_interval=str(compiled.config.get("scrapeInterval", "15s")),
        extra_metrics=recorded_series(paths.rules_dir(out)),
    )
    errors = sum(f.severity == "error" for f in findings)
    if findings:
        emit(format_text(findings).rstrip("\n"))
    emit(
        f"built {len(compiled.dashboards)} dashboards into {out} ({len(result.written)} files changed), "
        f"lint: {errors} error(s), {len(findings) - errors} warning(s) in {time.perf_counter() - started:.1f}s"
    )
    if grafana is None:
        return
    if errors:
        emit("not applied: fix the lint errors first")
        return
    from bo1dash.deliver.apply import apply
    from bo1dash.deliver.resources import mixin_resources

    try:
        report = apply(mixin_resources(compiled), grafana, emit=emit)
    except DeliverError as exc:
        emit(f"apply failed: {exc.message}")
        return
    for line in report.summary():
        emit(line)
