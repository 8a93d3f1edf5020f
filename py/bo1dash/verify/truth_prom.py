"""Truth for the Prometheus panels of the bo1 API, cost and deliberation dashboards (see verify/truth.py for
the tolerances and why)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bo1dash.grafana.durations import parse_interval_ms
from bo1dash.grafana.frames import Series
from bo1dash.verify.truth_base import Inputs, Item, Many, NoTruth, Outcome, series, ts


def api_series(config: Mapping[str, Any], metric: str, *matchers: str) -> str:
    """`metric{<_config.apiSelector>, matchers...}`: a series of bo1's API as the dashboards select it."""
    return f"{metric}{{{', '.join([str(config['apiSelector']), *matchers])}}}"


REL = 0.10  # rate()/increase() extrapolation at the window edges and 5s scrape jitter (relative)
ABS = 1.0  # ... plus one event (or one unit) of slack for a window edge cutting an increment
# "> 0" for a ratio: Item.ok() allows 1e-9 below the low bound, so a low bound of 1e-12 would admit 0; one error
# among the scenario's requests or node runs in a window is a ratio of 1e-3 or more
POSITIVE = 1e-6


def _path(exp: Mapping[str, Any], *keys: str) -> Any:
    node: Any = exp
    for key in keys:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def _step(all_series: Sequence[Series]) -> float | None:
    gaps = [b[0] - a[0] for s in all_series for a, b in zip(s.points, s.points[1:]) if b[0] > a[0]]
    return min(gaps) if gaps else None


def _finite(s: Series) -> list[float]:
    return s.finite()


def _last(values: list[float]) -> float | None:
    return values[-1] if values else None


def integral(s: Series, step: float, scale: float) -> float:
    """What the plotted rate adds up to: sum(value * step) / scale (scale: the panel's *60 or *3600)."""
    return sum(_finite(s)) * step / scale


def _window_seconds(inp: Inputs) -> float:
    """The rate() window of the query as it ran (`[1m0s]`), 0 when there is none."""
    match = re.search(r"\[([0-9smhdwy]+)\]", " ".join(r.query for r in inp.results))
    return parse_interval_ms(match.group(1)) / 1000 if match else 0.0


def _smoothing(inp: Inputs) -> tuple[float, float]:
    """The two windows an increment is spread over before it is plotted: a recording rule's rate window (0 for a
    raw counter) and the query's own window ([$__rate_interval] of avg_over_time or rate, 0 without)."""
    query = " ".join(r.query for r in inp.results)
    rule = re.search(r":rate(\d+[smh])\b", query)
    return (parse_interval_ms(rule.group(1)) / 1000 if rule else 0.0), _window_seconds(inp)


def plotted_share(age: float, first: float, second: float) -> float:
    """The share of an increment made `age` seconds before the last point that the plotted rate has shown up to
    that point: the CDF of the sum of two uniform delays over [0, first] and [0, second]."""
    a, b = sorted((first, second))
    if age <= 0:
        return 0.0
    if a <= 0:
        return min(age / b, 1.0) if b > 0 else 1.0
    if age <= a:
        return age * age / (2 * a * b)
    if age <= b:
        return (age - a / 2) / b
    if age <= a + b:
        return 1 - (a + b - age) ** 2 / (2 * a * b)
    return 1.0


def _observed(
    inp: Inputs, label: str, scale: float, selector: str = ""
) -> tuple[dict[str, float], dict[str, float]] | NoTruth:
    """(what the panel adds up to per label, what of the counted increments it cannot show yet per label).

    The integral of a smoothed rate up to the last point counts an increment made at u only by the share of its
    smoothing delay that has passed (`plotted_share`). With the runner's Prometheus the raw increments of the
    last windows are read and weighted by it; without, the last point's rate x window bounds it."""
    found = series(inp.results)
    if any(r.kind == "instant" for r in inp.results):
        return {s.labels.get(label, ""): (_finite(s) or [math.nan])[-1] / scale for s in found}, {}
    step = _step(found)
    if step is None:
        return NoTruth("fewer than two points: no step to integrate the rate over")
    got = {s.labels.get(label, ""): integral(s, step, scale) for s in found}
    first, second = _smoothing(inp)
    last = max((t for s in found for t, v in s.points if v is not None), default=None)
    probe = inp.facts.increments if inp.facts is not None else None
    if probe is not None and selector and last is not None:
        end = inp.tr.to_ms / 1000
        since = last - first - second
        increments = probe(selector, label, since, max(end, last))
        missing = {
            k: sum(d * (1 - plotted_share(last - t, first, second)) for t, d in v) for k, v in increments.items()
        }
        return got, missing
    window = first + second
    tail = {s.labels.get(label, ""): (_finite(s) or [0.0])[-1] * window / scale for s in found}
    return got, tail


Wanted = Callable[[Mapping[str, Any]], Mapping[str, float] | None]


def at(*keys: str) -> Wanted:
    return lambda exp: _path(exp, *keys)


def warm(*keys: str) -> Wanted:
    """The same figure in the expectations' `warmup` block: what it was when the scenario's warm-up ended."""
    return lambda exp: _path(exp, "warmup", *keys)


def _warmup_unseen(exp: Mapping[str, Any], tr: Any, warmup: Wanted | None) -> Mapping[str, float] | None:
    """What each series held at its first scrape, from the expectations: the scenario stayed quiet for more
    than two scrape intervals after its warm-up, which touched every label set, so each series' first sample
    holds the warm-up's figure. None for files without a warm-up (or a range starting after it)."""
    if warmup is None:
        return None
    figures, end = warmup(exp), _path(exp, "window", "warmup_end")
    if not isinstance(figures, Mapping) or not end or ts(end).timestamp() * 1000 < tr.from_ms:
        return None
    return {k: float(v) for k, v in figures.items()}


def counter_rule(
    metric: str,
    label: str,
    truth: Wanted,
    name: str,
    scale: float,
    what: str,
    slack: float = ABS,
    warmup: Wanted | None = None,
    matchers: tuple[str, ...] = (),
) -> Callable[[Inputs], Outcome]:
    """The integral of the plotted rate (or the instant increase) per `label` ~ the scenario's count per `label`.

    Bounds per value: [(truth - unseen) * (1 - REL) - slack, truth * (1 + REL) + slack], where `unseen` is what the
    series already held at their first scrape in the range (the runner reads it from the raw samples): Prometheus
    2.42 cannot see increments made before a series' first sample, so no rate()/increase() panel can show them.
    With a warm-up in the expectations (`warmup` picks the figure there), that is what `unseen` must be: without
    the runner's Prometheus the warm-up figures are used; with it, a series holding more than the warm-up left
    (main traffic before its first scrape) is a problem, since it would make the lower bound vacuous.
    """

    def rule(inp: Inputs) -> Outcome:
        want = truth(inp.exp)
        if not isinstance(want, Mapping):
            return NoTruth(f"expectations have no `{name}`")
        warm_unseen = _warmup_unseen(inp.exp, inp.tr, warmup)
        if (inp.facts is None or inp.facts.unseen is None) and warm_unseen is None:
            return NoTruth("needs the runner's Prometheus (what each series held at its first scrape)")
        selector = api_series(inp.config, metric, *matchers)
        observed = _observed(inp, label, scale, selector)
        if isinstance(observed, NoTruth):
            return observed
        got, tail = observed
        probed = inp.facts is not None and inp.facts.unseen is not None
        seen = inp.facts.unseen(selector, label, inp.tr) if probed else warm_unseen  # type: ignore[union-attr,misc]
        assert seen is not None
        unseen = {k: seen.get(k, 0.0) + tail.get(k, 0.0) for k in set(seen) | set(tail)}
        items = tuple(
            _counter_item(k, got.get(k), float(v), float(unseen.get(k, 0.0)), slack) for k, v in sorted(want.items())
        )
        extra = tuple(
            f"{k}: panel {v:.6g}, the scenario counted none" for k, v in got.items() if k not in want and v > slack
        )
        if probed and warm_unseen is not None:
            extra += tuple(
                f"{k}: its series held {v:.6g} at their first scrape, the warm-up left {warm_unseen.get(k, 0.0):.6g}"
                for k, v in sorted(seen.items())
                if v > warm_unseen.get(k, 0.0) + slack
            )
        hidden = {k: round(v, 6) for k, v in unseen.items() if v}  # before the first scrape + in the last window
        why = (
            f"{what} per {label} = scenario's {name} within -{REL:.0%}-{slack:g}/+{REL:.0%}+{slack:g}, "
            f"minus what was made before each series' first scrape or in the last rate window {hidden or '{}'}"
        )
        if warm_unseen is not None:
            first = {k: round(v, 6) for k, v in seen.items() if v}
            last = {k: round(v, 6) for k, v in tail.items() if v}
            why += (
                f" (first scrape {first or '{}'} {'<=' if probed else '='} warm-up {_rounded(warm_unseen)}; "
                f"last window {last or '{}'})"
            )
        return Many(items, why, extra)

    return rule


def _rounded(values: Mapping[str, float]) -> dict[str, float]:
    return {k: round(v, 6) for k, v in sorted(values.items()) if v}


def _counter_item(name: str, got: float | None, want: float, unseen: float, slack: float) -> Item:
    low = max(0.0, (want - unseen) * (1 - REL) - slack)
    return Item(name, got, want, low, want * (1 + REL) + slack)


def _non_stream_requests(exp: Mapping[str, Any], stream: str) -> dict[str, float] | None:
    requests = _path(exp, "http", "requests")
    if not isinstance(requests, list):
        return None
    return {"+Inf": float(sum(r["count"] for r in requests if r["handler"] != stream))}


def latency_count(inp: Inputs) -> Outcome:
    """Latency distribution: the +Inf bucket's integral = the non-stream requests."""
    if not any(s.labels.get("le") == "+Inf" for s in series(inp.results)):
        return NoTruth("no +Inf bucket in the result")
    stream = str(inp.config["streamHandler"])
    rule = counter_rule(
        "http_request_duration_seconds_bucket",
        "le",
        lambda exp: _non_stream_requests(exp, stream),
        "non-stream http.requests",
        1.0,
        "requests counted in the +Inf bucket",
        warmup=lambda exp: _non_stream_requests(_path(exp, "warmup") or {}, stream),
        matchers=(f'handler!~"{inp.config["streamHandlerRegex"]}"', 'le="+Inf"'),
    )
    outcome = rule(inp)
    if isinstance(outcome, Many):
        return Many(tuple(i for i in outcome.items if i.name == "+Inf"), outcome.why)  # other buckets: no truth
    return outcome


def error_ratio_by_endpoint(inp: Inputs) -> Outcome:
    ratios = _path(inp.exp, "http", "error_ratio_5xx_by_handler")
    if not isinstance(ratios, Mapping):
        return NoTruth("expectations have no `http.error_ratio_5xx_by_handler`")
    got = {s.labels.get("handler", ""): _finite(s) for s in series(inp.results)}
    items = []
    for handler, ratio in sorted(ratios.items()):
        values = got.get(handler)
        if values is None:
            if ratio > 0:  # a failing endpoint must be drawn; one that never failed is not (no 5xx series)
                items.append(Item(handler, None, ratio, POSITIVE, 1))
        elif ratio > 0:  # the scenario made it fail: some window shows a 5xx share
            items.append(Item(f"{handler} max", max(values, default=None), ratio, POSITIVE, 1))
        else:  # never failed: every window with traffic is exactly 0 (windows without traffic are 0/0, not drawn)
            items.append(Item(f"{handler} max", max(values, default=0.0), 0.0, 0.0, 0.0))
    extra = tuple(f"{h}: panel shows it, the scenario never called it" for h in got if h not in ratios)
    return Many(
        tuple(items),
        "handlers the scenario made fail show a 5xx ratio > 0 in some window; any other handler drawn is exactly 0",
        extra,
    )


def _bucket_bounds(low: float, high: float, bounds: Sequence[float]) -> tuple[float, float]:
    below = max((b for b in bounds if b <= low), default=0.0)
    above = min((b for b in bounds if b >= high), default=math.inf)
    return below, above


HTTP_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)  # http_request_duration_seconds (workload)


def slowest_endpoints(inp: Inputs) -> Outcome:
    handler, seconds = _path(inp.exp, "http", "slow_handler"), _path(inp.exp, "http", "slow_handler_seconds")
    if not handler or not isinstance(seconds, list):
        return NoTruth("expectations have no `http.slow_handler` / `http.slow_handler_seconds`")
    rows = [(s.labels.get("handler", ""), (_finite(s) or [math.nan])[-1]) for s in series(inp.results)]
    ranked = sorted((r for r in rows if math.isfinite(r[1])), key=lambda r: -r[1])
    low, high = _bucket_bounds(float(seconds[0]), float(seconds[1]), HTTP_BUCKETS)
    got = dict(rows).get(handler)
    problems = (
        ()
        if ranked and ranked[0][0] == handler
        else (f"first row is {ranked[0][0] if ranked else 'nothing'}, not {handler}",)
    )
    return Many(
        (Item(f"{handler} p95", got, (low + high) / 2, low, high),),
        f"{handler} first, p95 within the buckets [{low:g}, {high:g}] s of its known {seconds[0]}-{seconds[1]} s",
        problems,
    )


def latency_quantiles(inp: Inputs) -> Outcome:
    """p50 <= p95 <= p99 at every time, all within the histogram's finite buckets."""
    by_ref = [r.series[0] if r.series else None for r in inp.results]
    if len(by_ref) != 3 or any(s is None for s in by_ref):
        return NoTruth("needs the three quantile series p50, p95, p99")
    p50, p95, p99 = (dict((t, v) for t, v in s.points if v is not None and math.isfinite(v)) for s in by_ref if s)
    problems = tuple(
        f"t={t:.0f}: p50 {p50[t]:.4g}, p95 {p95[t]:.4g}, p99 {p99[t]:.4g} not ordered"
        for t in sorted(set(p50) & set(p95) & set(p99))
        if not p50[t] <= p95[t] + 1e-12 <= p99[t] + 2e-12
    )
    top = HTTP_BUCKETS[-1]
    items = tuple(
        Item(f"{name} max", max(v.values(), default=None), top / 2, 0.0, top)
        for name, v in (("p50", p50), ("p95", p95), ("p99", p99))
    )
    return Many(items, f"p50 <= p95 <= p99 at every time, each within the finite buckets [0, {top:g}] s", problems)


def inflight_zero(inp: Inputs) -> Outcome:
    found = series(inp.results)
    items = tuple(Item.within(f"{s.labels.get('handler', '')} last", _last(_finite(s)), 0.0, 0.0) for s in found)
    return Many(items, "every non-stream handler has 0 requests in flight at the end (the scenario waited for each)")


def _node_items(inp: Inputs, nodes: Mapping[str, Mapping[str, float]], unseen: Mapping[str, float]) -> tuple[Item, ...]:
    got = {s.labels.get("node_name", ""): _finite(s) for s in series(inp.results)}
    items = []
    for node, counts in sorted(nodes.items()):
        errors = float(counts.get("error", 0))
        values = got.get(node)
        if values is None:
            items.append(Item(node, None, errors, 0, 1))
        elif errors > unseen.get(node, 0.0):  # some error happened after the series' first scrape: visible
            items.append(Item(f"{node} max", max(values, default=None), errors, POSITIVE, 1))
        elif errors:
            items.append(
                Item(
                    f"{node} max (its {errors:g} errors came before its error series' first scrape)",
                    max(values, default=0.0),
                    errors,
                    0.0,
                    1,
                )
            )
        else:
            items.append(Item(f"{node} max", max(values, default=0.0), 0.0, 0.0, 0.0))
    return tuple(items)


def node_error_ratio(inp: Inputs) -> Outcome:
    nodes = _path(inp.exp, "llm", "graph_nodes_by_node_status")
    if not isinstance(nodes, Mapping):
        return NoTruth("expectations have no `llm.graph_nodes_by_node_status`")
    warm_nodes = _path(inp.exp, "warmup", "llm", "graph_nodes_by_node_status")
    warm_errors = (
        (lambda exp: {n: c.get("error", 0) for n, c in warm_nodes.items()}) if isinstance(warm_nodes, Mapping) else None
    )
    warm_unseen = _warmup_unseen(inp.exp, inp.tr, warm_errors)
    problems: tuple[str, ...]
    if inp.facts is None or inp.facts.unseen is None:
        if warm_unseen is None:
            return NoTruth("needs the runner's Prometheus (what each error series held at its first scrape)")
        unseen, problems = warm_unseen, ()
    else:
        unseen = inp.facts.unseen(api_series(inp.config, "bo1_graph_node_total", 'status="error"'), "node_name", inp.tr)
        problems = tuple(
            f"{n}: its error series held {v:g} at its first scrape, the warm-up left {warm_unseen.get(n, 0.0):g}"
            for n, v in sorted(unseen.items())
            if warm_unseen is not None and v > warm_unseen.get(n, 0.0)
        )
    why = (
        "nodes the scenario failed show an error ratio > 0 (unless every error came before the error series' "
        "first scrape: invisible to rate()), the others exactly 0"
    )
    if warm_unseen is not None:
        why += f" (errors before the first scrape: the warm-up's {_rounded(warm_unseen)} of {_rounded({n: c.get('error', 0) for n, c in nodes.items()})})"
    return Many(_node_items(inp, nodes, unseen), why, problems)


def _populated_range(buckets: Mapping[str, float]) -> tuple[float, float] | None:
    ordered = sorted((float(le), n) for le, n in buckets.items())
    total = ordered[-1][1] if ordered else 0
    if not total:
        return None
    first = next(i for i, (_, n) in enumerate(ordered) if n > 0)
    low = ordered[first - 1][0] if first > 0 else 0.0
    high = next(le for le, n in ordered if n >= total)
    finite = [le for le, _ in ordered if math.isfinite(le)]
    return low, min(high, max(finite))


def node_p95(inp: Inputs) -> Outcome:
    hist = _path(inp.exp, "llm", "graph_node_duration_buckets")
    if not isinstance(hist, Mapping):
        return NoTruth("expectations have no `llm.graph_node_duration_buckets`")
    items = []
    for s in series(inp.results):
        node = s.labels.get("node_name", "")
        span = _populated_range(hist.get(node) or {})
        values = _finite(s)
        if span is None:
            items.append(Item(f"{node} (no observation)", max(values, default=None), 0, 0, 0))
            continue
        items += [
            Item(f"{node} min", min(values, default=None), span[0], span[0], span[1]),
            Item(f"{node} max", max(values, default=None), span[1], span[0], span[1]),
        ]
    missing = tuple(
        f"{n}: observed by the workload, no series on the panel"
        for n in hist
        if n not in {s.labels.get("node_name") for s in series(inp.results)}
    )
    return Many(
        tuple(items),
        "per node, every p95 lies within the histogram buckets holding that node's observed durations",
        missing,
    )
