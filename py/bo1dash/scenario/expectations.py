"""The expectations file: scenario window, facts with timestamps, and summaries (see EXPECTATIONS.md)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client.parser import text_string_to_metric_families

from bo1dash.scenario.config import ScenarioConfig
from bo1dash.scenario.truth import (
    CostFact,
    cost_summary,
    iso,
    last_24h,
    month_to_date,
    session_summary,
    sessions_per_hour,
)
from bo1dash.workload.settings import SLOW_ENDPOINT_SECONDS

if TYPE_CHECKING:
    from bo1dash.scenario.backfill import SessionFact
    from bo1dash.scenario.client import RecordingClient
    from bo1dash.scenario.run import LiveRun
    from bo1dash.scenario.streams import StreamHolder

FORMAT_VERSION = 1
STREAM_HANDLER = "/api/v1/sessions/{session_id}/stream"
SLOW_HANDLER = "/api/v1/costs/summary"
# the workload's default: the slow handler sleeps uniformly in this range (server side) before answering
SLOW_SECONDS = SLOW_ENDPOINT_SECONDS

# The columns of each ledger fact in the expectations (`cost.facts`), in order.
FACT_COLUMNS = (
    "created_at",
    "user_id",
    "session_id",
    "provider",
    "model_name",
    "total_cost",
    "input_tokens",
    "output_tokens",
    "source",
)


@dataclass
class Expectations:
    """The truth, plus the SSE streams the scenario still holds open (close() or `with` ends them)."""

    data: dict[str, Any]
    holder: StreamHolder | None = None

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.data, indent=2, sort_keys=True) + "\n")
        tmp.replace(path)

    def close(self) -> None:
        if self.holder is not None:
            self.holder.close()
            self.holder = None

    def __enter__(self) -> Expectations:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _samples(metrics_text: str, name: str) -> list[tuple[dict[str, str], float]]:
    found: list[tuple[dict[str, str], float]] = []
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == name:
                found.append((dict(sample.labels), sample.value))
    return found


def _sum_by(metrics_text: str, name: str, label: str) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for labels, value in _samples(metrics_text, name):
        out[labels[label]] += value
    return dict(sorted(out.items()))


def llm_truth(metrics_text: str) -> dict[str, Any]:
    """Live LLM figures as the workload counted them (its /metrics at the end of the run)."""
    calls: dict[str, float] = defaultdict(float)
    for labels, value in _samples(metrics_text, "bo1_llm_requests_total"):
        calls[f"{labels['provider']}/{labels['model']}/{labels['status']}"] += value
    return {
        "broker_calls_by_provider_model_status": dict(sorted(calls.items())),
        "tracked_calls_by_provider": _sum_by(metrics_text, "bo1_llm_request_duration_seconds_count", "provider"),
        "tokens_by_type": _sum_by(metrics_text, "llm_tokens_total", "token_type"),
        "cost_usd_by_provider": _sum_by(metrics_text, "llm_cost_dollars_total", "provider"),
        "cost_cents_by_provider": _sum_by(metrics_text, "bo1_llm_cost_cents_total", "provider"),
        "graph_nodes_by_status": _sum_by(metrics_text, "bo1_graph_node_total", "status"),
        "circuit_breaker_state": {
            f"{lb['provider']}/{lb['state']}": v for lb, v in _samples(metrics_text, "circuit_breaker_state")
        },
        "sessions_total_by_status": _sum_by(metrics_text, "bo1_sessions_total", "status"),
        "graph_nodes_by_node_status": _by_two(metrics_text, "bo1_graph_node_total", "node_name", "status"),
        "graph_node_duration_buckets": _by_two(
            metrics_text, "bo1_graph_node_duration_seconds_bucket", "node_name", "le"
        ),
    }


def _by_two(metrics_text: str, name: str, outer: str, inner: str) -> dict[str, dict[str, float]]:
    """{outer label value: {inner label value: summed value}} of one metric's samples."""
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for labels, value in _samples(metrics_text, name):
        out[labels[outer]][labels[inner]] += value
    return {k: dict(sorted(v.items())) for k, v in sorted(out.items())}


def http_counts(counts: dict[tuple[str, str, str], int]) -> dict[str, Any]:
    """`requests` and `status_class_totals` of (handler, method, status class) counts."""
    totals: dict[str, int] = defaultdict(int)
    for (_handler, _method, status), n in counts.items():
        totals[status] += n
    return {
        "requests": [{"handler": h, "method": m, "status": s, "count": n} for (h, m, s), n in sorted(counts.items())],
        "status_class_totals": dict(sorted(totals.items())),
    }


def http_truth(recorder: RecordingClient, open_streams: int) -> dict[str, Any]:
    counted = http_counts(recorder.counts)
    per_handler: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (handler, _method, status), n in recorder.counts.items():
        per_handler[handler]["all"] += n
        if status == "5xx":
            per_handler[handler]["5xx"] += n
    ratios = {h: c["5xx"] / c["all"] for h, c in sorted(per_handler.items()) if h != STREAM_HANDLER and c["all"]}
    non_stream_all = sum(c["all"] for h, c in per_handler.items() if h != STREAM_HANDLER)
    non_stream_5xx = sum(c["5xx"] for h, c in per_handler.items() if h != STREAM_HANDLER)
    return {
        **counted,
        "error_ratio_5xx_by_handler": ratios,
        "error_ratio_5xx_overall_non_stream": non_stream_5xx / non_stream_all if non_stream_all else None,
        "slow_handler": SLOW_HANDLER,
        "slow_handler_seconds": list(SLOW_SECONDS),
        "stream_handler": STREAM_HANDLER,
        "open_sse_streams_at_end": open_streams,
        "untemplated_requests_not_in_metrics": recorder.untemplated,
        "excluded_handler_requests_not_in_metrics": recorder.excluded,
        "error_requests": [
            {"at": iso(at), "handler": h, "method": m, "status": st} for at, h, m, st in recorder.errors
        ],
    }


def _session_refs(run: LiveRun, phase: str, ids: list[str] | None = None) -> list[dict[str, Any]]:
    picked = [s for s in run.sessions if s.phase == phase and (ids is None or s.session_id in ids)]
    return [
        {"id": s.session_id, "final": s.final, **({"fail_node": s.sim["fail_node"]} if s.final == "failed" else {})}
        for s in picked
    ]


def phases(run: LiveRun, config: ScenarioConfig) -> dict[str, Any]:
    """`warmup` (what every series held when the main traffic began) and `main` (its waves)."""
    if run.warmup_end is None or run.main_start is None:
        return {}
    warmup = {
        "start": iso(run.start),
        "end": iso(run.warmup_end),
        "quiet_seconds": config.warmup_seconds,
        "sessions": _session_refs(run, "warmup"),
        "coverage_sessions": run.coverage_sessions,
        "uncovered_token_label_sets": run.uncovered,
        "http": http_counts(run.warmup_counts),
        "llm": llm_truth(run.warmup_metrics_text),
    }
    waves = [
        {
            "index": w["index"],
            "start": iso(w["start"]),
            "end": iso(w["end"]),
            "sessions": _session_refs(run, "main", w["sessions"]),
        }
        for w in run.waves
    ]
    return {
        "warmup": warmup,
        "main": {
            "start": iso(run.main_start),
            "end": iso(run.end or run.main_start),
            "wave_interval_s": config.wave_interval_s,
            "waves": waves,
        },
    }


def _session_facts(sessions: list[SessionFact]) -> list[dict[str, Any]]:
    return [
        {
            "id": s.id,
            "user_id": s.user_id,
            "status": s.status,
            "created_at": iso(s.created_at),
            "updated_at": iso(s.updated_at),
            "round_number": s.round_number,
            "source": s.source,
        }
        for s in sorted(sessions, key=lambda s: (s.created_at, s.id))
    ]


def build_expectations(
    *,
    seed: int,
    config: ScenarioConfig,
    history_start: datetime,
    run: LiveRun,
    recorder: RecordingClient,
    sessions: list[SessionFact],
    costs: list[CostFact],
    emails: dict[str, str],
    metrics_text: str,
    open_streams: int,
    wall_seconds: float,
    holder: StreamHolder,
) -> Expectations:
    end = run.end or run.start
    day_ago = last_24h(end)
    data: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "seed": seed,
        "wall_seconds": round(wall_seconds, 1),
        "window": {
            "history_start": iso(history_start),
            "live_start": iso(run.start),
            "end": iso(end),
            "last_24h_start": iso(day_ago),
            **({"warmup_end": iso(run.warmup_end)} if run.warmup_end else {}),
            **({"main_start": iso(run.main_start)} if run.main_start else {}),
        },
        "http": http_truth(recorder, open_streams),
        "sessions": {
            "running_now": sum(1 for s in sessions if s.status == "running"),
            "by_status_all": _count(sessions),
            "last_24h": session_summary(sessions, day_ago, end),
            "all_history": session_summary(sessions, history_start, end),
            "live": session_summary([s for s in sessions if s.source == "live"], run.start, end),
            "per_hour_last_24h": sessions_per_hour(sessions, day_ago, end),
            "facts": _session_facts(sessions),
        },
        "cost": {
            "currency": "USD",
            "all_history": cost_summary(costs, emails, history_start, end),
            "last_24h": cost_summary(costs, emails, day_ago, end),
            "live": cost_summary([c for c in costs if c.source == "live"], emails, run.start, end),
            "month_to_date": month_to_date(costs, end),
            "users": dict(sorted(emails.items())),
            "fact_columns": list(FACT_COLUMNS),
            "facts": [c.as_row() for c in sorted(costs, key=lambda c: (c.created_at, c.provider))],
        },
        "llm": llm_truth(metrics_text),
        **phases(run, config),
    }
    return Expectations(data=data, holder=holder)


def _count(sessions: list[SessionFact]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for s in sessions:
        out[s.status] += 1
    return dict(sorted(out.items()))
