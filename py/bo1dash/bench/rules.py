"""Recording rules side by side with the raw queries they precompute.

Two directions:
- `expand_recorded`: a dashboard query that reads recorded series, with each recorded series replaced by its
  rule's raw expression (the "no recording rules" variant of today's dashboards, which read the rules);
- `CANDIDATES`: bench-only variants of panels that still miss a target, written on a coarser rule
  (`PROPOSED_RULES`, backfilled by the bench only); the lead decides whether the mixin adopts them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import promql_parser
import yaml

from bo1dash.promql_tree import selectors

_MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?')


@dataclass(frozen=True)
class RecordingRule:
    record: str
    expr: str
    labels: tuple[tuple[str, str], ...] = ()
    group: str = ""
    interval: str = "1m"  # the group's evaluation interval (a subquery of the raw variant steps by it)


def load_rules(path: Path) -> list[RecordingRule]:
    doc = yaml.safe_load(path.read_text()) or {}
    out = []
    for group in doc.get("groups") or []:
        for rule in group.get("rules") or []:
            if "record" in rule:
                out.append(
                    RecordingRule(
                        rule["record"],
                        str(rule["expr"]).strip(),
                        tuple(sorted((rule.get("labels") or {}).items())),
                        group.get("name", ""),
                        str(group.get("interval") or "1m"),
                    )
                )
    return out


def _parse_matchers(body: str) -> list[tuple[str, str, str]]:
    return [(m.group(1), m.group(2), m.group(3)) for m in _MATCHER.finditer(body)]


def _push_down(expr: str, extra: list[tuple[str, str, str]]) -> str:
    """`expr` with the matchers `extra` added to each of its vector selectors."""
    if not extra:
        return expr
    added = ", ".join(f'{n}{o}"{v}"' for n, o, v in extra)

    def repl(match: re.Match[str]) -> str:
        name, body = match.group(1), match.group(2)
        inner = body[1:-1].strip() if body else ""
        return f"{name}{{{inner + ', ' if inner else ''}{added}}}"

    names = sorted({s.name for s in selectors(expr) if s.name}, key=len, reverse=True)
    if not names:
        return expr
    pattern = re.compile(r"(?<![\w:])(" + "|".join(re.escape(n) for n in names) + r")(\{[^}]*\})?(?![\w:(])")
    return pattern.sub(repl, expr)


def expand_recorded(expr: str, rules: list[RecordingRule], depth: int = 0) -> str:
    """Replace every recorded series in `expr` by the raw expression of its rule (recursively), pushing the
    selector's matchers down into the rule's selectors; a record with several rules (one per `quantile`
    label) is chosen by the selector's matchers on those labels. A range over a record (`rec{...}[4m]`)
    becomes a subquery stepping at the rule's evaluation interval (`(expr)[4m:1m]`): the points the rule
    would have recorded."""
    by_name: dict[str, list[RecordingRule]] = {}
    for rule in rules:
        by_name.setdefault(rule.record, []).append(rule)
    if depth > 5 or not any(name in expr for name in by_name):
        return expr
    pattern = re.compile(
        r"(?<![\w:])("
        + "|".join(re.escape(n) for n in sorted(by_name, key=len, reverse=True))
        + r")(\{[^}]*\})?(\[[^\]:]+\])?"
    )

    def repl(match: re.Match[str]) -> str:
        candidates = by_name[match.group(1)]
        matchers = _parse_matchers(match.group(2)[1:-1]) if match.group(2) else []
        fixed = {n: v for n, o, v in matchers if o == "="}
        chosen = [r for r in candidates if all(fixed.get(k, v) == v for k, v in r.labels)] or candidates
        rule = chosen[0]
        rule_labels = {k for k, _ in rule.labels}
        extra = [m for m in matchers if m[0] not in rule_labels]
        expanded = "(" + _push_down(rule.expr, extra) + ")"
        if match.group(3):
            expanded += f"{match.group(3)[:-1]}:{rule.interval}]"
        return expanded

    return expand_recorded(pattern.sub(repl, expr), rules, depth + 1)


_RANGE = re.compile(r"\[(\d+)([smh])\]")
_UNIT = {"s": 1, "m": 60, "h": 3600}


def widen_windows(expr: str, min_seconds: int) -> str:
    """`expr` with every range selector shorter than `min_seconds` widened to it (`[1m]` -> `[2m]`).

    A rule group is evaluated at an offset within its interval (promtool's backfill too: the group's hash),
    so a 1m rate over a history with one sample per minute sees a single sample and records nothing; with
    bo1's 10 s scrape it sees six. The bench backfills (and expands) such rules over two samples instead:
    the recorded series, one point per evaluation, are the same ones the dashboards read."""

    def repl(match: re.Match[str]) -> str:
        seconds = int(match.group(1)) * _UNIT[match.group(2)]
        if seconds >= min_seconds:
            return match.group(0)
        return f"[{min_seconds // 60}m]" if min_seconds % 60 == 0 else f"[{min_seconds}s]"

    return _RANGE.sub(repl, expr)


def widened(rules: list[RecordingRule], min_seconds: int) -> list[RecordingRule]:
    return [replace(r, expr=widen_windows(r.expr, min_seconds)) for r in rules]


def validate(expr: str) -> str | None:
    """None when `expr` parses as PromQL, else the parser's message."""
    try:
        promql_parser.parse(expr)
    except Exception as exc:  # the binding raises a bare ValueError/Exception with the message
        return str(exc)
    return None


JOB_STATUS = "job_status:http_requests:rate1m"
HANDLER_RATE5M = "handler:http_requests:rate5m"
API_PANEL = 'job=~"bo1-api|bo1-backend-.*", job=~"$job", handler=~"$handler"'


@dataclass(frozen=True)
class Candidate:
    """A panel target rewritten on (coarser) recording rules; `needs` are the records it reads, `note` what
    it changes for the user and whether its values depend on the rules' evaluation interval."""

    uid: str
    title: str
    ref_id: str
    expr: str
    needs: tuple[str, ...]
    proposed: bool = True  # reads a record the rule file does not have (bench-only rule from PROPOSED_RULES)
    note: str = ""


# Measured alternatives the dashboards have not adopted (docs/benchmark.md). Adopted ones (the job-level
# latency rule, the 5xx ratio on job_status, the top-10 table on the 5m rule) are the panels' own queries now.
CANDIDATES: tuple[Candidate, ...] = (
    Candidate(
        "bo1-api",
        "Status codes",
        "A",
        f'sum_over_time((sum by (status) ({JOB_STATUS}{{job=~"$job"}}))[$__range:1m]) * 60',
        (JOB_STATUS,),
        False,
        note="a 1m-step subquery times the rule's 1m window: independent of the evaluation interval (any <= 1m); "
        "the SSE stream handler and $handler are left out",
    ),
    # The long-range candidates of issue 14 (item 3): the same panels on the 5-minute per-handler rule. One
    # point per 5 minutes: a $__rate_interval under 5 minutes (ranges up to about a day) may hold no point.
    Candidate(
        "bo1-api",
        "Request rate by status",
        "A",
        f"sum by (status) (avg_over_time({HANDLER_RATE5M}{{{API_PANEL}}}[$__rate_interval]))",
        (HANDLER_RATE5M,),
        note="5m rule: each point averages 5-minute rates instead of 1-minute ones (smoother); gaps below ~1 day",
    ),
    Candidate(
        "bo1-api",
        "Error ratio by endpoint",
        "A",
        f'sum by (handler) (avg_over_time({HANDLER_RATE5M}{{{API_PANEL}, handler!~".*/stream", status="5xx"}}'
        f"[$__rate_interval])) / sum by (handler) (avg_over_time({HANDLER_RATE5M}{{{API_PANEL}, "
        f'handler!~".*/stream"}}[$__rate_interval]))',
        (HANDLER_RATE5M,),
        note="5m rule: each point averages 5-minute rates instead of 1-minute ones (smoother); gaps below ~1 day",
    ),
)

# Rules the bench adds (not in the rule file) so the candidates above can be measured; the lead may adopt them.
PROPOSED_RULES: tuple[RecordingRule, ...] = (
    # The per-handler request rule of bo1-api.rules, evaluated every 5 minutes over 5 minutes (issue 14, item 3:
    # a coarser rule for long ranges).
    RecordingRule(
        HANDLER_RATE5M,
        'sum by (job, handler, method, status) (rate(http_requests_total{job=~"bo1-api|bo1-backend-.*"}[5m]))',
        group="bo1-api-range.rules",
        interval="5m",
    ),
)


def records_read(expr: str, rules: list[RecordingRule]) -> set[str]:
    """The recorded series `expr` (raw, Grafana variables allowed) reads."""
    return {r.record for r in rules if re.search(r"(?<![\w:])" + re.escape(r.record) + r"(?![\w:])", expr)}


def backfill_rule_file(
    rules: list[RecordingRule], needs: set[str], out: Path, min_window_seconds: int = 0
) -> list[str]:
    """Write a rule file with the records in `needs` (from `rules`, else from PROPOSED_RULES), each group at its
    evaluation interval; returns the records written. promtool cannot backfill a rule on a rule it backfills in
    the same run, so a rule reading records is written with those records expanded to their raw expressions
    (the same values). Windows shorter than `min_window_seconds` are widened (`widen_windows`)."""
    pool = widened([*rules, *PROPOSED_RULES], min_window_seconds)
    chosen = [r for r in pool if r.record in needs]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for rule in chosen:
        entry: dict[str, Any] = {"record": rule.record, "expr": expand_recorded(rule.expr, pool)}
        if rule.labels:
            entry["labels"] = dict(rule.labels)
        groups.setdefault((rule.group or "bo1-bench-proposed.rules", rule.interval), []).append(entry)
    doc = {
        "groups": [{"name": name, "interval": interval, "rules": items} for (name, interval), items in groups.items()]
    }
    out.write_text(yaml.safe_dump(doc, sort_keys=False))
    return sorted({r.record for r in chosen})


def candidates_for(uid: str, title: str, ref_id: str) -> Candidate | None:
    for c in CANDIDATES:
        if (c.uid, c.title, c.ref_id) == (uid, title, ref_id):
            return c
    return None


def uses_records(expr: str, rules: list[RecordingRule]) -> bool:
    """True when `expr` (raw, Grafana variables allowed) reads a recorded series."""
    return bool(records_read(expr, rules))
