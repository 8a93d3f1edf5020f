"""Every bo1 metric the look-alike updates, updated by a real run (real Postgres and Redis).

Which metrics must carry samples comes from the workload's own table (`metrics.SPECS`: name, labels,
and what updates each); the label values and ranges asserted here are bo1's, written out by hand.
A last test cross-checks the table against ../shared/bo1-contract.yaml when it is beside the repo.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import redis
import yaml
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

pytest.importorskip("prometheus_fastapi_instrumentator")

from servers import serve  # noqa: E402

from bo1dash.workload import Settings, apply_schema, create_app  # noqa: E402
from bo1dash.workload.metrics import COUNTER, HISTOGRAM, NEVER, SPECS, MetricSpec  # noqa: E402

USER = {"X-User-Id": "wlm_user_1", "X-User-Email": "wlm1@example.com"}
OTHER = {"X-User-Id": "wlm_user_2", "X-User-Email": "wlm2@example.com"}
Samples = dict[str, list[tuple[dict[str, str], float]]]


def _scrape(client: httpx.Client) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for s in family.samples:
            out.setdefault(s.name, []).append((dict(s.labels), s.value))
    return out


def _create(client: httpx.Client, sim: dict[str, Any], problem: str, headers: dict[str, str] = USER) -> str:
    r = client.post(
        "/api/v1/sessions",
        json={"problem_statement": problem, "problem_context": {"simulation": sim}},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["session_id"])


def _stream(client: httpx.Client, sid: str, headers: dict[str, str] = USER) -> list[str]:
    with client.stream("GET", f"/api/v1/sessions/{sid}/stream", headers=headers) as stream:
        assert stream.status_code == 200
        return [line.split(":", 1)[1].strip() for line in stream.iter_lines() if line.startswith("event:")]


def _run(
    client: httpx.Client, sim: dict[str, Any], problem: str, headers: dict[str, str] = USER
) -> tuple[str, list[str]]:
    sid = _create(client, sim, problem, headers)
    assert client.post(f"/api/v1/sessions/{sid}/start", headers=headers).status_code == 202
    return sid, _stream(client, sid, headers)


def _wait_for_hold(client: httpx.Client, sid: str) -> None:
    for _ in range(300):
        events = client.get(f"/api/v1/sessions/{sid}/events").json()["events"]
        if any(e["event_type"] == "round_started" and e["data"].get("round") == 2 for e in events):
            return
        time.sleep(0.05)
    raise AssertionError(f"{sid} never reached its hold point")


@pytest.fixture(scope="module")
def flow(postgres_url: str, redis_url: str):  # noqa: F811
    """One app, a short but complete flow, then its /metrics (plus the client and what the flow saw)."""
    apply_schema(postgres_url)
    settings = Settings(
        postgres_url,
        redis_url,
        registry=CollectorRegistry(),
        time_scale=0.01,
        monitor_interval_s=0.05,
        redis_fault_every=7,
        sse_pubsub_failure_every=2,
    )
    app = create_app(settings)
    seen: dict[str, Any] = {}
    with serve(app) as url, httpx.Client(base_url=url, headers=USER, timeout=60) as client:
        assert client.post("/api/v1/context", json={"context": {"industry": "saas", "revenue": 1}}).status_code == 200
        # Completed sessions of every shape the scenario runs: they go through the challenge rounds.
        for i, (rounds, personas) in enumerate(((4, 4), (3, 3), (2, 3), (4, 3))):
            sid, events = _run(
                client,
                {"outcome": "completed", "rounds": rounds, "personas": personas, "research": i == 0},
                f"Should we expand into market number {i} next year?",
            )
            assert events[0] == "session_started" and events[-1] == "complete", events
            seen.setdefault("completed", []).append((sid, events))
        _, events = _run(client, {"outcome": "failed", "fail_node": "vote"}, "Fail this one in the vote please")
        assert events[-1] == "error"
        # An overloaded Opus: bo1 falls back to the next model of the provider.
        _, events = _run(client, {"rounds": 2, "opus_outage_attempts": 3}, "Opus is overloaded for this one")
        assert events[-1] == "complete"
        # A graph that outlives bo1's execution timeout fails.
        _, events = _run(
            client, {"outcome": "hold", "graph_timeout_s": 60, "session_type": "mentor"}, "Hold me past the timeout"
        )
        assert events[-1] == "error"
        # A long anthropic outage while a session holds: the probe sees the provider down.
        sid = _create(client, {"outcome": "hold", "anthropic_outage_attempts": 500}, "Hold me during an outage")
        client.post(f"/api/v1/sessions/{sid}/start")
        _wait_for_hold(client, sid)
        time.sleep(0.5)
        assert client.post(f"/api/v1/sessions/{sid}/kill").status_code == 200
        # A viewer that comes back (Last-Event-ID), and one with an id the session never published.
        done, events = seen["completed"][0]
        with client.stream("GET", f"/api/v1/sessions/{done}/stream", headers={"Last-Event-ID": "3"}) as again:
            seen["resumed"] = [ln.split(":", 1)[1].strip() for ln in again.iter_lines() if ln.startswith("event:")]
        assert client.get(f"/api/v1/sessions/{done}/stream", headers={"Last-Event-ID": "100000"}).status_code == 400
        # A viewer that had everything already: its stream ends at once (pub/sub, then polling).
        caught_up = {"Last-Event-ID": str(len(events))}
        seen["caught_up"] = [_stream(client, done, {**USER, **caught_up}) for _ in range(2)]
        # Both transports (pub/sub, Postgres polling) replay a finished session the same way.
        seen["replays"] = [_stream(client, done), _stream(client, done)]
        # A bot filling in the honeypot field.
        bot = client.post("/api/v1/sessions", json={"problem_statement": "I am a bot, hello", "website": "x.example"})
        assert bot.status_code == 400
        # Session metadata Redis lost: read back from Postgres.
        lost = _create(client, {}, "Metadata lost in Redis")
        redis.Redis.from_url(redis_url).delete(f"metadata:{lost}")
        assert client.get(f"/api/v1/sessions/{lost}").status_code == 200
        assert client.get("/api/v1/sessions/bo1_00000000-0000-4000-8000-00000000beef").status_code == 404
        assert client.get(f"/api/v1/sessions/{done}", headers=OTHER).status_code == 404
        for _ in range(3):
            assert client.get("/api/v1/user/usage").status_code == 200
            assert client.get("/api/health").status_code == 200
        assert client.get("/api/health/db/pool").status_code == 200
        assert client.get("/api/health/redis/pool").status_code == 200
        assert client.get("/api/admin/cache-metrics").status_code == 200
        time.sleep(1.0)  # a few rounds of the monitor and the persistence worker
        seen["samples"] = _scrape(client)
        seen["postgres_url"] = postgres_url
        yield seen


def _series(samples: Samples, spec: MetricSpec) -> list[tuple[dict[str, str], float]]:
    name = spec.name
    if spec.kind == HISTOGRAM:
        return samples.get(f"{name}_count", [])
    if spec.kind == COUNTER and not name.endswith("_total"):
        name += "_total"
    return samples.get(name, [])


def _values(samples: Samples, name: str, label: str) -> set[str]:
    return {lb[label] for lb, _ in samples.get(name, [])}


# The flow stays under the global IP limit (test_global_rate_limit_blocks_over_the_limit goes over it)
# and never saturates the database pool (bo1 sheds requests only then).
NOT_IN_FLOW = ("bo1_global_rate_limit_hits_total", "bo1_global_rate_limit_blocked_total", "bo1_db_requests_shed_total")


def test_every_updated_metric_has_series_with_its_labels(flow: dict[str, Any]) -> None:
    samples = flow["samples"]
    updated = [s for s in SPECS if s.trigger != NEVER and s.name not in NOT_IN_FLOW]
    missing = [s.name for s in updated if not _series(samples, s)]
    assert not missing, f"updated metrics with no series after the flow: {missing}"
    for spec in SPECS:
        for labels, value in _series(samples, spec):
            assert sorted(labels) == sorted(spec.labels), spec.name
            assert value >= 0, spec.name
    for spec in updated:
        if spec.kind in (COUNTER, HISTOGRAM):
            assert sum(v for _, v in _series(samples, spec)) > 0, spec.name


def test_never_updated_metrics_stay_as_bo1_leaves_them(flow: dict[str, Any]) -> None:
    samples = flow["samples"]
    for spec in (s for s in SPECS if s.trigger == NEVER):
        series = _series(samples, spec)
        if spec.labels:
            assert not series, spec.name
        else:
            assert all(v == 0 for _, v in series), spec.name


def test_label_values_are_bo1s(flow: dict[str, Any]) -> None:
    s = flow["samples"]
    assert _values(s, "bo1_early_exit_total", "reason") == {"convergence_high"}
    assert _values(s, "bo1_model_tier_selected_total", "tier") == {"fast", "core"}
    assert _values(s, "bo1_model_tier_selected_total", "ab_group") <= {"test", "control", "none"}
    assert _values(s, "bo1_model_tier_selected_total", "round") == {"1", "2", "3", "4"}
    assert _values(s, "bo1_challenge_phase_validation_total", "result") == {"pass", "fail"}
    assert _values(s, "bo1_challenge_phase_validation_total", "round_number") == {"3", "4"}
    assert _values(s, "bo1_challenge_retry_total", "result") <= {"success", "failure"}
    assert _values(s, "bo1_persona_selector_model_total", "complexity_bucket") <= {"simple", "moderate", "complex"}
    assert _values(s, "bo1_prompt_type_cache_total", "result") == {"hit", "miss"}
    assert "synthesize" in _values(s, "bo1_prompt_type_cache_total", "prompt_type")
    assert _values(s, "session_budget_alerts_total", "alert_type") <= {"warning", "exceeded"}
    assert _values(s, "bo1_cost_anomaly_total", "type") <= {"negative_cost", "high_single_call", "high_session_total"}
    assert _values(s, "bo1_llm_retries_exhausted_total", "error_type") <= {"rate_limit", "overloaded", "server_error"}
    models = {(lb["from_model"], lb["to_model"]) for lb, _ in s["llm_model_fallback_total"]}
    assert models == {("claude-opus-4-1-20250805", "claude-sonnet-4-5-20250929")}
    assert _values(s, "llm_truncation_events_total", "stop_reason") == {"max_tokens"}
    assert _values(s, "llm_output_length_warnings_total", "type") <= {"verbose", "truncated"}
    assert _values(s, "llm_rate_limit_exceeded_total", "type") == {"call_rate"}
    assert all(re.fullmatch(r"bo1_[0-9a-f]{4}", v) for v in _values(s, "llm_rate_limit_exceeded_total", "session_id"))
    assert _values(s, "bo1_graph_execution_timeout_total", "session_type") == {"mentor"}
    assert _values(s, "bo1_llm_provider_healthy", "provider") == {"anthropic", "openai"}
    assert {v for _, v in s["bo1_llm_provider_healthy"]} <= {0.0, 1.0}
    assert ("anthropic", "transient") in {
        (lb["service"], lb["fault_type"]) for lb, _ in s["bo1_circuit_breaker_fault_total"]
    }
    assert _values(s, "bo1_sse_fallback_activations_total", "reason") == {"connection_error"}
    assert _values(s, "bo1_events_batched_total", "priority") == {"critical", "normal_or_low"}
    assert _values(s, "bo1_event_persistence_retries_total", "outcome") <= {"success", "failure"}
    assert _values(s, "bo1_redis_metadata_fallback_total", "result") == {"success", "failure"}
    assert _values(s, "bo1_user_context_cache_total", "result") == {"hit"}
    assert _values(s, "bo1_cache_hits_total", "cache_type") == {"session_metadata"}
    assert _values(s, "bo1_cache_hit_rate", "cache_type") == {"prompt", "research", "llm", "session_metadata"}
    assert _values(s, "bo1_file_scan_total", "result") <= {"clean", "infected", "error", "pending"}
    assert _values(s, "bo1_api_startup_duration_ms", "phase") == {"module_init", "lifespan", "total"}
    errors = {(lb["endpoint"], lb["status"]) for lb, _ in s["bo1_api_endpoint_errors_total"]}
    assert ("/api/v1/sessions/bo1_00000000-0000-4000-8000-00000000beef", "404") in errors  # not normalized
    assert ("/api/v1/sessions", "400") in errors
    assert _values(s, "bo1_honeypot_triggered_total", "field_name") == {"website"}


def _value(samples: Samples, name: str, **labels: str) -> float:
    return sum(v for lb, v in samples.get(name, []) if all(lb.get(k) == x for k, x in labels.items()))


def test_values_are_plausible(flow: dict[str, Any]) -> None:
    s = flow["samples"]
    assert 0 <= _value(s, "db_pool_utilization_percent") <= 100
    assert _value(s, "db_pool_used_connections") + _value(s, "db_pool_free_connections") >= 1
    assert _value(s, "bo1_redis_pool_used_connections") + _value(s, "bo1_redis_pool_free_connections") >= 1
    assert _value(s, "bo1_redis_pool_utilization_percent") == 0  # bo1 reads a key its manager never returns
    assert _value(s, "bo1_process_memory_rss_bytes") > 10e6
    assert _value(s, "bo1_process_threads") >= 1 and _value(s, "bo1_process_open_fds") >= 3
    assert 0 < _value(s, "bo1_process_memory_percent") < 100
    for _, rate in s["bo1_cache_hit_rate"]:
        assert 0 <= rate <= 1
    assert 0 < _value(s, "bo1_cache_hit_rate", cache_type="session_metadata") < 1
    assert _value(s, "bo1_api_startup_duration_ms", phase="total") >= _value(
        s, "bo1_api_startup_duration_ms", phase="module_init"
    )
    # Nothing left in flight once the flow is over.
    assert _value(s, "bo1_sse_fallback_active") == 0
    assert _value(s, "bo1_pending_events") == 0 and _value(s, "bo1_redis_buffer_depth") == 0
    # Early exit: every session whose rounds ended before bo1's six (the five completed, and the one
    # that failed later, in the vote).
    assert _value(s, "bo1_early_exit_total") == 6
    assert _value(s, "bo1_challenge_rejection_total") == _value(
        s, "bo1_challenge_phase_validation_total", result="fail"
    )
    assert _value(s, "bo1_challenge_retry_total") == _value(s, "bo1_challenge_rejection_total")
    # The limiter's Redis failures reconnect; so do the publisher's dropped connections.
    assert _value(s, "bo1_redis_reconnect_attempts_total") >= _value(s, "bo1_rate_limiter_redis_failures_total") > 0
    assert _value(s, "aggregation_cache_hits_total") >= 1 and _value(s, "aggregation_cache_misses_total") >= 1
    assert _value(s, "bo1_sse_reconnect_total") == 3 and _value(s, "bo1_sse_reconnect_rejected_total") == 1
    # sse_pubsub_failure_every=2: every second of the flow's 12 streams was served by polling Postgres.
    assert _value(s, "bo1_sse_fallback_activations_total") == 6


def test_streams_resume_and_fall_back_without_losing_events(flow: dict[str, Any]) -> None:
    _, events = flow["completed"][0]
    assert flow["resumed"] == events[3:]
    assert flow["caught_up"] == [[], []]
    pubsub, polled = flow["replays"]
    assert pubsub == polled == events


def test_events_are_persisted_once_each(flow: dict[str, Any]) -> None:
    sid, events = flow["completed"][0]
    with psycopg.connect(flow["postgres_url"]) as conn:
        rows = conn.execute(
            "SELECT event_type, sequence FROM session_events WHERE session_id = %s ORDER BY sequence", (sid,)
        ).fetchall()
    assert [t for t, _ in rows] == events
    assert [q for _, q in rows] == list(range(1, len(events) + 1))


def test_global_rate_limit_blocks_over_the_limit(postgres_url: str, redis_url: str) -> None:  # noqa: F811
    apply_schema(postgres_url)
    app = create_app(
        Settings(
            postgres_url, redis_url, registry=CollectorRegistry(), global_rate_limit_per_minute=1, redis_fault_every=0
        )
    )
    redis.Redis.from_url(redis_url).delete("global_ip_limit:127.0.0.1")
    with serve(app) as url, httpx.Client(base_url=url, headers=USER, timeout=30) as client:
        codes = [client.get("/api/v1/sessions").status_code for _ in range(3)]
        samples = _scrape(client)
    assert codes == [200, 429, 429]
    assert _value(samples, "bo1_global_rate_limit_hits_total") == 2
    assert len(_values(samples, "bo1_global_rate_limit_blocked_total", "ip_hash")) == 1


# --- cross-check with bo1's contract (only when ../shared is beside the repository) ---

NOT_ON_API_METRICS = re.compile(r"absent from API /metrics|'defined': 'nowhere'")


def _split_top(text: str) -> list[str]:
    """Split 'a [x, y], b (c, d) / e' at commas and slashes outside brackets."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += ch in "[(" and 1 or 0
        depth -= ch in "])" and 1 or 0
        if depth == 0 and ch in ",/":
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    return [p for p in [*parts, current.strip()] if p]


def _contract_metrics(contract: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """name -> {type, labels, buckets, updated} for every custom metric the contract lists on the API."""
    out: dict[str, dict[str, Any]] = {}
    for group, entries in contract["custom_metrics"].items():
        if group == "conventions" or not isinstance(entries, list):
            continue
        for entry in entries:
            if not isinstance(entry, dict) or NOT_ON_API_METRICS.search(str(entry)):
                continue
            for part in _split_top(str(entry["name"])):
                name = part.split()[0]
                bracket = re.search(r"\[([^\]]*)\]", part)
                labels = [x.strip() for x in bracket.group(1).split(",") if x.strip()] if bracket else None
                if labels is None and len(_split_top(str(entry["name"]))) == 1:
                    labels = entry.get("labels", [])
                out[name] = {
                    "type": entry.get("type"),
                    "labels": labels,
                    "buckets": entry.get("buckets") if "(" not in part else None,
                    "updated": entry.get("updated"),
                }
    return out


def test_registered_metrics_match_the_bo1_contract(shared_dir: Path) -> None:
    contract = yaml.safe_load((shared_dir / "bo1-contract.yaml").read_text())
    facts = _contract_metrics(contract)
    ours = {s.name: s for s in SPECS}
    assert sorted(set(facts) - set(ours)) == [], "contract metrics the workload does not register"
    assert sorted(set(ours) - set(facts)) == [], "metrics the workload registers that bo1 does not"
    for name, fact in facts.items():
        spec = ours[name]
        if fact["type"]:
            assert spec.kind == fact["type"], name
        if fact["labels"] is not None:
            assert list(spec.labels) == list(fact["labels"]), name
        if fact["buckets"]:
            assert [float(b) for b in spec.buckets] == [float(b) for b in fact["buckets"] if b != "+Inf"], name
        if fact["updated"] is False:
            assert spec.trigger == NEVER, name
        elif fact["updated"] is True or str(fact["updated"]).startswith("on demand"):
            assert spec.trigger != NEVER, name


def test_emitted_label_values_are_in_the_bo1_contract(flow: dict[str, Any], shared_dir: Path) -> None:
    """Where the contract enumerates a label's values, the flow emits only values from that list."""
    contract = yaml.safe_load((shared_dir / "bo1-contract.yaml").read_text())
    samples = flow["samples"]
    checked = 0
    for group, entries in contract["custom_metrics"].items():
        if group == "conventions" or not isinstance(entries, list):
            continue
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("label_values"), dict):
                continue
            spec = next((s for s in SPECS if s.name == entry["name"]), None)
            if spec is None:
                continue
            for label, allowed in entry["label_values"].items():
                if not isinstance(allowed, list):
                    continue
                emitted = {lb[label] for lb, _ in _series(samples, spec) if label in lb}
                assert emitted <= {str(v) for v in allowed}, (spec.name, label, emitted - set(map(str, allowed)))
                checked += 1
    assert checked >= 10
