"""Grafana's durations: interval text to milliseconds, its rounding table, and the texts Grafana prints for them.

All durations are integer milliseconds, as in Grafana, so rounding matches to the millisecond.
"""

from __future__ import annotations

import math
import re


class InterpolationError(ValueError):
    """A query Grafana itself would reject (bad interval, unknown macro, missing macro argument)."""


UNIT_MS = {
    "ms": 1,
    "s": 1000,
    "m": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
    "w": 604_800_000,
    "M": 2_592_000_000,  # Grafana's month: 30 days
    "y": 31_536_000_000,  # Grafana's year: 365 days
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|M|y)")


def parse_interval_ms(text: str) -> int:
    """Milliseconds of a Grafana interval: `15s`, `1m30s`, `2h`, `1d`, `1w`, `>30s` (min-interval form),
    a bare number (seconds). Raises InterpolationError on anything else."""
    value = text.strip().lstrip("<>").strip()
    if not value:
        raise InterpolationError(f"empty interval {text!r}")
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return int(round(float(value) * 1000))
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(value):
        if match.start() != pos:
            break
        total += float(match.group(1)) * UNIT_MS[match.group(2)]
        pos = match.end()
    if pos != len(value):
        raise InterpolationError(f"invalid interval {text!r}: use e.g. 15s, 1m, 1h30m, 1d")
    return int(round(total))


# Grafana's roundInterval table (ms): an interval below the bound becomes the value.
_ROUND_TABLE: tuple[tuple[int, int], ...] = (
    (15, 10),
    (35, 20),
    (75, 50),
    (150, 100),
    (350, 200),
    (750, 500),
    (1_500, 1_000),
    (3_500, 2_000),
    (7_500, 5_000),
    (12_500, 10_000),
    (17_500, 15_000),
    (25_000, 20_000),
    (45_000, 30_000),
    (90_000, 60_000),
    (180_000, 120_000),
    (450_000, 300_000),
    (750_000, 600_000),
    (1_050_000, 900_000),
    (1_500_000, 1_200_000),
    (2_700_000, 1_800_000),
    (5_400_000, 3_600_000),
    (9_000_000, 7_200_000),
    (16_200_000, 10_800_000),
    (32_400_000, 21_600_000),
    (86_400_000, 43_200_000),
    (604_800_000, 86_400_000),
    (1_814_400_000, 604_800_000),
    (3_628_800_000, 2_592_000_000),
)


def round_interval_ms(interval_ms: float) -> int:
    """Grafana's roundInterval: snap an interval to the nearest "nice" one (10ms ... 1y)."""
    for bound, value in _ROUND_TABLE:
        if interval_ms < bound:
            return value
    return 31_536_000_000


def format_interval(ms: int) -> str:
    """Grafana backend's gtime.FormatInterval: the largest whole unit, truncated (`90s` -> `1m`)."""
    for unit, size in (("y", 31_536_000_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms >= size:
            return f"{ms // size}{unit}"
    return f"{ms}ms" if ms >= 1 else "1ms"


def seconds_to_hms(seconds: float) -> str:
    """Grafana frontend's kbn.secondsToHms (the text of `$__interval` in frontend-interpolated queries)."""
    years = math.floor(seconds / 31_536_000)
    if years:
        return f"{years}y"
    days = math.floor((seconds % 31_536_000) / 86_400)
    if days:
        return f"{days}d"
    hours = math.floor((seconds % 31_536_000 % 86_400) / 3600)
    if hours:
        return f"{hours}h"
    minutes = math.floor((seconds % 31_536_000 % 86_400 % 3600) / 60)
    if minutes:
        return f"{minutes}m"
    secs = math.floor(seconds % 31_536_000 % 86_400 % 3600 % 60)
    if secs:
        return f"{secs}s"
    millis = math.floor(seconds * 1000)
    if millis:
        return f"{millis}ms"
    return "less than a millisecond"


def go_duration_string(ms: int) -> str:
    """Go's time.Duration.String() for whole milliseconds: `2m0s`, `1h0m0s`, `1m15s`, `500ms`."""
    if ms == 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    sec_text = f"{secs}.{millis:03d}".rstrip("0") if millis else str(secs)
    if hours:
        return f"{hours}h{minutes}m{sec_text}s"
    if minutes:
        return f"{minutes}m{sec_text}s"
    return f"{sec_text}s"
