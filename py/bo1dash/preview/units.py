"""Grafana's value formatting for the units our dashboards use: a number in, the text a panel shows out."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

# Grafana's scaled suffixes (valueFormats/symbolFormatters: SI-like "short", binary bytes).
_SHORT_SUFFIXES = ("", " K", " Mil", " Bil", " Tri", " Quadr", " Quint", " Sext", " Sept")
_CURRENCY_SUFFIXES = ("", "K", "M", "B", "T")
_BYTES_SUFFIXES = (" B", " KiB", " MiB", " GiB", " TiB", " PiB", " EiB")


def _decimals_for(value: float, decimals: int | None) -> int:
    """Grafana's automatic precision: about three significant digits, none for large whole numbers."""
    if decimals is not None:
        return max(0, decimals)
    magnitude = abs(value)
    if magnitude == 0 or float(magnitude).is_integer() and magnitude >= 1:
        return 0
    if magnitude >= 100:
        return 0 if magnitude >= 1000 else 1
    if magnitude >= 10:
        return 1
    if magnitude >= 1:
        return 2
    # small values: enough decimals to show three significant digits
    return min(6, max(2, 2 - math.floor(math.log10(magnitude))))


def _fixed(value: float, decimals: int | None) -> str:
    text = f"{value:.{_decimals_for(value, decimals)}f}"
    if decimals is None and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _scaled(value: float, factor: float, suffixes: Sequence[str], decimals: int | None) -> tuple[str, str]:
    """The number scaled down by `factor` until it is below it, and the suffix of that scale."""
    index = 0
    scaled = value
    while abs(scaled) >= factor and index < len(suffixes) - 1:
        scaled /= factor
        index += 1
    return _fixed(scaled, decimals), suffixes[index]


def _short(value: float, decimals: int | None) -> str:
    number, suffix = _scaled(value, 1000, _SHORT_SUFFIXES, decimals)
    return number + suffix


def _count(unit: str) -> Callable[[float, int | None], str]:
    def fmt(value: float, decimals: int | None) -> str:
        number, suffix = _scaled(value, 1000, _SHORT_SUFFIXES, decimals)
        return f"{number}{suffix} {unit}"

    return fmt


def _percentunit(value: float, decimals: int | None) -> str:
    return _fixed(value * 100, decimals) + "%"


def _percent(value: float, decimals: int | None) -> str:
    return _fixed(value, decimals) + "%"


def _bytes(value: float, decimals: int | None) -> str:
    number, suffix = _scaled(value, 1024, _BYTES_SUFFIXES, decimals)
    return number + suffix


def _currency_usd(value: float, decimals: int | None) -> str:
    number, suffix = _scaled(abs(value), 1000, _CURRENCY_SUFFIXES, decimals if decimals is not None else 2)
    return ("-$" if value < 0 else "$") + number + suffix


# Grafana's toSeconds: below a second in ms/µs/ns, above it in s, min, hour, day, week, year.
_TIME_STEPS = ((60.0, " s"), (3600.0, " min"), (86400.0, " hour"), (604800.0, " day"), (31536000.0, " week"))


def _seconds(value: float, decimals: int | None) -> str:
    magnitude = abs(value)
    if magnitude == 0:
        return "0 s"
    if magnitude < 1e-6:
        return _fixed(value * 1e9, decimals) + " ns"
    if magnitude < 1e-3:
        return _fixed(value * 1e6, decimals) + " µs"
    if magnitude < 1:
        return _fixed(value * 1e3, decimals) + " ms"
    divisor = 1.0
    for limit, suffix in _TIME_STEPS:
        if magnitude < limit:
            return _fixed(value / divisor, decimals) + suffix
        divisor = limit
    return _fixed(value / 31536000.0, decimals) + " year"


def _none(value: float, decimals: int | None) -> str:
    return _fixed(value, decimals)


_FORMATTERS: dict[str, Callable[[float, int | None], str]] = {
    "short": _short,
    "none": _none,
    "": _short,
    "reqps": _count("req/s"),
    "rps": _count("req/s"),
    "ops": _count("ops/s"),
    "opm": _count("ops/min"),
    "percentunit": _percentunit,
    "percent": _percent,
    "s": _seconds,
    "bytes": _bytes,
    "decbytes": _bytes,
    "currencyUSD": _currency_usd,
}


def format_value(value: float | None, unit: str | None = None, decimals: int | None = None) -> str:
    """The text Grafana shows for `value` in `unit` (unknown units print the number and the unit name)."""
    if value is None:
        return "No data"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    key = unit or ""
    formatter = _FORMATTERS.get(key)
    if formatter is not None:
        return formatter(value, decimals)
    if key.startswith("suffix:"):
        return _fixed(value, decimals) + key[len("suffix:") :]
    return f"{_fixed(value, decimals)} {key}"
