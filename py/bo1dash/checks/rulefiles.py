"""Render the mixin's `prometheusRules` / `prometheusAlerts` to the rule files Prometheus loads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bo1dash import paths
from bo1dash.compile import compile_mixin

# The file names the build writes under infra/prometheus/rules/ (one source: bo1dash.paths).
RULE_FILE_NAMES = paths.RULE_FILE_NAMES


def evaluate_rule_files(root: Path, vendor_dirs: list[Path] | None = None) -> dict[str, Any]:
    """The repository mixin's {"rules": prometheusRules, "alerts": prometheusAlerts}, compiled as the build
    compiles it (`compile_mixin`: the same import path)."""
    compiled = compile_mixin(paths.mixin_entry(root), root=root, vendor_dirs=vendor_dirs)
    return {"rules": compiled.rules, "alerts": compiled.alerts}


def write_rule_files(rendered: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """Write deterministic YAML rule files; returns {"rules": path, "alerts": path}."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for kind, name in RULE_FILE_NAMES.items():
        path = out_dir / name
        text = "# Generated from jsonnet/ by bo1dash; do not edit.\n" + yaml.safe_dump(
            rendered[kind], sort_keys=False, width=1000, allow_unicode=True
        )
        path.write_text(text, encoding="utf-8")
        written[kind] = path
    return written
