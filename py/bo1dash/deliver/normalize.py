"""A dashboard as diff and pull compare it: without what Grafana adds on save, keys sorted."""

from __future__ import annotations

import json
from typing import Any

# Set by Grafana on every save (`id`, `version`), by the UI (`iteration`), or only in API answers (`meta`).
GRAFANA_OWNED = ("id", "version", "iteration", "meta")


def normalize_dashboard(model: dict[str, Any]) -> str:
    """The dashboard JSON text diff compares and pull writes: Grafana's own fields dropped, keys sorted."""
    kept = {k: v for k, v in model.items() if k not in GRAFANA_OWNED}
    return json.dumps(kept, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
