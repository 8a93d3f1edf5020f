"""The verifier's backfilled history (scenario/history.py): the bench's generator at the verify scale, its special
events, and the whole-range truth (verify/truth_range.py) that fails when a query mishandles them."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from bo1dash.bench.series import iter_series, plan
from bo1dash.compile import compile_mixin
from bo1dash.scenario.history import GAP, QUIET, RESTART, History, plan_history
from bo1dash.verify.model import PanelResult, Status

REPO = Path(__file__).resolve().parents[1]
DASHBOARDS = REPO / "infra" / "grafana" / "dashboards"
PROVISIONING = REPO / "infra" / "grafana" / "provisioning" / "datasources"
RULES = REPO / "infra" / "prometheus" / "rules"
INSTANCES = {
    "redis-exporter": "127.0.0.1:9121",
    "postgres-exporter": "127.0.0.1:9187",
    "node-exporter": "127.0.0.1:9100",
    "process-exporter": "127.0.0.1:9256",
    "prometheus": "127.0.0.1:9090",
    "bo1-api": "127.0.0.1:8000",  # the live API: not part of the history
}
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
CONFIG = compile_mixin(REPO / "jsonnet" / "mixin.libsonnet", root=REPO).config


def _samples(history: History, name: str) -> dict[tuple[tuple[str, str], ...], dict[int, float]]:
    """Every sample the generator writes for `name`: labels -> step -> value (gaps left out)."""
    gap = {t for a, b in history.scale.gaps for t in range(a, b)}
    out: dict[tuple[tuple[str, str], ...], dict[int, float]] = {}
    for spec in iter_series(history.families()):
        if spec.name == name:
            out[spec.labels] = {
                t: float(spec.value(t, w)) for w in spec.windows for t in range(w.start, w.end) if t not in gap
            }
    return out


def test_history_ends_before_the_live_part_and_covers_the_api_range() -> None:
    history = plan_history(1, INSTANCES, CONFIG, NOW)
    end = datetime.fromtimestamp(history.end_epoch, UTC)
    assert NOW - end >= QUIET  # longer than the lookback: the live part holds only live data
    assert history.live_from <= NOW.timestamp()
    assert datetime.fromtimestamp(history.start_epoch, UTC) <= NOW - timedelta(hours=6, minutes=15)
    kinds = [e["kind"] for e in history.events()]
    assert kinds.count("deploy") == 2 and "exporter restart" in kinds and "scrape gap" in kinds
    range_start = (NOW - timedelta(hours=6)).timestamp()
    for event in history.events():
        assert range_start < datetime.fromisoformat(event["at"].replace("Z", "+00:00")).timestamp() < history.live_from


def test_the_history_is_the_benchs_generator_at_another_scale() -> None:
    """Same generator, same seed: the verify history's request series are the bench's for the same handlers."""
    from dataclasses import replace

    from bo1dash.bench.scale import Scale

    history = plan_history(1, INSTANCES, CONFIG, NOW)
    bench = replace(Scale(), days=1, handlers=history.scale.handlers, instances_per_job=1)
    ours = {s.labels for s in iter_series(plan(history.scale, 0, CONFIG)) if s.name == "http_requests_total"}
    theirs = {s.labels for s in iter_series(plan(bench, 0, CONFIG)) if s.name == "http_requests_total"}
    assert ours and ours == theirs


def test_deploys_reset_counters_and_leave_the_idle_colour_down() -> None:
    history = plan_history(1, INSTANCES, CONFIG, NOW)
    requests = _samples(history, "http_requests_total")
    blue = next(v for k, v in requests.items() if ("job", "bo1-backend-blue") in k and max(v.values()) > 100)
    green = next(v for k, v in requests.items() if ("job", "bo1-backend-green") in k and max(v.values()) > 100)
    steps = sorted(blue)
    back = next(b for a, b in zip(steps, steps[1:]) if b != a + 1)  # blue live again after green
    assert blue[back] == 0 and max(blue[t] for t in steps if t < back) > 100  # a counter reset in one series
    assert min(green) < back <= max(green) + 1 and not set(green) & set(blue)  # never both live
    up = _samples(history, "up")
    green_up = next(v for k, v in up.items() if ("job", "bo1-backend-green") in k)
    assert green_up[min(green) - 1] == 0 and green_up[min(green)] == 1 and green_up[back] == 0


def test_the_exporter_restart_misses_a_scrape_and_resets_counters() -> None:
    history = plan_history(1, INSTANCES, CONFIG, NOW)
    job, at, down = RESTART
    cpu = _samples(history, "namedprocess_namegroup_cpu_seconds_total")
    series = next(iter(cpu.values()))
    assert all(t not in series for t in range(at, at + down))
    assert series[at + down] == 0 < series[at - 1]
    up = next(v for k, v in _samples(history, "up").items() if ("job", job) in k)
    assert up[at] == 0 and up[at - 1] == up[at + down] == 1


def test_the_scrape_gap_has_no_sample_in_any_series() -> None:
    history = plan_history(1, INSTANCES, CONFIG, NOW)
    first, last = GAP
    assert (last - first) * history.scale.step_seconds > 300  # longer than the lookback: gauges show it too
    for name in ("http_requests_total", "redis_memory_used_bytes", "up"):
        series = list(_samples(history, name).values())
        assert not any(first <= t < last for steps in series for t in steps)
        assert any(first - 1 in steps and last in steps for steps in series)  # scraped on both sides


def test_history_round_trips_through_the_expectations() -> None:
    history = plan_history(1, INSTANCES, CONFIG, NOW)
    again = History.from_json(json.loads(json.dumps(history.to_json())))
    assert again == history


def test_junit_carries_the_judged_range() -> None:
    from bo1dash.verify.model import VerifyReport
    from bo1dash.verify.report import render_junit

    judged = PanelResult("bo1-api", "Request rate by status", "timeseries", Status.PASSED, truth="checked")
    judged.judged = (NOW - timedelta(hours=6), NOW)
    unjudged = PanelResult("bo1-api", "Text", "text", Status.SKIPPED)
    suite = ET.fromstring(render_junit(VerifyReport(panels=[judged, unjudged])).split("?>", 1)[1])
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    prop = cases["bo1-api/Request rate by status"].find("properties/property")
    assert prop is not None and prop.get("name") == "range"
    assert prop.get("value") == "2026-03-04T06:00:00Z..2026-03-04T12:00:00Z"
    assert cases["bo1-api/Text"].find("properties") is None


# --- against a real Prometheus holding the backfilled history


@dataclass
class Backfilled:
    url: str
    expectations: Path
    history: History


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backfilled]:
    if not shutil.which("promtool") or not shutil.which("prometheus"):
        pytest.skip("prometheus / promtool (Debian package prometheus) are not installed")
    from bo1dash.bench.prom import start_prometheus
    from bo1dash.scenario.history import backfill_history, records_needed

    work = tmp_path_factory.mktemp("history")
    (work / "logs").mkdir()
    history = plan_history(1, INSTANCES, CONFIG)
    rule_files = sorted(RULES.glob("*.yml"))
    dashboards = sorted(DASHBOARDS.glob("*.json"))
    info = backfill_history(
        history,
        work / "data",
        rule_files,
        records_needed(dashboards, rule_files),
        str(shutil.which("prometheus")),
        str(shutil.which("promtool")),
    )
    assert info.records and info.samples > 0
    prometheus = start_prometheus(str(shutil.which("prometheus")), work / "data", work)
    expectations = work / "expectations.json"
    expectations.write_text(json.dumps({"history": history.to_json()}))
    try:
        yield Backfilled(prometheus.url, expectations, history)
    finally:
        prometheus.stop()


def _panel(uid_file: str, title: str) -> tuple[dict[str, Any], dict[str, Any]]:
    dashboard = json.loads((DASHBOARDS / uid_file).read_text())
    panel = next(p for p in dashboard["panels"] if p.get("title") == title)
    return dashboard, panel


def _verify_one(
    tmp_path: Path, backfilled: Backfilled, uid_file: str, title: str, expr: str | None = None
) -> PanelResult:
    """The panel alone in its dashboard (same variables and time), its query replaced by `expr` if given."""
    from bo1dash.verify import Endpoints, verify_dashboards

    dashboard, panel = _panel(uid_file, title)
    panel = copy.deepcopy(panel)
    if expr is not None:
        panel["targets"][0]["expr"] = expr
    path = tmp_path / uid_file
    path.write_text(json.dumps({**dashboard, "panels": [panel]}))
    report = verify_dashboards(
        [path],
        endpoints=Endpoints(backfilled.url, None),
        provisioning_dir=PROVISIONING,
        expectations=backfilled.expectations,
    )
    (result,) = report.panels
    return result


API_SELECTOR = 'job=~"bo1-api|bo1-backend-.*"'


@pytest.mark.live
@pytest.mark.parametrize(
    ("uid_file", "title"),
    [
        ("api.json", "Request rate by status"),
        ("api.json", "Status codes"),
        ("api.json", "5xx error ratio"),
        ("api.json", "Latency p50 / p95 / p99"),
        ("api.json", "Top 10 slowest endpoints (p95)"),
        ("deliberation.json", "Graph node p95 duration"),
        ("infrastructure.json", "Process CPU"),
        ("infrastructure.json", "Redis memory"),
        ("deliberation.json", "Graph node error ratio"),
    ],
)
def test_our_panels_match_the_history_over_their_whole_range(
    tmp_path: Path, backfilled: Backfilled, uid_file: str, title: str
) -> None:
    result = _verify_one(tmp_path, backfilled, uid_file, title)
    assert result.status is Status.PASSED, result.reason
    assert result.truth == "checked" and "every point before the live part" in result.expected
    dashboard, panel = _panel(uid_file, title)
    assert result.judged is not None
    start, end = result.judged
    assert end - start >= timedelta(hours=1)  # the panel's whole default range, not the live part


def _failed_on_history(result: PanelResult) -> str:
    assert result.status is Status.FAILED, f"the broken query passed: {result.expected}"
    assert "the history" in result.reason, result.reason
    return result.reason


@pytest.mark.live
def test_a_sum_before_rate_spikes_after_the_deploy_and_fails(tmp_path: Path, backfilled: Backfilled) -> None:
    """rate() of a sum across blue/green: the old colour's counter leaves the sum 5 min after the deploy, the sum
    drops, rate() takes it for a reset and adds the new colour's whole count: a spike the history does not have."""
    broken = f"rate((sum by (status) (http_requests_total{{{API_SELECTOR}}}))[$__rate_interval:15s])"
    reason = _failed_on_history(_verify_one(tmp_path, backfilled, "api.json", "Request rate by status", broken))
    deploys = [e for e in backfilled.history.events() if e["kind"] == "deploy"]
    assert any(e["at"][11:16] in reason or _near(reason, e["at"], 600) for e in deploys), reason


@pytest.mark.live
def test_delta_across_the_exporter_restart_fails(tmp_path: Path, backfilled: Backfilled) -> None:
    """delta() (no reset handling) per second is rate() until the counter resets: there it drops below zero."""
    broken = (
        'sum by (groupname) (delta(namedprocess_namegroup_cpu_seconds_total{job="process-exporter", '
        'groupname=~"bo1-api|postgres|redis-server"}[$__rate_interval])) / 60'
    )
    reason = _failed_on_history(_verify_one(tmp_path, backfilled, "infrastructure.json", "Process CPU", broken))
    restart = next(e for e in backfilled.history.events() if e["kind"] == "exporter restart")
    assert _near(reason, restart["at"], 120), reason


@pytest.mark.live
def test_delta_instead_of_increase_across_the_colour_reset_fails(tmp_path: Path, backfilled: Backfilled) -> None:
    """Status codes over 6 h: blue's counter starts again from 0 when blue is live again; delta() subtracts."""
    broken = (
        f'sum by (status) (delta(http_requests_total{{{API_SELECTOR}, job=~"$job", handler=~"$handler"}}[$__range]))'
    )
    _failed_on_history(_verify_one(tmp_path, backfilled, "api.json", "Status codes", broken))


@pytest.mark.live
def test_a_gap_drawn_as_zero_fails(tmp_path: Path, backfilled: Backfilled) -> None:
    _, panel = _panel("api.json", "Request rate by status")
    broken = panel["targets"][0]["expr"] + " or vector(0)"
    reason = _failed_on_history(_verify_one(tmp_path, backfilled, "api.json", "Request rate by status", broken))
    assert "a gap must show as a gap" in reason


def _near(reason: str, at: str, seconds: float) -> bool:
    """Some time quoted in `reason` (HH:MM:SSZ) lies within `seconds` after the event at `at`."""
    import re

    event = datetime.fromisoformat(at.replace("Z", "+00:00"))
    for hms in re.findall(r"at (\d\d:\d\d:\d\d)Z", reason):
        quoted = event.replace(hour=int(hms[:2]), minute=int(hms[3:5]), second=int(hms[6:8]))
        if timedelta(0) <= quoted - event <= timedelta(seconds=seconds):
            return True
    return False


@pytest.mark.live
@pytest.mark.parametrize("shift", [None, "t - interval '5 hours'"])
def test_daily_spend_bars_split_at_the_utc_midnight(tmp_path: Path, postgres_url: str, shift: str | None) -> None:
    """The ledger's days: bars grouped by another day than UTC's (a local time zone) move spend across the UTC
    midnight, and the check of every bar against the ledger's UTC days fails."""
    import psycopg

    from bo1dash.scenario.backfill import plan_backfill, write_backfill
    from bo1dash.verify import Endpoints, verify_dashboards
    from bo1dash.workload.schema import apply_schema, ensure_partitions

    now = datetime(2021, 6, 10, 12, 0, tzinfo=UTC)  # a week no other test writes to
    apply_schema(postgres_url)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        ensure_partitions(conn, [(now - timedelta(days=d)).date() for d in range(9)])
        conn.execute((REPO / "infra" / "postgres" / "cost-rollup.sql").read_text())  # whole days: the rollup
    backfill = plan_backfill(4242, now, 7, 3, (4, 6))
    write_backfill(postgres_url, backfill)
    assert any(r.created_at.hour < 5 for r in backfill.records)  # spend just after a UTC midnight
    columns = ["created_at", "user_id", "session_id", "provider", "model_name", "total_cost"]
    facts = [
        [r.created_at.isoformat(), r.user_id, r.session_id, r.provider, r.model_name, str(r.total_cost)]
        for r in backfill.records
    ]
    expectations = tmp_path / "expectations.json"
    expectations.write_text(json.dumps({"cost": {"fact_columns": columns, "facts": facts}}))
    dashboard, panel = _panel("cost.json", "Daily LLM spend")
    panel = copy.deepcopy(panel)
    if shift is not None:
        panel["targets"][0]["rawSql"] = panel["targets"][0]["rawSql"].replace("(t, '1d')", f"({shift}, '1d')")
        assert shift in panel["targets"][0]["rawSql"]
    path = tmp_path / "cost.json"
    path.write_text(json.dumps({**dashboard, "panels": [panel]}))
    report = verify_dashboards(
        [path],
        endpoints=Endpoints(None, postgres_url),
        provisioning_dir=PROVISIONING,
        expectations=expectations,
        now=now,
        config=CONFIG,
    )
    (result,) = report.panels
    if shift is None:
        assert result.status is Status.PASSED and result.truth == "checked", result.reason
        assert result.judged == (now - timedelta(days=7), now)
    else:
        assert result.status is Status.FAILED and "!= truth" in result.reason, result.reason


def test_previews_break_lines_at_the_scrape_gap() -> None:
    """Grafana inserts a null where a frame skips more than its step: the preview's line breaks there too (a
    stacked area as well), and nowhere else."""
    import math

    from bo1dash.preview.fields import Field
    from bo1dash.preview.panels.timeseries import _aligned, _points

    times = (*[1000.0 + 20 * i for i in range(10)], *[1000.0 + 20 * i for i in range(40, 50)])
    line = Field("2xx", times=times, values=tuple(1.0 for _ in times))
    xs, ys = _points(line)
    assert [x for x, y in zip(xs, ys) if math.isnan(y)] == [(1180.0 + 1800.0) / 2]
    xs, rows = _aligned([line, Field("5xx", times=times[:5], values=(0.5,) * 5)])
    assert sum(math.isnan(v) for v in rows[0]) == 1 and sum(math.isnan(v) for v in rows[1]) == 1


def test_the_ledger_history_matches_the_cost_counters_day_by_day() -> None:
    """A history across a UTC midnight: the api_costs rows written from it and its `llm_cost_dollars_total`
    counters (the generator's samples, resets and the gap included) agree on every UTC day and ledger provider."""
    from collections import defaultdict
    from decimal import Decimal

    from bo1dash.scenario.history import LEDGER_PROVIDERS, ledger_history

    history = plan_history(1, INSTANCES, CONFIG, datetime(2026, 3, 4, 3, 0, tzinfo=UTC))
    events = history.events()
    assert any(e["kind"] == "UTC midnight" for e in events)
    counters: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for labels, samples in _samples(history, "llm_cost_dollars_total").items():
        provider = dict(labels)["provider"]
        steps = sorted(samples)
        for a, b in zip(steps, steps[1:]):
            before, after = Decimal(str(samples[a])), Decimal(str(samples[b]))
            if after != before and after > 0:  # a new window starts from 0: nothing counted
                day = history.at(b).strftime("%Y-%m-%d")
                counters[(day, provider)] += after - before if after >= before else after
    ledger: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for record in ledger_history(history).records:
        ledger[(record.created_at.strftime("%Y-%m-%d"), record.provider)] += record.total_cost
    expected = {k: v for k, v in counters.items() if k[1] in LEDGER_PROVIDERS}
    assert len({day for day, _ in expected}) == 2 and ledger == expected
    assert {p for _, p in counters} - set(LEDGER_PROVIDERS) == {"openai"}  # bo1 keeps openai out of its ledger


@pytest.mark.live
def test_a_quantile_over_dropped_buckets_misses_the_history(tmp_path: Path, backfilled: Backfilled) -> None:
    """p50 of a histogram missing two buckets (e.g. a relabelling that drops `le` values) interpolates over a wider
    bucket: off the history's quantile."""
    _, panel = _panel("api.json", "Latency p50 / p95 / p99")
    broken = panel["targets"][0]["expr"].replace('job=~"$job"', 'job=~"$job", le!~"0.05|0.1"')
    assert broken != panel["targets"][0]["expr"]
    _failed_on_history(_verify_one(tmp_path, backfilled, "api.json", "Latency p50 / p95 / p99", broken))


def test_the_final_settle_never_waits_for_a_wide_step() -> None:
    """A 7 d panel steps by minutes: verify waits for the last points of the short steps only (issue: a 7 d panel
    made verify wait 40 minutes for history)."""
    from bo1dash.verify.session import settled_at

    final = 1_000_007.0
    assert settled_at(final, {15.0, 20.0, 600.0}, cap=20.0) == 1_000_020.0  # the 20 s step's next multiple
    assert settled_at(final, {600.0}, cap=20.0) == final
    assert settled_at(final, set(), cap=20.0) == final


def test_the_history_is_the_same_in_every_process() -> None:
    """verify re-plans the history from the expectations file, maybe in another process than the one that wrote
    it: the generator may not depend on Python's per-process string hashing."""
    import os
    import subprocess
    import sys

    code = (
        "import hashlib, io, json, sys\n"
        "from bo1dash.bench.openmetrics import write_window\n"
        "from bo1dash.scenario.history import History\n"
        "h = History.from_json(json.loads(sys.argv[1]))\n"
        "out = io.StringIO()\n"
        "write_window(out, h.families(), 0, 40, h.start_epoch, h.scale.step_seconds)\n"
        "print(hashlib.sha256(out.getvalue().encode()).hexdigest())\n"
    )
    history = json.dumps(plan_history(1, INSTANCES, CONFIG, NOW).to_json())
    digests = {
        subprocess.run(
            [sys.executable, "-c", code, history],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(digests) == 1
