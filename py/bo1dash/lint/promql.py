"""PromQL targets: parse after Grafana's substitution, then check them against the catalog.

Rules (all read the promql-parser AST):
  promql/parse               the expression does not parse
  promql/unknown-metric      no catalogued family (bo1, exporters, extra/recording rules) has this series
  promql/never-emitted       the family, or the label value matched, is never updated by bo1
  promql/unknown-label       the family has no such label
  promql/unknown-label-value a `=` / literal `=~` value outside the family's closed value set
  promql/counter-without-rate a counter (or histogram/summary _bucket/_count/_sum) read raw
  promql/rate-on-gauge       rate/irate/increase applied to a gauge (warning)
  promql/histogram-quantile-le histogram_quantile over an aggregation that drops `le`
  promql/range-window        a range shorter than 4 scrape intervals (or $__interval: warning)
  promql/beyond-retention    range + offset further back than the retention
  promql/masking-fallback    `or vector(..)`, `absent(..)` as a value, `or (Y * 0)` of another family
  promql/unknown-label       also: `by (...)` / `without (...)` naming a label the aggregated series do not have
  promql/streaming-latency   a latency quantile over a handler set that includes streaming handlers
  promql/target-job          a hard-coded `job="..."` on a service the catalog says runs as several jobs
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import promql_parser as pp

from bo1dash.catalog import GUESSED, Catalog, SeriesRef
from bo1dash.lint.model import ERROR, PROMETHEUS_TYPES, WARNING, Dashboard, Finding, LintContext, Target, iter_targets
from bo1dash.lint.substitute import interpolate_promql, is_marker, window_variable
from bo1dash.promql_tree import walk

RATE_FUNCTIONS = frozenset({"rate", "irate", "increase"})
# Functions that read a counter's raw samples meaningfully.
COUNTER_SAFE_FUNCTIONS = RATE_FUNCTIONS | {
    "resets",
    "changes",
    "absent",
    "absent_over_time",
    "present_over_time",
    "count_over_time",
    "timestamp",
}
LITERAL_ALTERNATION = re.compile(r"^[A-Za-z0-9_:/{}\- ]+(\|[A-Za-z0-9_:/{}\- ]+)*$")


def parse_duration(text: str) -> float:
    """Seconds of a Prometheus duration such as '15s', '1m30s', '15d'."""
    return pp.parse_duration(text).total_seconds()


def _fmt(seconds: float) -> str:
    return pp.display_duration(timedelta(seconds=seconds))


def _unwrap(node: Any) -> Any:
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    return node


def _selector_name(vs: Any) -> str | None:
    if vs.name:
        return str(vs.name)
    for m in vs.matchers.matchers:
        if m.name == "__name__" and m.op == pp.MatchOp.Equal:
            return str(m.value)
    return None


def _families(node: Any, catalog: Catalog) -> set[str]:
    names: set[str] = set()
    for sub, _ in walk(node):
        if isinstance(sub, pp.VectorSelector):
            name = _selector_name(sub)
            if name:
                ref = catalog.lookup(name)
                names.add(ref.family.name if ref else name)
    return names


def _literal_string(node: Any) -> str | None:
    node = _unwrap(node)
    return str(node.val) if isinstance(node, pp.StringLiteral) else None


def output_labels(node: Any, catalog: Catalog) -> frozenset[str] | None:
    """The labels the result of `node` can carry, or None when they cannot be known (unknown series,
    recording rules, label-making functions we cannot read)."""
    node = _unwrap(node)
    if isinstance(node, pp.MatrixSelector):
        node = node.vector_selector
    if isinstance(node, pp.VectorSelector):
        name = _selector_name(node)
        ref = catalog.lookup(name) if name else None
        if ref is None or ref.family.label_prefixes:
            return None
        bucket = ("le",) if ref.suffix == "_bucket" else ()
        return frozenset({*ref.family.labels, *catalog.target_labels, *bucket})
    if isinstance(node, (pp.NumberLiteral, pp.StringLiteral)):
        return frozenset()
    if isinstance(node, (pp.UnaryExpr, pp.SubqueryExpr)):
        return output_labels(node.expr, catalog)
    if isinstance(node, pp.AggregateExpr):
        inner = output_labels(node.expr, catalog)
        op, mod = str(node.op), node.modifier
        if op == "count_values":
            made = _literal_string(node.param)
            inner = None if inner is None or made is None else inner | {made}
        if inner is None or op in ("topk", "bottomk", "limitk", "limit_ratio"):
            return inner
        if mod is None:
            return frozenset()
        if mod.type == pp.AggModifierType.By:
            return frozenset(mod.labels) & inner
        return inner - set(mod.labels)
    if isinstance(node, pp.BinaryExpr):
        lhs, rhs = output_labels(node.lhs, catalog), output_labels(node.rhs, catalog)
        return None if lhs is None or rhs is None else lhs | rhs
    if isinstance(node, pp.Call):
        name = node.func.name
        if name in ("label_replace", "label_join") and len(node.args) > 1:
            inner, dst = output_labels(node.args[0], catalog), _literal_string(node.args[1])
            return None if inner is None or dst is None else inner | {dst}
        if name in ("absent", "absent_over_time", "vector", "time", "scalar", "pi"):
            return frozenset() if name != "absent" and name != "absent_over_time" else None
        if name == "histogram_quantile" and len(node.args) > 1:
            inner = output_labels(node.args[1], catalog)
            return None if inner is None else inner - {"le"}
        vectors = [a for a in node.args if not isinstance(_unwrap(a), (pp.NumberLiteral, pp.StringLiteral))]
        return output_labels(vectors[0], catalog) if vectors else frozenset()
    return None


def _matches(matcher: Any, value: str) -> bool | None:
    """Whether `matcher` accepts `value`; None when the matcher holds a dashboard variable."""
    if is_marker(str(matcher.value)):
        return None
    op, pattern = matcher.op, str(matcher.value)
    if op == pp.MatchOp.Equal:
        return value == pattern
    if op == pp.MatchOp.NotEqual:
        return value != pattern
    try:
        hit = re.fullmatch(pattern, value) is not None
    except re.error:
        return None
    return hit if op == pp.MatchOp.Re else not hit


@dataclass
class _Check:
    dashboard: Dashboard
    target: Target
    ctx: LintContext
    catalog: Catalog
    findings: list[Finding] = field(default_factory=list)

    def add(self, rule: str, severity: str, message: str, fix: str) -> None:
        f = self.dashboard.finding(
            rule, severity, message, fix, panel=self.target.panel_title, ref_id=self.target.ref_id
        )
        if f not in self.findings:
            self.findings.append(f)

    # --- selectors -------------------------------------------------------------------------
    def selector(self, vs: Any, parents: tuple[Any, ...]) -> None:
        name = _selector_name(vs)
        if name is None:
            return
        ref = self.catalog.lookup(name)
        if ref is None:
            self.add(
                "promql/unknown-metric",
                ERROR,
                f"series {name!r} is exposed by neither bo1 nor the exporters in the catalog",
                "check the name against py/bo1dash/catalog/metrics.yaml (counters end in _total, histograms "
                "are read as _bucket/_count/_sum); for a recording rule pass it as extra_metrics",
            )
            return
        family = ref.family
        if not family.emitted:
            self.add(
                "promql/never-emitted",
                ERROR,
                f"{family.name} is defined by bo1 but never updated: the panel would show a constant, not the truth"
                + (f" ({family.note})" if family.note else ""),
                "query a series that bo1 updates (see the note in the catalog) or a Postgres table",
            )
        self.labels(vs, ref)
        self.raw_counter(vs, ref, parents)
        self.target_job(vs, ref)

    def labels(self, vs: Any, ref: SeriesRef) -> None:
        family = ref.family
        for m in vs.matchers.matchers:
            label, value = str(m.name), str(m.value)
            if label == "__name__":
                continue
            if label == "le" and ref.suffix == "_bucket":
                continue
            if not family.allows_label(label, self.catalog.target_labels):
                self.add(
                    "promql/unknown-label",
                    ERROR,
                    f"{family.name} has no label {label!r} (labels: {', '.join(family.labels) or 'none'}, "
                    f"plus {', '.join(self.catalog.target_labels)} from the scrape)",
                    "use one of the family's labels; a matcher on a missing label matches nothing "
                    "(or everything, for !=)",
                )
                continue
            closed = family.values.get(label)
            if closed is None or is_marker(value):
                continue
            if m.op == pp.MatchOp.Equal:
                candidates = [value]
            elif m.op == pp.MatchOp.Re and LITERAL_ALTERNATION.match(value):
                candidates = value.split("|")
            elif m.op == pp.MatchOp.Re:
                try:
                    rx = re.compile(value)
                except re.error:
                    continue
                matched = [v for v in closed if rx.fullmatch(v)]
                if not matched:
                    self.add(
                        "promql/unknown-label-value",
                        ERROR,
                        f"{label}=~{value!r} matches none of the values {family.name} has: {', '.join(closed)}",
                        f"match one of: {', '.join(closed)}",
                    )
                elif all(not family.is_emitted_value(label, v) for v in matched):
                    self.add(
                        "promql/never-emitted",
                        ERROR,
                        f"{label}=~{value!r} on {family.name} only matches values bo1 never emits ({', '.join(matched)})",
                        f"bo1 emits {label} = {', '.join(family.emitted_values.get(label, ()))}",
                    )
                continue
            else:
                continue
            for cand in candidates:
                if cand not in closed:
                    self.add(
                        "promql/unknown-label-value",
                        ERROR,
                        f"{label}={cand!r} is not a value of {family.name} (values: {', '.join(closed)})",
                        f"use one of: {', '.join(closed)}",
                    )
                elif not family.is_emitted_value(label, cand):
                    self.add(
                        "promql/never-emitted",
                        ERROR,
                        f"{family.name}{{{label}={cand!r}}} is never emitted by bo1 "
                        f"(emitted: {', '.join(family.emitted_values.get(label, ()))})",
                        "query an emitted value, or read the outcome from Postgres",
                    )

    def raw_counter(self, vs: Any, ref: SeriesRef, parents: tuple[Any, ...]) -> None:
        parent = parents[-1] if parents else None
        if isinstance(parent, pp.MatrixSelector):
            fn = parents[-2] if len(parents) > 1 else None
            fn_name = fn.func.name if isinstance(fn, pp.Call) else None
            if (
                fn_name in RATE_FUNCTIONS
                and not ref.is_cumulative
                and ref.family.source not in ("recording_rule", GUESSED)
            ):
                self.add(
                    "promql/rate-on-gauge",
                    WARNING,
                    f"{fn_name}() over {_selector_name(vs)}, a {ref.family.type} (not a counter)",
                    "use delta()/deriv() or *_over_time() for gauges",
                )
            if ref.is_cumulative and fn_name not in COUNTER_SAFE_FUNCTIONS:
                self.add(
                    "promql/counter-without-rate",
                    ERROR,
                    f"{_selector_name(vs)} is cumulative ({ref.family.type}) but read with {fn_name or 'a subquery'}()",
                    "wrap it in rate(), irate() or increase()",
                )
            return
        if isinstance(parent, pp.Call) and parent.func.name in ("absent", "timestamp"):
            return
        if any(isinstance(p, pp.AggregateExpr) and str(p.op) in ("count", "group") for p in parents):
            return  # counting series (count(count(x) by (cpu))) does not read the counter's value
        if any(isinstance(p, pp.SubqueryExpr) for p in parents):
            sub_ok = any(isinstance(p, pp.Call) and p.func.name in COUNTER_SAFE_FUNCTIONS for p in parents)
            if sub_ok:
                return
        if ref.is_cumulative:
            self.add(
                "promql/counter-without-rate",
                ERROR,
                f"{_selector_name(vs)} is a cumulative {ref.family.type} series read raw: its value only grows "
                "and drops to 0 on every restart",
                "use rate(x[$__rate_interval]) for a per-second rate or increase(x[$__range]) for a count",
            )

    # --- windows ---------------------------------------------------------------------------
    def window(self, window: timedelta, offset: timedelta | None, what: str) -> None:
        variable = window_variable(window)
        scrape = self.ctx.scrape_interval_seconds
        if variable == "__interval":
            min_interval = self.target.data.get("interval") or self.target.panel.get("interval")
            try:
                floor_s = parse_duration(str(min_interval).lstrip(">")) if min_interval else 0.0
            except (ValueError, TypeError):
                floor_s = 0.0
            if floor_s < 4 * scrape:
                self.add(
                    "promql/range-window",
                    WARNING,
                    f"{what} window $__interval can fall below 4 scrape intervals ({_fmt(4 * scrape)}) on short "
                    "time ranges, leaving gaps",
                    f"use $__rate_interval, or set the query/panel min interval to >= {_fmt(4 * scrape)}",
                )
            seconds = 0.0
        elif variable is not None:
            seconds = 0.0
        else:
            seconds = window.total_seconds()
            if seconds < 4 * scrape:
                self.add(
                    "promql/range-window",
                    ERROR,
                    f"{what} window {_fmt(seconds)} is shorter than 4 scrape intervals ({_fmt(4 * scrape)}): "
                    "rate() needs at least two samples and misses data on every missed scrape",
                    "use [$__rate_interval]",
                )
        back = seconds + (offset.total_seconds() if offset else 0.0)
        if back > self.ctx.retention_seconds:
            self.add(
                "promql/beyond-retention",
                ERROR,
                f"{what} reaches {_fmt(back)} back, beyond the {_fmt(self.ctx.retention_seconds)} retention"
                + (" (assumed: Prometheus' default; pass --retention)" if self.ctx.retention_assumed else "")
                + ": Prometheus has no data there",
                f"keep range + offset within {_fmt(self.ctx.retention_seconds)}, or raise the retention"
                + (" (and say so with --retention)" if self.ctx.retention_assumed else ""),
            )

    # --- structure -------------------------------------------------------------------------
    def histogram_quantile(self, call: Any) -> None:
        if len(call.args) < 2:
            return
        for node, _ in walk(call.args[1]):
            if not isinstance(node, pp.AggregateExpr):
                continue
            op = str(node.op)
            if op in ("topk", "bottomk", "quantile", "count_values"):
                continue
            mod = node.modifier
            labels = list(mod.labels) if mod is not None else []
            keeps = mod is not None and (
                ("le" in labels) if mod.type == pp.AggModifierType.By else ("le" not in labels)
            )
            if not keeps:
                grouping = (
                    ""
                    if mod is None
                    else (f" {'by' if mod.type == pp.AggModifierType.By else 'without'} ({', '.join(labels)})")
                )
                self.add(
                    "promql/histogram-quantile-le",
                    ERROR,
                    f"histogram_quantile over {op}{grouping}(...) drops the `le` label, so there are no buckets "
                    "left to interpolate",
                    f"aggregate with `{op} by (le, ...)` (keep le among the grouping labels)",
                )

    def grouping(self, node: Any) -> None:
        mod = node.modifier
        if mod is None or not mod.labels:
            return
        available = output_labels(node.expr, self.catalog)
        if available is None:
            return
        missing = [label for label in mod.labels if label not in available]
        if not missing:
            return
        by = mod.type == pp.AggModifierType.By
        clause = f"{node.op} {'by' if by else 'without'} ({', '.join(mod.labels)})"
        families = ", ".join(sorted(_families(node.expr, self.catalog))) or "the series"
        self.add(
            "promql/unknown-label",
            ERROR if by else WARNING,
            f"{clause}: {', '.join(missing)} is not a label of {families} "
            f"(labels: {', '.join(sorted(available)) or 'none'})"
            + (": every series falls into one empty group" if by else ": the clause does nothing"),
            "group by labels the series carry (see the catalog), or join the label in with group_left",
        )

    def streaming_latency(self, call: Any) -> None:
        if len(call.args) < 2:
            return
        for node, _ in walk(call.args[1]):
            if not isinstance(node, pp.VectorSelector):
                continue
            name = _selector_name(node)
            ref = self.catalog.lookup(name) if name else None
            if ref is None or ref.suffix != "_bucket" or not ref.family.streaming:
                continue
            for label, values in ref.family.streaming.items():
                matchers = [m for m in node.matchers.matchers if str(m.name) == label]
                verdicts = [[_matches(m, v) for m in matchers] for v in values]
                included = [v for v, vs in zip(values, verdicts) if None not in vs and all(vs)]
                if included:
                    self.add(
                        "promql/streaming-latency",
                        ERROR,
                        f"the latency quantile over {name} includes the streaming {label} {', '.join(included)}: "
                        "a stream is timed for the whole connection and drags the quantile to the top bucket",
                        f'exclude it, e.g. {label}!~".*/stream" (the catalog lists the streaming {label}s)',
                    )

    def target_job(self, vs: Any, ref: SeriesRef) -> None:
        if not ref.family.several_jobs:
            return
        for m in vs.matchers.matchers:
            if str(m.name) == "job" and m.op == pp.MatchOp.Equal and not is_marker(str(m.value)):
                self.add(
                    "promql/target-job",
                    ERROR,
                    f'job="{m.value}" hard-codes one job, but {ref.family.source} runs as several jobs '
                    "(blue/green): the panel misses the others",
                    'match the jobs with a variable (job=~"$job") or a regex of all of them',
                )

    def binary(self, node: Any) -> None:
        op = str(node.op)
        for side in (node.lhs, node.rhs):
            inner = _unwrap(side)
            if isinstance(inner, pp.Call) and inner.func.name in ("absent", "absent_over_time"):
                self.add(
                    "promql/masking-fallback",
                    ERROR,
                    f"{inner.func.name}() used as a value in `{op}`: it yields 1 when the series is missing, "
                    "a made-up number",
                    "let the panel show 'no data' (set noValue) instead of computing with absent()",
                )
        if op == "/":
            rhs = _unwrap(node.rhs)
            if isinstance(rhs, pp.Call) and rhs.func.name == "clamp_min" and len(rhs.args) == 2:
                floor = _unwrap(rhs.args[1])
                if isinstance(floor, pp.NumberLiteral) and floor.val >= 1:
                    self.add(
                        "promql/masking-fallback",
                        WARNING,
                        f"denominator clamp_min(..., {floor.val:g}) turns 'no traffic' into a made-up ratio",
                        "divide by the raw denominator: no traffic then reads as no data, not 0",
                    )
        if op != "or":
            return
        rhs = _unwrap(node.rhs)
        if isinstance(rhs, pp.Call) and rhs.func.name == "vector":
            self.add(
                "promql/masking-fallback",
                ERROR,
                "`or vector(...)` invents a value when the series is missing: a dead target or a wrong "
                "selector then reads as a healthy number",
                "drop the fallback and set the panel's noValue; for a true zero use `or (Y * 0)` on the same series",
            )
            return
        if isinstance(rhs, pp.NumberLiteral):
            self.add(
                "promql/masking-fallback",
                ERROR,
                "`or <number>` invents a value when the series is missing",
                "drop the fallback and set the panel's noValue",
            )
            return
        if isinstance(rhs, pp.BinaryExpr) and str(rhs.op) == "*":
            a, b = _unwrap(rhs.lhs), _unwrap(rhs.rhs)
            zero = next((x for x in (a, b) if isinstance(x, pp.NumberLiteral) and x.val == 0), None)
            if zero is None:
                return
            other = b if zero is a else a
            lhs_fams, rhs_fams = _families(node.lhs, self.catalog), _families(other, self.catalog)
            if not rhs_fams or not rhs_fams <= lhs_fams:
                self.add(
                    "promql/masking-fallback",
                    ERROR,
                    f"`or (Y * 0)` fills zeros from {', '.join(sorted(rhs_fams)) or 'no series'}, which the left "
                    f"side does not read ({', '.join(sorted(lhs_fams)) or 'nothing'}): zeros then appear where "
                    "the left side has no traffic at all",
                    "take Y from the same series family as the left side (e.g. the total the error ratio divides by)",
                )

    def run(self, expr: Any) -> None:
        for node, parents in walk(expr):
            if isinstance(node, pp.VectorSelector):
                self.selector(node, parents)
                if node.offset and not isinstance(parents[-1] if parents else None, pp.MatrixSelector):
                    self.window(timedelta(0), node.offset, "offset")
            elif isinstance(node, pp.MatrixSelector):
                self.window(node.range, node.vector_selector.offset, "range")
            elif isinstance(node, pp.SubqueryExpr) and node.range is not None:
                self.window(node.range, node.offset, "subquery")
            elif isinstance(node, pp.Call) and node.func.name == "histogram_quantile":
                self.histogram_quantile(node)
                self.streaming_latency(node)
            elif isinstance(node, pp.AggregateExpr):
                self.grouping(node)
            elif isinstance(node, pp.BinaryExpr):
                self.binary(node)


def check_expression(dashboard: Dashboard, target: Target, ctx: LintContext, catalog: Catalog) -> list[Finding]:
    raw = str(target.data.get("expr") or "")
    check = _Check(dashboard, target, ctx, catalog)
    if not raw.strip():
        check.add(
            "promql/parse", ERROR, "the Prometheus target has an empty expr", "write the query or remove the target"
        )
        return check.findings
    text = interpolate_promql(raw, dashboard.variables(), ctx.scrape_interval_seconds)
    try:
        expr = pp.parse(text)
    except (ValueError, TypeError) as exc:
        check.add(
            "promql/parse",
            ERROR,
            f"does not parse after variable substitution: {exc} (query: {text})",
            "fix the PromQL syntax (try it in the Prometheus UI or with promtool)",
        )
        return check.findings
    check.run(expr)
    return check.findings


def check(dashboard: Dashboard, ctx: LintContext) -> list[Finding]:
    findings: list[Finding] = []
    for target in iter_targets(dashboard, ctx):
        if target.data.get("hide") is True:
            continue
        if target.ds_type in PROMETHEUS_TYPES or (
            target.ds_type is None and "expr" in target.data and "rawSql" not in target.data
        ):
            findings.extend(check_expression(dashboard, target, ctx, ctx.catalog))
    return findings
