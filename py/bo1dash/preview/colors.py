"""Grafana's dark theme colours: named colours, the classic series palette, thresholds and value mappings."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PAGE = "#111217"
PANEL = "#181b1f"
BORDER = "#2c3235"
TEXT = "#ccccdc"
TEXT_DIM = "#8e8e9e"
GRID = "#2a2d33"
PASS = "#73bf69"
FAIL = "#f2495c"
OTHER = "#8e8e9e"

# Grafana's named colours (theme.visualization.hues, the "base" shade of each and the common variants).
NAMED: dict[str, str] = {
    "green": "#73BF69",
    "semi-dark-green": "#56A64B",
    "dark-green": "#37872D",
    "light-green": "#96D98D",
    "red": "#F2495C",
    "semi-dark-red": "#E02F44",
    "dark-red": "#C4162A",
    "light-red": "#FF7383",
    "orange": "#FF9830",
    "semi-dark-orange": "#FA6400",
    "dark-orange": "#FA6400",
    "light-orange": "#FFB357",
    "yellow": "#FADE2A",
    "semi-dark-yellow": "#F2CC0C",
    "dark-yellow": "#E0B400",
    "light-yellow": "#FFEE52",
    "blue": "#5794F2",
    "semi-dark-blue": "#3274D9",
    "dark-blue": "#1F60C4",
    "light-blue": "#8AB8FF",
    "purple": "#B877D9",
    "semi-dark-purple": "#A352CC",
    "dark-purple": "#8F3BB8",
    "light-purple": "#CA95E5",
    "text": "#CCCCDC",
    "transparent": "#00000000",
}

# Grafana's "palette-classic" series colours, in order.
CLASSIC = (
    "#7EB26D",
    "#EAB839",
    "#6ED0E0",
    "#EF843C",
    "#E24D42",
    "#1F78C1",
    "#BA43A9",
    "#705DA0",
    "#508642",
    "#CCA300",
    "#447EBC",
    "#C15C17",
    "#890F02",
    "#0A437C",
    "#6D1F62",
    "#584477",
)


def resolve(color: str | None, default: str = TEXT) -> str:
    """A colour as matplotlib takes it: Grafana names mapped, hex and rgb() passed through."""
    if not color:
        return default
    text = str(color).strip()
    if text in NAMED:
        return NAMED[text]
    if text.startswith("rgb"):
        parts = [p.strip() for p in text[text.index("(") + 1 : text.rindex(")")].split(",")]
        r, g, b = (int(float(p)) for p in parts[:3])
        return f"#{r:02x}{g:02x}{b:02x}"
    return text


def series_color(index: int) -> str:
    return CLASSIC[index % len(CLASSIC)]


@dataclass(frozen=True)
class Step:
    value: float | None  # None: the base step (-Infinity)
    color: str


def threshold_steps(defaults: Mapping[str, Any]) -> list[Step]:
    """The fieldConfig.defaults.thresholds steps (absolute mode); Grafana's default is green, red at 80."""
    thresholds = defaults.get("thresholds")
    if not isinstance(thresholds, Mapping):
        return [Step(None, NAMED["green"]), Step(80.0, NAMED["red"])]
    steps = []
    for step in thresholds.get("steps") or []:
        value = step.get("value")
        steps.append(Step(None if value is None else float(value), resolve(step.get("color"))))
    return steps or [Step(None, NAMED["green"])]


def threshold_mode(defaults: Mapping[str, Any]) -> str:
    thresholds = defaults.get("thresholds")
    return str(thresholds.get("mode") or "absolute") if isinstance(thresholds, Mapping) else "absolute"


def threshold_color(
    value: float | None, steps: Sequence[Step], *, lo: float = 0.0, hi: float = 100.0, percentage: bool = False
) -> str:
    """The colour of the highest step at or below the value (percentage mode: of the min..max span)."""
    if not steps:
        return NAMED["green"]
    color = steps[0].color
    if value is None or math.isnan(value):
        return color
    probe = (value - lo) / (hi - lo) * 100 if percentage and hi != lo else value
    for step in steps:
        if step.value is None or probe >= step.value:
            color = step.color
    return color


@dataclass(frozen=True)
class Mapped:
    text: str | None
    color: str | None


def apply_mappings(value: float | None, mappings: Sequence[Mapping[str, Any]]) -> Mapped | None:
    """The first value mapping (value, range, special null/nan) that matches, as Grafana applies them."""
    for mapping in mappings or []:
        kind = mapping.get("type")
        options = mapping.get("options") or {}
        result: Mapping[str, Any] | None = None
        if kind == "value" and value is not None and not math.isnan(value):
            for key, candidate in options.items():
                try:
                    if float(key) == value:
                        result = candidate
                        break
                except ValueError:
                    continue
        elif kind == "range" and value is not None and not math.isnan(value):
            lo, hi = options.get("from"), options.get("to")
            if (lo is None or value >= float(lo)) and (hi is None or value <= float(hi)):
                result = options.get("result")
        elif kind == "special":
            match = options.get("match")
            if (match in ("null", "null+nan") and value is None) or (
                match in ("nan", "null+nan") and value is not None and math.isnan(value)
            ):
                result = options.get("result")
        if result:
            color = result.get("color")
            return Mapped(text=result.get("text"), color=resolve(color) if color else None)
    return None
