"""How long `nox -s build` spends compiling: the whole mixin, then each dashboard manifested on its own."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import _jsonnet

from bo1dash import paths
from bo1dash.compile import compile_mixin, import_path


def time_build(root: Path, repeats: int = 2) -> dict[str, object]:
    """Median seconds of `compile_mixin` and of manifesting each dashboard alone; a compile error (the mixin
    is being edited) is reported, not raised: the benchmark measures the built JSON either way."""
    entry = paths.mixin_entry(root)
    whole = []
    try:
        for _ in range(repeats):
            started = time.perf_counter()
            compiled = compile_mixin(entry, root=root)
            whole.append(time.perf_counter() - started)
    except Exception as exc:  # CompileError or the bindings' RuntimeError
        return {"error": str(exc)}
    jpath = [str(p) for p in import_path(root)]
    per_dashboard: dict[str, float] = {}
    for name in sorted(compiled.dashboards):
        snippet = f"std.manifestJsonEx((import '{entry}').grafanaDashboards['{name}'], '  ')"
        runs = []
        for _ in range(repeats):
            started = time.perf_counter()
            try:
                _jsonnet.evaluate_snippet("bench", snippet, jpathdir=jpath)
            except RuntimeError as exc:
                return {"compile_mixin_seconds": statistics.median(whole), "error": str(exc)}
            runs.append(time.perf_counter() - started)
        per_dashboard[name] = statistics.median(runs)
    return {
        "compile_mixin_seconds": statistics.median(whole),
        "repeats": repeats,
        "per_dashboard_seconds": per_dashboard,
    }
