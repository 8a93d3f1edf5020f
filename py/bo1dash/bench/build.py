"""How fast the edit loop is: whole-process `bo1dash build` and `bo1dash lint` per Jsonnet engine, and each
dashboard evaluated alone per engine (where the Jsonnet time goes).

Whole-process means what a person waits for: `python -m bo1dash build` started afresh each time (interpreter,
imports, evaluation, rendering, writing), into a scratch output directory that one untimed run filled first,
so a timed run is a rebuild. Medians of `repeats` runs. With `vendor_dirs` (`--vendor DIR`, e.g. the real
grafonnet from `jb install`) the build puts them first on the import path.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bo1dash import jsonnet_engine, paths
from bo1dash.compile import CompileError, compile_mixin, import_path

# Targets of issue "A fast loop" (seconds, whole process, 2 cores).
TARGETS = {"build": 1.0, "lint": 1.5, "lint_one_file": 1.0}


def time_build(root: Path, *, repeats: int = 5, vendor_dirs: list[Path] | None = None) -> dict[str, Any]:
    """Whole-process build and lint seconds per installed engine (median of `repeats`), each dashboard alone
    per engine (in-process CPU seconds, median of 3). A compile error (the mixin is being edited) is reported, not raised."""
    vendor = [Path(v).resolve() for v in vendor_dirs or []]
    engines = jsonnet_engine.available()
    out: dict[str, Any] = {
        "repeats": repeats,
        "engines": engines,
        "default_engine": jsonnet_engine.DEFAULT_ENGINE,
        "vendor": [str(v) for v in vendor],
        "targets_seconds": TARGETS,
        "load_average_before": os.getloadavg(),
        "whole_process": {},
        "per_dashboard_cpu_seconds": {},
    }
    entry = paths.mixin_entry(root)
    try:
        compiled = compile_mixin(entry, root=root, vendor_dirs=vendor)
    except CompileError as exc:
        return {**out, "error": str(exc)}
    outside = paths.dashboards_dir(paths.infra_dir(root)) / sorted(compiled.dashboards)[0]
    vendor_args = [a for v in vendor for a in ("--vendor", str(v))]
    with tempfile.TemporaryDirectory(prefix="bo1bench-build-") as tmp:
        scratch = Path(tmp) / "infra"
        for engine in engines:
            build = [sys.executable, "-m", "bo1dash", "build", "--engine", engine, "--out", str(scratch), *vendor_args]
            figures: dict[str, Any] = {"build": _median_run(build, root, repeats, env={}, ok=(0,))}
            # Lint exits 1 on findings: that is a finished run too.
            env = {jsonnet_engine.ENV_VAR: engine}
            figures["lint"] = _median_run([sys.executable, "-m", "bo1dash", "lint"], root, repeats, env=env, ok=(0, 1))
            lint_one = [sys.executable, "-m", "bo1dash", "lint", str(outside)]
            figures["lint_one_file"] = _median_run(lint_one, root, repeats, env=env, ok=(0, 1))
            figures["targets_met"] = {k: _under(figures[k], TARGETS[k]) for k in TARGETS}
            out["whole_process"][engine] = figures
            out["per_dashboard_cpu_seconds"][engine] = _per_dashboard(
                root, entry, sorted(compiled.dashboards), engine, vendor
            )
    out["load_average_after"] = os.getloadavg()
    return out


def _under(figure: dict[str, float] | None, target: float) -> bool:
    return figure is not None and figure["seconds"] < target


def _median_run(
    argv: list[str], cwd: Path, repeats: int, env: dict[str, str], ok: tuple[int, ...]
) -> dict[str, float] | None:
    """Median wall seconds and CPU seconds (user + system of the command and its children: what it costs when
    the machine is shared) of `repeats` runs after one untimed run; None when an exit code is not in `ok`."""
    full_env = {**os.environ, **env}
    runs, cpu = [], []
    for i in range(repeats + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        result = subprocess.run(argv, cwd=cwd, env=full_env, capture_output=True, text=True)
        took = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if result.returncode not in ok:
            return None
        if i:
            runs.append(took)
            cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return {"seconds": round(statistics.median(runs), 3), "cpu_seconds": round(statistics.median(cpu), 3)}


def _per_dashboard(root: Path, entry: Path, names: list[str], engine: str, vendor: list[Path]) -> dict[str, float]:
    jpath = import_path(root, vendor)
    per: dict[str, float] = {}
    for name in names:
        snippet = f"(import '{entry}').grafanaDashboards['{name}']"
        runs = []
        for _ in range(3):
            started = time.process_time()  # CPU seconds: the evaluation is single-threaded in this process
            jsonnet_engine.evaluate(str(entry.parent / "<bench>"), snippet, import_path=jpath, engine=engine)
            runs.append(time.process_time() - started)
        per[name] = round(statistics.median(runs), 3)
    return per


def _cell(figure: dict[str, float] | None) -> str:
    return "failed" if figure is None else f"{figure['seconds']:.2f} s (CPU {figure['cpu_seconds']:.2f} s)"


def table(build: dict[str, Any]) -> str:
    """The figures as a Markdown table (docs/benchmark.md)."""
    if "error" in build:
        return f"build not measured: {build['error']}"
    names = sorted({n for per in build["per_dashboard_cpu_seconds"].values() for n in per})
    lines = [
        "| engine | build | lint | lint one file | " + " | ".join(f"{n} alone (CPU)" for n in names) + " |",
        "|---" * (4 + len(names)) + "|",
    ]
    for engine, figures in build["whole_process"].items():
        per = build["per_dashboard_cpu_seconds"].get(engine, {})
        cells = [_cell(figures[k]) for k in TARGETS]
        cells += [f"{per[n]:.2f} s" if n in per else "-" for n in names]
        lines.append(f"| {engine} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
