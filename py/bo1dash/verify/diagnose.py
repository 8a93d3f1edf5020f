"""Why a PromQL query shows nothing, in the style of pint's series check.

For each selector of the query, from the outside in: was the metric ever scraped (any series in the
retention)? Was it scraped in the panel's range? Does each label the query filters on exist on it? Was a value
matching the filter ever seen (listing the values that were)? If every selector has data, the emptiness comes
from the query's own logic (a join, a filter on a value, a division by an empty side).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bo1dash.grafana.prometheus import PrometheusClient, PrometheusError
from bo1dash.promql_tree import Selector, selector_text, selectors

MAX_LISTED = 8


@dataclass(frozen=True)
class Diagnosis:
    reason: str
    jobs: tuple[str, ...] = ()  # the job values the failing selector asks for (for "unprovable here" decisions)
    kind: str = "empty"  # never-scraped | not-in-range | label-missing | value-never-seen | logic | empty


def _matches(op: str, pattern: str, value: str) -> bool:
    if op == "=":
        return value == pattern
    if op == "!=":
        return value != pattern
    found = re.fullmatch(pattern, value) is not None
    return found if op == "=~" else not found


def _listed(values: Iterable[str]) -> str:
    ordered = sorted(set(values))
    shown = ", ".join(f'"{v}"' for v in ordered[:MAX_LISTED])
    return shown + (f" and {len(ordered) - MAX_LISTED} more" if len(ordered) > MAX_LISTED else "")


def _jobs_asked(selector: Selector) -> tuple[str, ...]:
    return tuple(v for n, o, v in selector.matchers if n == "job" and o in ("=", "=~"))


def _explain_selector(
    prom: PrometheusClient, sel: Selector, start: float, end: float, retention_start: float
) -> Diagnosis | None:
    jobs = _jobs_asked(sel)
    if not sel.name:
        return None
    everything = prom.series(selector_text(sel.name, ()), retention_start, end)
    if not everything:
        return Diagnosis(
            f"metric `{sel.name}` never scraped (no series in Prometheus' retention)", jobs, "never-scraped"
        )
    remaining = everything
    for label, op, pattern in sel.matchers:
        with_label = [s for s in remaining if label in s]
        if not with_label and op in ("=", "=~") and not _matches(op, pattern, ""):
            return Diagnosis(
                f"label `{label}` missing on `{sel.name}` (it has {_listed(k for s in remaining for k in s if k != '__name__')})",
                jobs,
                "label-missing",
            )
        kept = [s for s in remaining if _matches(op, pattern, s.get(label, ""))]
        if not kept:
            seen = {s.get(label, "") for s in remaining}
            return Diagnosis(
                f'`{sel.name}` never had `{label}{op}"{pattern}"`: values seen are {_listed(seen)}',
                jobs,
                "value-never-seen",
            )
        remaining = kept
    in_range = prom.series(sel.text, start, end)
    if not in_range:
        return Diagnosis(
            f"`{sel.text}` has series in the retention but none in the panel's time range", jobs, "not-in-range"
        )
    return None


def diagnose_empty(prom: PrometheusClient, expr: str, start: float, end: float) -> Diagnosis:
    """The reason `expr` returned no data over [start, end] (epoch seconds)."""
    try:
        parsed = selectors(expr)
    except (ValueError, SyntaxError) as exc:
        return Diagnosis(f"query does not parse: {exc}")
    retention_start = end - prom.retention_seconds()
    for sel in parsed:
        try:
            found = _explain_selector(prom, sel, start, end, retention_start)
        except PrometheusError as exc:
            return Diagnosis(f"could not diagnose `{sel.text}`: {exc}")
        if found is not None:
            return found
    names = ", ".join(f"`{s.text}`" for s in parsed) or "(none)"
    return Diagnosis(
        f"no data although every selector has series in range ({names}): the query's own logic "
        "(join, filter on a value, empty side of a division) removes everything",
        tuple(j for s in parsed for j in _jobs_asked(s)),
        "logic",
    )
