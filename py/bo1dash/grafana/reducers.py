"""Grafana's field reducers: what a stat, gauge, bar gauge or pie chart makes of a field's values."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any


def reduce_options(panel: Mapping[str, Any]) -> tuple[str, bool]:
    """(first calc, all values?) of options.reduceOptions; Grafana's default calc is lastNotNull."""
    options = (panel.get("options") or {}).get("reduceOptions") or {}
    calcs = options.get("calcs") or ["lastNotNull"]
    return str(calcs[0]), bool(options.get("values"))


def reduce_values(values: Sequence[float | None], calc: str) -> float | None:
    """Grafana's field reducer `calc` (reduceOptions.calcs) over one field's values."""
    present = [v for v in values if v is not None]
    finite = [v for v in present if not math.isnan(v)]
    if calc in ("lastNotNull", "last"):
        source = finite if calc == "lastNotNull" else present
        return source[-1] if source else None
    if calc in ("firstNotNull", "first"):
        source = finite if calc == "firstNotNull" else present
        return source[0] if source else None
    if not finite:
        return None if calc not in ("count", "sum") else 0.0
    if calc in ("mean", "avg"):
        return sum(finite) / len(finite)
    if calc == "sum":
        return sum(finite)
    if calc == "max":
        return max(finite)
    if calc == "min":
        return min(finite)
    if calc == "count":
        return float(len(finite))
    if calc == "range":
        return max(finite) - min(finite)
    if calc == "delta":
        return sum(max(0.0, b - a) for a, b in zip(finite, finite[1:]))
    if calc == "diff":
        return finite[-1] - finite[0]
    if calc == "median":
        ordered = sorted(finite)
        mid = len(ordered) // 2
        return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    raise ValueError(f"unsupported reducer {calc!r}")
