"""The series a mixin's recording rules create: the lint knows them as well as the catalog's."""

from __future__ import annotations

from pathlib import Path

import yaml


def recorded_series(rules_dir: Path) -> list[str]:
    """Every `record:` name of the Prometheus rule files (*.yml) in `rules_dir`, sorted; [] without it."""
    names: set[str] = set()
    for path in sorted(rules_dir.glob("*.yml")) if rules_dir.is_dir() else []:
        for group in (yaml.safe_load(path.read_text()) or {}).get("groups") or []:
            names.update(rule["record"] for rule in group.get("rules") or [] if "record" in rule)
    return sorted(names)
