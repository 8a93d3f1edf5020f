"""Truth over the whole range: every point a Prometheus panel draws over the backfilled history
(scenario/history.py), checked against what the history's generator wrote, with Prometheus' own bounds.

The history is re-planned from the expectations' `history` block (the generator is deterministic), so every
sample of every series is known. At each point of the panel (only points before `live_from`: the live part is
the scenario's, judged by verify/truth.py) the rule of the panel gives bounds per series of the panel:

- `rate(x[w])` of one series over a window holding samples with increase I (resets handled as Prometheus does:
  a drop counts the new value) over the sampled span d: Prometheus extrapolates towards the window's edges, never
  beyond them, so the rate lies in [I / w, I / d]; fewer than two samples: no value. A sum of series adds the
  bounds. This is what "within the extrapolation bound" means; it holds at a blue/green deploy (one colour's
  series ends, the other's begins from 0) and across an exporter restart (a reset inside the window).
- a recording rule of such rates (evaluated every step of the history) read with `avg_over_time(rule[W])`:
  between the lowest and highest bound of the evaluations W may hold; read directly: those of the last two steps
  (or any within the 5 min lookback when the last ones have no value).
- a gauge read directly: exactly the sum (or max) of every series' latest sample within the 5 min lookback.
- no sample in a window (the scrape gap): no point; a panel drawing a value there (a 0) fails: a gap must show
  as a gap. Where a window only partly covers data, both are accepted.
- ratios: the quotient of the bounds; `(a or b * 0) / b`: 0 where b has a value and a has none.
- histogram quantiles: series sampled at the same times share the extrapolation factor, so each such set gives a
  histogram of exact shape; what the panel reads is a mixture of them (and of the evaluations averaged), whose
  interpolated quantile lies between its parts' quantiles, give or take a tenth of the bucket (QUANTILE_SLACK).
- `sum_over_time(rule[$__range])` and `increase(m[$__range])` (instant panels): the query run again over the
  history part, bounded by the sums of the evaluations' bounds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from bo1dash.grafana.durations import parse_interval_ms
from bo1dash.grafana.frames import QueryResult, Series
from bo1dash.grafana.time_range import TimeRange
from bo1dash.verify import truth_prom
from bo1dash.verify.truth_base import Inputs, Item, Many, NoTruth, Outcome

LOOKBACK = 300.0
BLOCK_SECONDS = 7200  # promtool tsdb create-blocks-from writes 2 h blocks
API = (("job", "=~", "bo1-api|bo1-backend-.*"),)
NO_STREAM = (("handler", "!~", ".*/stream"),)
REL = 1e-6  # float sums in another order
ABS = 1e-9
SHOWN = 6  # problems quoted per panel

if TYPE_CHECKING:  # bo1dash.bench's package imports the verifier: the history is imported when used
    from bo1dash.scenario.history import History

Matcher = tuple[str, str, str]  # label, op (= != =~ !~), value


@dataclass(frozen=True)
class Bound:
    low: float
    high: float
    presence: str  # "yes" | "no" | "maybe"


NOTHING = Bound(math.nan, math.nan, "no")


@dataclass
class _Series:
    labels: dict[str, str]
    present: list[bool]
    value: list[float]
    prefix: list[float]  # counter increase up to each present step (a drop counts the new value)
    prev: list[int]  # last present step <= k (-1: none)
    nxt: list[int]  # first present step >= k (n: none)


def _matches(labels: Mapping[str, str], matchers: Sequence[Matcher]) -> bool:
    for name, op, value in matchers:
        got = labels.get(name, "")
        if op == "=" and got != value or op == "!=" and got == value:
            return False
        if op == "=~" and not re.fullmatch(value, got) or op == "!~" and re.fullmatch(value, got):
            return False
    return True


class HistoryTruth:
    """Every sample of the history, per metric, as arrays over its steps."""

    def __init__(self, history: History) -> None:
        from bo1dash.bench.series import iter_series

        self.history = history
        self.scale = history.scale
        self.n = self.scale.minutes
        self.step = float(self.scale.step_seconds)
        self.start = float(history.start_epoch)
        self._specs: dict[str, list[Any]] = {}
        for spec in iter_series(history.families()):
            self._specs.setdefault(spec.name, []).append(spec)
        self._gap = {t for a, b in self.scale.gaps for t in range(a, b)}
        self._cache: dict[str, list[_Series]] = {}
        self._selected: dict[tuple[str, tuple[Matcher, ...]], list[_Series]] = {}

    @property
    def live_from(self) -> float:
        return self.history.live_from

    def index(self, moment: float) -> int:
        """The step whose cell [t_k, t_k+1) holds `moment`."""
        return math.floor((moment - self.start) / self.step + 1e-9)

    def series(self, metric: str) -> list[_Series]:
        if metric not in self._cache:
            self._cache[metric] = [self._arrays(spec) for spec in self._specs.get(metric, [])]
        return self._cache[metric]

    def _arrays(self, spec: Any) -> _Series:
        n = self.n
        present, value = [False] * n, [0.0] * n
        for w in spec.windows:
            for t in range(max(0, w.start), min(n, w.end)):
                if t not in self._gap:
                    present[t], value[t] = True, float(spec.value(t, w))
        prefix, prev, nxt = [0.0] * n, [-1] * n, [n] * n
        total, last = 0.0, -1
        for t in range(n):
            if present[t]:
                if last >= 0:
                    total += value[t] - value[last] if value[t] >= value[last] else value[t]
                last = t
            prefix[t], prev[t] = total, last
        following = n
        for t in range(n - 1, -1, -1):
            if present[t]:
                following = t
            nxt[t] = following
        return _Series(dict(spec.labels), present, value, prefix, prev, nxt)

    def select(self, metric: str, matchers: tuple[Matcher, ...]) -> list[_Series]:
        key = (metric, matchers)
        if key not in self._selected:
            self._selected[key] = [s for s in self.series(metric) if _matches(s.labels, matchers)]
        return self._selected[key]

    # --- one series

    def rate_bounds(self, s: _Series, a: int, b: int, window: float) -> tuple[float, float] | None:
        """Bounds of rate() over a window holding steps [a, b]; None with fewer than two samples.

        Prometheus 2's range selectors hold a sample exactly `window` old too: a window ending on a step also
        holds step a - 1, so both sample sets are allowed."""
        one = self._rate_bounds(s, a, b, window)
        two = self._rate_bounds(s, a - 1, b, window)
        if one is None or two is None:
            return one or two
        return min(one[0], two[0]), max(one[1], two[1])

    def _rate_bounds(self, s: _Series, a: int, b: int, window: float) -> tuple[float, float] | None:
        a, b = max(a, 0), min(b, self.n - 1)
        if a > b:
            return None
        first, last = s.nxt[a], s.prev[b]
        if first >= last:
            return None
        increase = s.prefix[last] - s.prefix[first]
        return increase / window, increase / ((last - first) * self.step)

    def latest(self, s: _Series, k: int, lookback_steps: int) -> tuple[float, bool] | None:
        """The latest sample at or before step k within the lookback, and whether it is exactly lookback old
        (seen or not, depending on where in step k the query falls)."""
        if k < 0:
            return None
        j = s.prev[min(k, self.n - 1)]
        return (s.value[j], j == k - lookback_steps) if j >= 0 and j >= k - lookback_steps else None


def _key(labels: Mapping[str, str], by: Sequence[str]) -> tuple[tuple[str, str], ...]:
    return tuple((name, labels.get(name, "")) for name in by)


@dataclass(frozen=True)
class Term:
    """One aggregated selector of a panel's query, as the history can evaluate it at a point T.

    kind: "rate" (rate(m[W]) on raw samples), "rule_avg" (avg_over_time of a recording rule of 1 m rates),
    "rule_instant" (that rule read directly), "gauge" (raw gauge read directly), "rule_gauge" (a rule summing
    gauges, read directly)."""

    kind: str
    metric: str
    matchers: tuple[Matcher, ...]
    by: tuple[str, ...]
    agg: str = "sum"
    rule_window: float = 60.0


GroupBounds = dict[tuple[tuple[str, str], ...], Bound]


class Evaluator:
    def __init__(self, truth: HistoryTruth) -> None:
        self.t = truth
        self.lookback = int(LOOKBACK // truth.step)
        self._cells: dict[tuple[Any, ...], Callable[[int], GroupBounds]] = {}
        self._hists: dict[Term, Callable[[int], list[dict[tuple[Any, ...], dict[float, float]]]]] = {}

    def _rule_rates(self, term: Term) -> Callable[[int], GroupBounds]:
        if ("rule", term) not in self._cells:
            self._cells[("rule", term)] = self._make_rule_rates(term)
        return self._cells[("rule", term)]

    def _gauges_at(self, term: Term) -> Callable[[int], GroupBounds]:
        if ("gauge", term) not in self._cells:
            self._cells[("gauge", term)] = self._make_gauges_at(term)
        return self._cells[("gauge", term)]

    def _make_rule_rates(self, term: Term) -> Callable[[int], GroupBounds]:
        """Per step k: bounds per job and group of the rule evaluated in cell k (sum of 1 m rates); the job stays
        apart, since avg_over_time averages each recorded series over its own evaluations."""
        t = self.t
        span = int(round(term.rule_window / t.step))
        chosen = t.select(term.metric, term.matchers)

        @cache
        def at(k: int) -> GroupBounds:
            if k > t.n:  # promtool evaluated the rules up to the history's end only
                return {}
            out: dict[tuple[tuple[str, str], ...], list[float]] = {}
            for s in chosen:
                b = t.rate_bounds(s, k - span + 1, k, term.rule_window)
                if b is not None:
                    acc = out.setdefault(_key(s.labels, ("job", *term.by)), [0.0, 0.0])
                    acc[0] += b[0]
                    acc[1] += b[1]
            return {g: Bound(lo, hi, "yes" if k < t.n else "maybe") for g, (lo, hi) in out.items()}

        return at

    def quantile_cells(self, term: Term, q: float) -> Callable[[int], GroupBounds]:
        """Per step k: bounds per group (without `le`) of histogram_quantile(q) of the rule evaluated in cell k.

        Series sampled at the same times share Prometheus' extrapolation factor, so each set of them gives a
        histogram of exact shape (its increases per `le`); the rule sums them with unknown factors: a mixture,
        whose quantile lies between its parts' (their interpolated CDFs share the bucket edges)."""
        if ("quantile", term, q) not in self._cells:
            self._cells[("quantile", term, q)] = self._make_quantile_cells(term, q)
        return self._cells[("quantile", term, q)]

    def _histograms(self, term: Term) -> Callable[[int], list[dict[tuple[Any, ...], dict[float, float]]]]:
        """Per step k, per window the rule may have held (with or without the sample exactly a window old): per
        set of series sampled alike, its histogram for each way Prometheus may extrapolate to the window's start
        (fully, half, not at all, or half an interval after a gap; each bucket's counter no further than to 0,
        which for a small count differs per bucket)."""
        if term in self._hists:
            return self._hists[term]
        t = self.t
        span = int(round(term.rule_window / t.step))
        chosen = t.select(term.metric, term.matchers)
        rest = tuple(b for b in term.by if b != "le")

        @cache
        def at(k: int) -> list[dict[tuple[Any, ...], dict[float, float]]]:
            out = []
            for a in (k - span + 1, k - span):
                parts: dict[tuple[Any, ...], dict[float, float]] = {}
                lo, hi = max(a, 0), min(k, t.n - 1)
                for s in chosen if lo <= hi else ():
                    first, last = s.nxt[lo], s.prev[hi]
                    if first >= last:
                        continue
                    le = s.labels.get("le", "")
                    bound = math.inf if le == "+Inf" else float(le)
                    increase = s.prefix[last] - s.prefix[first]
                    step_increase = increase / (last - first)
                    for share in (0.0, 0.5, 1.0, -1.0):
                        if share >= 0:  # the window starts less than 1.1 intervals before its first sample
                            extra = min(step_increase * share, s.value[first])
                        else:  # further (after a gap): half an interval, or down to 0 if that is nearer
                            extra = s.value[first] if s.value[first] < 1.1 * step_increase else step_increase / 2
                        hist = parts.setdefault((_key(s.labels, rest), first, last, share), {})
                        hist[bound] = hist.get(bound, 0.0) + increase + extra
                out.append(parts)
            return out

        self._hists[term] = at
        return at

    def _make_quantile_cells(self, term: Term, q: float) -> Callable[[int], GroupBounds]:
        t = self.t
        histograms = self._histograms(term)

        @cache
        def at(k: int) -> GroupBounds:
            if k > t.n:
                return {}
            found: dict[tuple[tuple[str, str], ...], list[float]] = {}
            missing: set[tuple[tuple[str, str], ...]] = set()
            for parts in histograms(k):
                groups: dict[tuple[tuple[str, str], ...], list[float]] = {}
                for (g, *_), hist in parts.items():
                    for latest in (False, True):
                        value = histogram_quantile(q, hist, latest)
                        if value is not None:
                            slack = QUANTILE_SLACK * _bucket_width(value, hist)
                            groups.setdefault(g, []).extend((value - slack, value + slack))
                for g, values in groups.items():
                    acc = found.setdefault(g, [math.inf, -math.inf])
                    acc[0], acc[1] = min(acc[0], *values), max(acc[1], *values)
                missing |= {key[0] for key in parts} - set(groups)
            return {g: Bound(lo, hi, "maybe" if g in missing or k == t.n else "yes") for g, (lo, hi) in found.items()}

        return at

    def _make_gauges_at(self, term: Term) -> Callable[[int], GroupBounds]:
        t = self.t
        chosen = t.select(term.metric, term.matchers)

        def fold(values: list[float]) -> float:
            return sum(values) if term.agg == "sum" else max(values)

        @cache
        def at(k: int) -> GroupBounds:
            sure: dict[tuple[tuple[str, str], ...], list[float]] = {}
            edge: dict[tuple[tuple[str, str], ...], list[float]] = {}
            for s in chosen:
                found = t.latest(s, k, self.lookback)
                if found is None:
                    continue
                g = _key(s.labels, term.by)
                (edge if found[1] else sure).setdefault(g, []).append(found[0])
            out: GroupBounds = {}
            for g in set(sure) | set(edge):
                strict, loose = sure.get(g, []), sure.get(g, []) + edge.get(g, [])
                if g not in edge:
                    out[g] = Bound(fold(strict), fold(strict), "yes")
                else:
                    values = [fold(v) for v in (strict, loose) if v]
                    out[g] = Bound(min(values), max(values), "maybe")
            return out

        return at

    def quantiles(self, term: Term, q: float, at: float, window: float) -> GroupBounds:
        """histogram_quantile(q) of the rule read with avg_over_time (a mixture of the cells it averages) or
        directly (one of the last two cells)."""
        read = self._read(self.quantile_cells(term, q), term.kind, at, window)
        # where the evaluations read only partly have a value (the edges of a gap, a deploy), no bound but presence
        return {g: b if b.presence == "yes" else Bound(0.0, math.inf, b.presence) for g, b in read.items()}

    def bounds(self, term: Term, at: float, window: float) -> GroupBounds:
        """Bounds per group of the term at the point `at` (epoch s); `window` the query's range (W)."""
        t = self.t
        if term.kind == "increase":  # increase(m[W]) = rate(m[W]) * W
            rates = self.bounds(replace(term, kind="rate"), at, window)
            return {g: Bound(b.low * window, b.high * window, b.presence) for g, b in rates.items()}
        if term.kind == "rule_sum":  # sum_over_time(rule[W]): one evaluation per step of the history
            recorded = self._rule_rates(term)

            def per_cell(j: int) -> GroupBounds:
                return _fold_jobs(recorded(j))

            first, last = t.index(at - window), t.index(at)
            inner = _add([per_cell(j) for j in range(first + 1, last)])
            outer = _add([per_cell(j) for j in range(first, last + 1)])
            return {g: Bound(inner[g].low if g in inner else 0.0, b.high, "yes") for g, b in outer.items()}
        if term.kind == "rate":
            a, b = t.index(at - window) + 1, t.index(at)
            out: dict[tuple[tuple[str, str], ...], list[float]] = {}
            for s in t.select(term.metric, term.matchers):
                r = t.rate_bounds(s, a, b, window)
                if r is not None:
                    acc = out.setdefault(_key(s.labels, term.by), [0.0, 0.0])
                    acc[0] += r[0]
                    acc[1] += r[1]
            return {g: Bound(lo, hi, "yes") for g, (lo, hi) in out.items()}
        if term.kind == "gauge":
            # a raw gauge at `at`: exact (the sample at t_k is inside when t_k <= at)
            return self._gauges_at(term)(t.index(at))
        cells = self._rule_rates(term) if term.kind.startswith("rule_") and term.kind != "rule_gauge" else None
        if cells is not None and term.kind == "rule_avg":
            k = t.index(at)
            return _fold_jobs(_merge([cells(j) for j in range(t.index(at - window), k + 1)]))
        if cells is not None:
            rule = cells
            return self._read(lambda j: _fold_jobs(rule(j)), term.kind, at, window)
        return self._read(self._gauges_at(term), term.kind, at, window)

    def _read(self, per_cell: Callable[[int], GroupBounds], kind: str, at: float, window: float) -> GroupBounds:
        """A recording rule's evaluations (bounds per cell) as the query reads them at `at`."""
        t = self.t
        k = t.index(at)
        if kind == "rule_avg":
            return _merge([per_cell(j) for j in range(t.index(at - window), k + 1)])
        # read directly: the last evaluation at or before `at` (one of the last two cells), else any in lookback.
        # At a 2 h boundary (where promtool's rule backfill starts a new block, each evaluated on its own) the next
        # cell is accepted too: one CI run saw an in-flight point there equal to neither of the last two cells.
        # The point is sure only where every evaluation it may read is: a cell whose windows may hold no increase
        # of the group (its quantile NaN) leaves the point out when that evaluation is the one read.
        at_block_start = at % BLOCK_SECONDS < t.step
        cells = [per_cell(k - 1), per_cell(k), *([per_cell(k + 1)] if at_block_start else [])]
        recent = _merge(cells)
        sure = set.intersection(*({g for g, b in c.items() if b.presence == "yes"} for c in cells))
        older = _merge([per_cell(j) for j in range(k - self.lookback, k + 1)])
        return {g: recent[g] if g in sure else Bound(b.low, b.high, "maybe") for g, b in older.items()}


def _fold_jobs(bounds: GroupBounds) -> GroupBounds:
    """Bounds per job and group summed over the jobs (the query's `sum by` without job): a job's series that may
    be absent adds nothing to the lower bound."""
    out: dict[tuple[tuple[str, str], ...], list[Any]] = {}
    for key, b in bounds.items():
        acc = out.setdefault(key[1:], [0.0, 0.0, "no"])
        acc[0] += b.low if b.presence == "yes" else 0.0
        acc[1] += b.high
        acc[2] = "yes" if "yes" in (acc[2], b.presence) else "maybe"
    return {g: Bound(lo, hi, presence) for g, (lo, hi, presence) in out.items()}


def _add(cells: Sequence[GroupBounds]) -> GroupBounds:
    out: dict[tuple[tuple[str, str], ...], list[float]] = {}
    for cell in cells:
        for g, b in cell.items():
            acc = out.setdefault(g, [0.0, 0.0])
            acc[0] += b.low
            acc[1] += b.high
    return {g: Bound(lo, hi, "yes") for g, (lo, hi) in out.items()}


# A quantile may leave its parts' range by this share of its bucket's width: each bucket's counter is truncated to
# an integer on its own, and next to a scrape gap Prometheus' per-bucket extrapolation is only bounded, not known.
QUANTILE_SLACK = 0.1


def _bucket_width(value: float, hist: Mapping[float, float]) -> float:
    edges = [0.0, *sorted(b for b in hist if math.isfinite(b))]
    return next((b - a for a, b in zip(edges, edges[1:]) if a <= value <= b), 0.0)


def histogram_quantile(q: float, hist: Mapping[float, float], latest: bool = False) -> float | None:
    """Prometheus' histogram_quantile of cumulative bucket counts (upper bound -> count); None for NaN.

    Counts that drop from one bucket to the next (integer counters, each bucket truncated on its own) are raised
    to the highest count below, as Prometheus does; `latest` lowers them to the lowest count above instead: a sum
    with other histograms may cross the rank anywhere between the two."""
    bounds = sorted(hist)
    if not bounds or not math.isinf(bounds[-1]):
        return None
    if latest:
        counts, running = [], math.inf
        for b in reversed(bounds):
            running = min(running, hist[b])
            counts.append(running)
        counts.reverse()
    else:
        counts, running = [], 0.0
        for b in bounds:
            running = max(running, hist[b])
            counts.append(running)
    total = counts[-1]
    if total <= 0:
        return None
    rank = q * total
    i = next(j for j, c in enumerate(counts) if c >= rank)
    if i == len(bounds) - 1:
        return bounds[-2] if len(bounds) > 1 else None
    lower, below = (bounds[i - 1], counts[i - 1]) if i > 0 else (0.0, 0.0)
    if bounds[i] <= 0 or counts[i] == below:
        return bounds[i]
    return lower + (bounds[i] - lower) * (rank - below) / (counts[i] - below)


def _merge(cells: Sequence[GroupBounds]) -> GroupBounds:
    """Bounds of a value that is one of (or an average of) the cells' values: min of lows, max of highs; present
    in every cell: yes, in some: maybe."""
    groups = {g for c in cells for g in c}
    out: GroupBounds = {}
    for g in groups:
        found = [c[g] for c in cells if g in c]
        out[g] = Bound(
            min(b.low for b in found), max(b.high for b in found), "yes" if len(found) == len(cells) else "maybe"
        )
    return out


@dataclass(frozen=True)
class Target:
    """How a target's value follows from terms: one term, a ratio, or 1 - ratio; times `scale`."""

    num: Term
    den: Term | None = None
    or_zero: bool = False  # `(num or den * 0) / den`
    one_minus: bool = False
    scale: float = 1.0
    quantile: float | None = None  # histogram_quantile(q, num), num's groups holding `le`

    def by(self) -> tuple[str, ...]:
        return tuple(b for b in self.num.by if b != "le") if self.quantile is not None else self.num.by


def _quantile_bounds(buckets: GroupBounds, q: float) -> GroupBounds:
    """Bounds of histogram_quantile(q) from bounds of every cumulative bucket: the rank q x count(+Inf) lies
    between q x its lowest and highest count, so the quantile lies between the lower edge of the first bucket
    that may hold it and the upper edge of the first that must (the highest finite edge for +Inf)."""
    grouped: dict[tuple[tuple[str, str], ...], list[tuple[float, Bound]]] = {}
    for g, b in buckets.items():
        le = dict(g).get("le", "")
        rest = tuple(kv for kv in g if kv[0] != "le")
        grouped.setdefault(rest, []).append((math.inf if le == "+Inf" else float(le), b))
    out: GroupBounds = {}
    for g, rows in grouped.items():
        rows.sort(key=lambda r: r[0])
        if not rows or not math.isinf(rows[-1][0]) or rows[-1][1].high <= 0:
            continue  # no count: NaN, no point
        total = rows[-1][1]
        finite = [le for le, _ in rows if math.isfinite(le)]
        low_rank, high_rank = q * total.low, q * total.high
        first = next(i for i, (_, b) in enumerate(rows) if b.high >= low_rank)
        last = next((i for i, (_, b) in enumerate(rows) if b.low >= high_rank), len(rows) - 1)
        low = rows[first - 1][0] if first > 0 else 0.0
        high = rows[last][0] if math.isfinite(rows[last][0]) else max(finite, default=0.0)
        low = min(low, max(finite, default=0.0))
        sure = total.low > 0 and all(b.presence == "yes" for _, b in rows)
        out[g] = Bound(low, high, "yes" if sure else "maybe")
    return out


def _target_bounds(ev: Evaluator, target: Target, at: float, window: float) -> GroupBounds:
    if target.quantile is not None and target.num.kind in ("rule_avg", "rule_instant"):
        return ev.quantiles(target.num, target.quantile, at, window)
    num = ev.bounds(target.num, at, window)
    if target.quantile is not None:
        return _quantile_bounds(num, target.quantile)
    if target.den is None:
        return {g: Bound(b.low * target.scale, b.high * target.scale, b.presence) for g, b in num.items()}
    den = ev.bounds(target.den, at, window)
    out: GroupBounds = {}
    for g, d in den.items():
        n = num.get(g)
        if n is None:
            if not target.or_zero:
                continue
            n = Bound(0.0, 0.0, d.presence)
        if d.high <= 0:
            continue  # 0/0: no point drawn
        low = n.low / d.high if d.high else 0.0
        high = n.high / d.low if d.low > 0 else math.inf
        # a denominator that may be 0 may leave the point out (0/0)
        presence = "yes" if n.presence == d.presence == "yes" and d.low > 0 else "maybe"
        if target.one_minus:
            low, high = 1 - high, 1 - low
        out[g] = Bound(low * target.scale, high * target.scale, presence)
    return out


def _window(query: str) -> float:
    match = re.search(r"\[([0-9][0-9smhdwy]*)(?::[0-9smhdwy]*)?\]", query)
    return parse_interval_ms(match.group(1)) / 1000 if match else 0.0


def _rule(metric: str, by: tuple[str, ...], *extra: Matcher, kind: str = "rule_avg") -> Term:
    return Term(kind, metric, (*API, *extra), by)


_HTTP = "http_requests_total"
_PROC = (("job", "=", "process-exporter"), ("groupname", "=~", "bo1-api|postgres|redis-server"))
_DISK = (("job", "=", "node-exporter"), ("fstype", "!~", "tmpfs|overlay|squashfs|nsfs|ramfs"))

# (dashboard uid, panel title) -> one Target per visible target, in target order
RANGE_RULES: dict[tuple[str, str], tuple[Target, ...]] = {
    ("bo1-api", "Request rate by status"): (Target(_rule(_HTTP, ("status",))),),
    ("bo1-api", "5xx error ratio"): (
        Target(
            _rule(_HTTP, (), *NO_STREAM, ("status", "=", "5xx"), kind="rule_sum"),
            _rule(_HTTP, (), *NO_STREAM, kind="rule_sum"),
            or_zero=True,
        ),
    ),
    ("bo1-api", "Status codes"): (Target(Term("increase", _HTTP, API, ("status",))),),
    ("bo1-api", "Latency p50 / p95 / p99"): tuple(
        Target(_rule("http_request_duration_seconds_bucket", ("le",), *NO_STREAM), quantile=q)
        for q in (0.5, 0.95, 0.99)
    ),
    ("bo1-api", "Top 10 slowest endpoints (p95)"): (
        Target(
            Term(
                "rule_sum",
                "http_request_duration_seconds_bucket",
                (*API, *NO_STREAM),
                ("le", "handler"),
                rule_window=300,
            ),
            quantile=0.95,
        ),
    ),
    ("bo1-deliberation", "Graph node p95 duration"): (
        Target(
            _rule("bo1_graph_node_duration_seconds_bucket", ("le", "node_name"), kind="rule_instant"), quantile=0.95
        ),
    ),
    ("bo1-api", "Latency distribution"): (Target(_rule("http_request_duration_seconds_bucket", ("le",), *NO_STREAM)),),
    ("bo1-api", "Error ratio by endpoint"): (
        Target(
            _rule(_HTTP, ("handler",), *NO_STREAM, ("status", "=", "5xx")),
            _rule(_HTTP, ("handler",), *NO_STREAM),
        ),
    ),
    ("bo1-api", "In-flight requests"): (
        Target(Term("rule_gauge", "http_requests_inprogress", (*API, *NO_STREAM), ("handler",))),
    ),
    ("bo1-cost", "Live spend rate"): (
        Target(_rule("llm_cost_dollars_total", ("provider",), kind="rule_instant"), scale=3600.0),
    ),
    ("bo1-cost", "Tokens by type"): (Target(_rule("llm_tokens_total", ("token_type",), kind="rule_instant")),),
    ("bo1-deliberation", "Session lifecycle events"): (
        Target(Term("rate", "bo1_sessions_total", API, ("status",)), scale=60.0),
    ),
    ("bo1-deliberation", "Graph node error ratio"): (
        Target(
            _rule("bo1_graph_node_total", ("node_name",), ("status", "=", "error"), kind="rule_instant"),
            _rule("bo1_graph_node_total", ("node_name",), kind="rule_instant"),
            or_zero=True,
        ),
    ),
    ("bo1-infrastructure", "Redis memory"): (
        Target(Term("gauge", "redis_memory_used_bytes", (("job", "=", "redis-exporter"),), ("instance",))),
        Target(Term("gauge", "redis_memory_max_bytes", (("job", "=", "redis-exporter"),), ("instance",), "max")),
    ),
    ("bo1-infrastructure", "Redis connections"): (
        Target(Term("gauge", "redis_connected_clients", (("job", "=", "redis-exporter"),), ("instance",))),
        Target(Term("gauge", "redis_blocked_clients", (("job", "=", "redis-exporter"),), ("instance",))),
    ),
    ("bo1-infrastructure", "Postgres connections"): (
        Target(Term("gauge", "pg_stat_database_numbackends", (("job", "=", "postgres-exporter"),), ("instance",))),
        Target(
            Term("gauge", "pg_settings_max_connections", (("job", "=", "postgres-exporter"),), ("instance",), "max")
        ),
    ),
    ("bo1-infrastructure", "Postgres longest transaction"): (
        Target(
            Term("gauge", "pg_stat_activity_max_tx_duration", (("job", "=", "postgres-exporter"),), ("state",), "max")
        ),
    ),
    ("bo1-infrastructure", "Disk usage"): (
        Target(
            Term("gauge", "node_filesystem_avail_bytes", _DISK, ("instance", "mountpoint")),
            Term("gauge", "node_filesystem_size_bytes", _DISK, ("instance", "mountpoint")),
            one_minus=True,
        ),
    ),
    ("bo1-infrastructure", "Process CPU"): (
        Target(Term("rate", "namedprocess_namegroup_cpu_seconds_total", _PROC, ("groupname",))),
    ),
    ("bo1-infrastructure", "Process memory"): (
        Target(
            Term(
                "gauge",
                "namedprocess_namegroup_memory_bytes",
                (*_PROC, ("memtype", "=", "resident")),
                ("groupname",),
            )
        ),
    ),
}


NODE_BUCKETS = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0)  # bo1_graph_node_duration_seconds


def _node_p95(inp: Inputs) -> Outcome:
    """Every node's p95 at every point within the histogram's finite buckets (a quantile of rates mixing
    counters across a reset or a gap would leave them or turn NaN)."""
    items = []
    for s in (s for r in inp.results for s in r.series):
        values = [v for _, v in s.points if v is not None and not math.isnan(v)]  # NaN (no run in the window): no point
        bad = [v for v in values if not 0 < v <= NODE_BUCKETS[-1]]
        items.append(
            Item(
                f"{s.labels.get('node_name', '')}: points within (0, {NODE_BUCKETS[-1]:g}] s",
                float(len(values) - len(bad)),
                len(values),
                len(values),
                len(values),
            )
        )
    return Many(tuple(items), f"every p95 at every point within the finite buckets (0, {NODE_BUCKETS[-1]:g}] s")


# Panels whose rule holds at every point of any range (it needs nothing the scenario knows)
WHOLE_RANGE_RULES: dict[tuple[str, str], Callable[[Inputs], Outcome]] = {
    ("bo1-api", "Latency p50 / p95 / p99"): truth_prom.latency_quantiles,
    ("bo1-deliberation", "Graph node p95 duration"): _node_p95,
}


def _label(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%H:%M:%SZ")


def _events_in(truth: HistoryTruth, tr: TimeRange) -> str:
    start, end = tr.from_ms / 1000, min(tr.to_ms / 1000, truth.live_from)
    shown = []
    for e in truth.history.events():
        at = datetime.fromisoformat(e["at"].replace("Z", "+00:00")).timestamp()
        if start <= at <= end:
            shown.append(f"{e['kind']} {_label(at)}")
    return ", ".join(shown) or "none"


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _check_target(
    ev: Evaluator, target: Target, result: QueryResult, tr: TimeRange, name: str
) -> tuple[list[Item], list[str]]:
    window = _window(result.query)
    by = target.by()
    drawn = {_key(s.labels, by): _points(s) for s in result.series}
    times = sorted({t for s in result.series for t, _ in s.points})
    if result.series:
        step = min((b - a for a, b in zip(times, times[1:]) if b > a), default=0.0)
    else:
        step = 0.0
    # the points Grafana asks for: the series' own times, or (nothing drawn) the history's steps
    first, last = tr.from_ms / 1000, min(tr.to_ms / 1000, ev.t.live_from)
    if result.kind == "instant":
        grid = [t for t in times if t <= last + 1e-6]
    elif step:
        grid = [t for t in _grid(times, step, first) if t < last]
    else:
        grid = [first + i * ev.t.step for i in range(int((last - first) // ev.t.step))]
    checked: dict[tuple[tuple[str, str], ...], list[int]] = {}
    problems: list[str] = []
    for at in grid:
        want = _target_bounds(ev, target, at, window)
        for g in set(want) | set(drawn):
            bound = want.get(g, NOTHING)
            s = drawn.get(g)
            got = s.get(round(at, 3)) if s is not None else None
            tally = checked.setdefault(g, [0, 0])
            tally[1] += 1
            where = f"{name}{_group(g)} at {_label(at)}"
            if got is None:
                if bound.presence == "yes":
                    problems.append(f"{where}: no point, the history has {_fmt(bound.low)}..{_fmt(bound.high)}")
                else:
                    tally[0] += 1
                continue
            if bound.presence == "no":
                problems.append(
                    f"{where}: panel {_fmt(got)}, the history has no sample there (a gap must show as a gap)"
                )
                continue
            slack = REL * max(abs(bound.low), abs(bound.high)) + ABS
            if bound.low - slack <= got <= bound.high + slack:
                tally[0] += 1
            else:
                problems.append(f"{where}: panel {_fmt(got)}, the history {_fmt(bound.low)}..{_fmt(bound.high)}")
    items = [
        Item(
            f"{name}{_group(g)}: points within the history's bounds",
            float(ok),
            float(total),
            float(total),
            float(total),
        )
        for g, (ok, total) in sorted(checked.items())
    ]
    return items, problems


def _grid(times: Sequence[float], step: float, first: float) -> list[float]:
    start = math.ceil((first - 1e-6) / step) * step
    end = times[-1] if times else start
    count = int(round((end - start) / step)) + 1
    return [round(start + i * step, 3) for i in range(max(0, count))]


def _points(s: Series) -> dict[float, float]:
    """The finite points of a series by time (ms precision)."""
    return {round(t, 3): v for t, v in s.points if v is not None and math.isfinite(v)}


def _group(g: tuple[tuple[str, str], ...]) -> str:
    inner = ",".join(f"{k}={v}" for k, v in g if v)
    return "{" + inner + "}"


def history_of(expectations: Mapping[str, Any] | None) -> HistoryTruth | None:
    block = (expectations or {}).get("history")
    if not isinstance(block, Mapping):
        return None
    from bo1dash.scenario.history import History

    return _truth(History.from_json(block))


@cache
def _truth(history: History) -> HistoryTruth:
    return HistoryTruth(history)


def check_range(uid: str, title: str, results: Sequence[QueryResult], tr: TimeRange, truth: HistoryTruth) -> Outcome:
    """Every point of the panel before the live part against the history's bounds (see the module docstring)."""
    whole = WHOLE_RANGE_RULES.get((uid, title))
    targets = RANGE_RULES.get((uid, title))
    if whole is not None:
        overall = whole(Inputs({}, tr, tuple(results)))
        if targets is None or not isinstance(overall, Many):
            return overall
        points = check_range_points(targets, results, tr, truth)
        if not isinstance(points, Many):
            return overall
        return Many(overall.items + points.items, f"{overall.why}; {points.why}", overall.problems + points.problems)
    if targets is None:
        return NoTruth("no whole-range rule in verify/truth_range.py for this panel")
    return check_range_points(targets, results, tr, truth)


def check_range_points(
    targets: Sequence[Target], results: Sequence[QueryResult], tr: TimeRange, truth: HistoryTruth
) -> Outcome:
    if len(results) != len(targets):
        return NoTruth(f"the rule knows {len(targets)} targets, the panel ran {len(results)}")
    if tr.from_ms / 1000 < truth.start:
        return NoTruth("the range starts before the history")
    ev = Evaluator(truth)
    items: list[Item] = []
    problems: list[str] = []
    for index, (target, result) in enumerate(zip(targets, results)):
        name = chr(ord("A") + index)
        i, p = _check_target(ev, target, result, tr, name)
        items += i
        problems += p
    shown = tuple(problems[:SHOWN]) + ((f"... {len(problems) - SHOWN} more",) if len(problems) > SHOWN else ())
    why = (
        f"every point before the live part within the history's bounds (rate: [I/w, I/d] per series; gauges exact; "
        f"no point where no sample is); events in range: {_events_in(truth, tr)}"
    )
    return Many(tuple(items), why, shown)
