"""Render the mixin's `prometheusRules` / `prometheusAlerts` to the rule files Prometheus loads."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import yaml

# File names the build writes under infra/prometheus/rules/ and the promtool tests reference.
RULE_FILE_NAMES = {"rules": "bo1-rules.yml", "alerts": "bo1-alerts.yml"}

# Used only while jsonnet/mixin.libsonnet does not exist yet.
_FALLBACK_SNIPPET = (
    "(import 'config.libsonnet') + (import 'rules/rules.libsonnet') + (import 'alerts/alerts.libsonnet')"
)


def evaluate_rule_files(jsonnet_dir: Path, jpath: Iterable[Path] = ()) -> dict[str, dict]:
    """Evaluate the mixin and return {"rules": prometheusRules, "alerts": prometheusAlerts}."""
    import _jsonnet  # the `jsonnet` package

    jsonnet_dir = Path(jsonnet_dir)
    entry = jsonnet_dir / "mixin.libsonnet"
    mixin = "(import 'mixin.libsonnet')" if entry.exists() else _FALLBACK_SNIPPET
    snippet = f"local m = {mixin}; {{ rules: m.prometheusRules, alerts: m.prometheusAlerts }}"
    dirs = [str(p) for p in jpath] + [str(jsonnet_dir)]
    out = _jsonnet.evaluate_snippet("bo1-rules", snippet, jpathdir=dirs)
    return json.loads(out)


def write_rule_files(rendered: dict[str, dict], out_dir: Path) -> dict[str, Path]:
    """Write deterministic YAML rule files; returns {"rules": path, "alerts": path}."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for kind, name in RULE_FILE_NAMES.items():
        path = out_dir / name
        text = "# Generated from jsonnet/ by bo1dash; do not edit.\n" + yaml.safe_dump(
            rendered[kind], sort_keys=False, width=1000, allow_unicode=True
        )
        path.write_text(text, encoding="utf-8")
        paths[kind] = path
    return paths
