"""Recording rules side by side with the raw queries they precompute.

Two directions:
- `expand_recorded`: a dashboard query that reads recorded series, with each recorded series replaced by its
  rule's raw expression (the "no recording rules" variant of a dashboard that uses them);
- `CANDIDATES`: for a dashboard that reads raw series, the same panel written on the rule that precomputes
  it (what the dashboard would query if it used the rules), with the rule records it needs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import promql_parser
import yaml

from bo1dash.verify.promql_ast import selectors

_MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?')


@dataclass(frozen=True)
class RecordingRule:
    record: str
    expr: str
    labels: tuple[tuple[str, str], ...] = ()
    group: str = ""


def load_rules(path: Path) -> list[RecordingRule]:
    doc = yaml.safe_load(path.read_text()) or {}
    out = []
    for group in doc.get("groups") or []:
        for rule in group.get("rules") or []:
            if "record" in rule:
                out.append(RecordingRule(rule["record"], str(rule["expr"]).strip(),
                                         tuple(sorted((rule.get("labels") or {}).items())), group.get("name", "")))
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
    label) is chosen by the selector's matchers on those labels."""
    by_name: dict[str, list[RecordingRule]] = {}
    for rule in rules:
        by_name.setdefault(rule.record, []).append(rule)
    if depth > 5 or not any(name in expr for name in by_name):
        return expr
    pattern = re.compile(r"(?<![\w:])(" + "|".join(re.escape(n) for n in sorted(by_name, key=len, reverse=True))
                         + r")(\{[^}]*\})?")

    def repl(match: re.Match[str]) -> str:
        candidates = by_name[match.group(1)]
        matchers = _parse_matchers(match.group(2)[1:-1]) if match.group(2) else []
        fixed = {n: v for n, o, v in matchers if o == "="}
        chosen = [r for r in candidates if all(fixed.get(k, v) == v for k, v in r.labels)] or candidates
        rule = chosen[0]
        rule_labels = {k for k, _ in rule.labels}
        extra = [m for m in matchers if m[0] not in rule_labels]
        return "(" + _push_down(rule.expr, extra) + ")"

    return expand_recorded(pattern.sub(repl, expr), rules, depth + 1)


def validate(expr: str) -> str | None:
    """None when `expr` parses as PromQL, else the parser's message."""
    try:
        promql_parser.parse(expr)
    except Exception as exc:  # the binding raises a bare ValueError/Exception with the message
        return str(exc)
    return None


@dataclass(frozen=True)
class Candidate:
    """A panel target rewritten on recording rules; `needs` are the records it reads."""

    uid: str
    title: str
    ref_id: str
    expr: str
    needs: tuple[str, ...]
    proposed: bool = False  # reads a record the rule file does not have yet (bench-only rule)


API_SEL = 'job=~"$job", handler=~"$handler"'
NO_STREAM = 'handler!~".*/stream"'
H_REQ = "handler:http_requests:rate5m"
H_ERR = "handler:http_request_errors:rate5m"
H_BUCKET = "handler:http_request_duration_seconds_bucket:rate5m"


def _quantile(q: str) -> str:
    return f"histogram_quantile({q}, sum by (le) ({H_BUCKET}{{{API_SEL}}}))"


CANDIDATES: tuple[Candidate, ...] = (
    Candidate("bo1-api", "Request rate by status", "A", f"sum by (status) ({H_REQ}{{{API_SEL}}})", (H_REQ,)),
    Candidate("bo1-api", "5xx error ratio", "A",
              f"(sum(sum_over_time({H_ERR}{{{API_SEL}, {NO_STREAM}}}[$__range])) or "
              f"sum(sum_over_time({H_REQ}{{{API_SEL}, {NO_STREAM}}}[$__range])) * 0) / "
              f"sum(sum_over_time({H_REQ}{{{API_SEL}, {NO_STREAM}}}[$__range]))", (H_REQ, H_ERR)),
    Candidate("bo1-api", "Status codes", "A",
              f"sum by (status) (sum_over_time({H_REQ}{{{API_SEL}}}[$__range])) * 60", (H_REQ,)),
    Candidate("bo1-api", "Latency p50 / p95 / p99", "A", _quantile("0.5"), (H_BUCKET,)),
    Candidate("bo1-api", "Latency p50 / p95 / p99", "B", _quantile("0.95"), (H_BUCKET,)),
    Candidate("bo1-api", "Latency p50 / p95 / p99", "C", _quantile("0.99"), (H_BUCKET,)),
    Candidate("bo1-api", "Latency distribution", "A",
              f"sum by (le) (sum_over_time({H_BUCKET}{{{API_SEL}}}[$__rate_interval])) * 60", (H_BUCKET,)),
    Candidate("bo1-api", "Error ratio by endpoint", "A",
              f"(sum by (handler) ({H_ERR}{{{API_SEL}, {NO_STREAM}}}) or "
              f"sum by (handler) ({H_REQ}{{{API_SEL}, {NO_STREAM}}}) * 0) / "
              f"sum by (handler) ({H_REQ}{{{API_SEL}, {NO_STREAM}}})", (H_REQ, H_ERR)),
    Candidate("bo1-api", "Top 10 slowest endpoints (p95)", "A",
              f"topk(10, histogram_quantile(0.95, sum by (le, handler) "
              f"(sum_over_time({H_BUCKET}{{{API_SEL}}}[$__range]))))", (H_BUCKET,)),
    Candidate("bo1-cost", "Live spend rate", "A",
              "sum by (provider) (provider_model:llm_cost_dollars:rate5m) * 3600",
              ("provider_model:llm_cost_dollars:rate5m",)),
    Candidate("bo1-cost", "Tokens by type", "A", "sum by (token_type) (token_type:llm_tokens:rate5m)",
              ("token_type:llm_tokens:rate5m",), proposed=True),
    Candidate("bo1-deliberation", "Graph node p95 duration", "A",
              "histogram_quantile(0.95, sum by (le, node_name) "
              "(node_name:bo1_graph_node_duration_seconds_bucket:rate5m))",
              ("node_name:bo1_graph_node_duration_seconds_bucket:rate5m",), proposed=True),
    Candidate("bo1-deliberation", "Graph node error ratio", "A",
              "(sum by (node_name) (node_name_status:bo1_graph_node:rate5m{status=\"error\"}) or "
              "sum by (node_name) (node_name_status:bo1_graph_node:rate5m) * 0) / "
              "sum by (node_name) (node_name_status:bo1_graph_node:rate5m)",
              ("node_name_status:bo1_graph_node:rate5m",), proposed=True),
)

# Rules the bench adds (not in the rule file) so the candidates above can be measured; the lead may adopt them.
PROPOSED_RULES: tuple[RecordingRule, ...] = (
    RecordingRule("token_type:llm_tokens:rate5m",
                  'sum by (token_type) (rate(llm_tokens_total{job=~"bo1-api|bo1-backend-.*"}[5m]))'),
    RecordingRule("node_name:bo1_graph_node_duration_seconds_bucket:rate5m",
                  'sum by (node_name, le) (rate(bo1_graph_node_duration_seconds_bucket{job=~"bo1-api|bo1-backend-.*"}[5m]))'),
    RecordingRule("node_name_status:bo1_graph_node:rate5m",
                  'sum by (node_name, status) (rate(bo1_graph_node_total{job=~"bo1-api|bo1-backend-.*"}[5m]))'),
)


def backfill_rule_file(rules: list[RecordingRule], needs: set[str], out: Path) -> list[str]:
    """Write a rule file with the records in `needs` (from `rules`, else from PROPOSED_RULES) whose exprs read
    raw series only (promtool cannot backfill a rule on a rule it backfills in the same run); returns the
    records written."""
    pool = [*rules, *PROPOSED_RULES]
    recorded = {r.record for r in pool}
    chosen = [r for r in pool if r.record in needs and not any(s.name in recorded for s in selectors(r.expr))]
    groups: dict[str, list[dict[str, Any]]] = {}
    for rule in chosen:
        entry: dict[str, Any] = {"record": rule.record, "expr": rule.expr}
        if rule.labels:
            entry["labels"] = dict(rule.labels)
        groups.setdefault(rule.group or "bo1-bench-proposed.rules", []).append(entry)
    doc = {"groups": [{"name": name, "interval": "1m", "rules": items} for name, items in groups.items()]}
    out.write_text(yaml.safe_dump(doc, sort_keys=False))
    return [r.record for r in chosen]


def candidates_for(uid: str, title: str, ref_id: str) -> Candidate | None:
    for c in CANDIDATES:
        if (c.uid, c.title, c.ref_id) == (uid, title, ref_id):
            return c
    return None


def uses_records(expr: str, rules: list[RecordingRule]) -> bool:
    """True when `expr` (raw, Grafana variables allowed) reads a recorded series."""
    names: Mapping[str, bool] = {r.record: True for r in rules}
    return any(re.search(r"(?<![\w:])" + re.escape(n) + r"(?![\w:])", expr) for n in names)
