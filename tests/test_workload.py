"""The bo1 look-alike against a real Postgres and Redis: its /metrics, schema and SSE are bo1's."""

from __future__ import annotations

import httpx
import psycopg
import pytest
import redis
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

pytest.importorskip("prometheus_fastapi_instrumentator")

from servers import serve  # noqa: E402

from bo1dash.workload import Settings, apply_schema, create_app  # noqa: E402

USER = {"X-User-Id": "wl_user_1", "X-User-Email": "wl1@example.com"}
NEVER_UPDATED = ("bo1_deliberation_rounds_total", "session_events_total", "bo1_request_duration_seconds")
CONSTANT_ZERO = ("bo1_active_sessions", "bo1_sse_connections", "bo1_sse_active_connections", "active_sse_connections")


@pytest.fixture(scope="module")
def api(postgres_url: str, redis_url: str):  # noqa: F811
    apply_schema(postgres_url)
    apply_schema(postgres_url)  # idempotent
    app = create_app(Settings(postgres_url, redis_url, registry=CollectorRegistry(), time_scale=0.01))
    with serve(app) as url:
        with httpx.Client(base_url=url, headers=USER, timeout=60) as client:
            yield client


def _families(client: httpx.Client) -> dict[str, object]:
    return {f.name: f for f in text_string_to_metric_families(client.get("/metrics").text)}


def _samples(client: httpx.Client, name: str) -> list[tuple[dict[str, str], float]]:
    return [
        (dict(s.labels), s.value)
        for f in text_string_to_metric_families(client.get("/metrics").text)
        for s in f.samples
        if s.name == name
    ]


def _fallback_count(client: httpx.Client) -> float:
    return sum(v for _, v in _samples(client, "llm_provider_fallback_total"))


def _run_session(client: httpx.Client, sim: dict[str, object]) -> tuple[str, list[str]]:
    r = client.post(
        "/api/v1/sessions",
        json={"problem_statement": "Should we open an office in Lisbon?", "problem_context": {"simulation": sim}},
    )
    assert r.status_code == 201
    sid = r.json()["session_id"]
    assert client.post(f"/api/v1/sessions/{sid}/start").status_code == 202
    with client.stream("GET", f"/api/v1/sessions/{sid}/stream") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = [line.split(":", 1)[1].strip() for line in stream.iter_lines() if line.startswith("event:")]
    return sid, events


def test_http_metrics_are_bo1s(api: httpx.Client) -> None:
    sid, events = _run_session(api, {"outcome": "completed", "rounds": 2})
    assert events[0] == "session_started" and events[-1] == "complete"
    assert api.get("/api/v1/sessions/bo1_unknown").status_code == 404
    assert api.get("/api/v1/definitely/not/a/route").status_code == 404
    assert api.get("/api/health").status_code == 200
    assert (
        api.post("/api/v1/context", json={"context": {"revenue": "n/a"}}, headers={"Connection": "close"}).status_code
        == 500
    )
    families = _families(api)
    assert "http_request_duration_highr_seconds" not in families
    assert "http_requests_in_progress" not in families
    for name in (
        "http_requests",
        "http_request_duration_seconds",
        "http_request_size_bytes",
        "http_response_size_bytes",
    ):
        assert families[name].samples, name
    requests = {(s["handler"], s["method"], s["status"]) for s, _ in _samples(api, "http_requests_total")}
    assert ("/api/v1/sessions/{session_id}", "GET", "4xx") in requests
    assert ("/api/v1/sessions/{session_id}/stream", "GET", "2xx") in requests
    assert ("/api/v1/context", "POST", "5xx") in requests
    handlers = {h for h, _, _ in requests}
    assert not any("not/a/route" in h or h == "none" or "health" in h or "metrics" in h for h in handlers)
    assert {status for _, _, status in requests} <= {"2xx", "4xx", "5xx"}
    buckets = {s["le"] for s, _ in _samples(api, "http_request_duration_seconds_bucket")}
    assert buckets == {"0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "+Inf"}
    inprogress_labels = {tuple(sorted(s)) for s, _ in _samples(api, "http_requests_inprogress")}
    assert inprogress_labels == {("handler", "method")}
    assert "process_cpu_seconds" in families and "python_gc_collections" in families


def test_custom_metrics_follow_the_contract(api: httpx.Client) -> None:
    _run_session(api, {"outcome": "failed", "rounds": 3, "fail_node": "vote"})
    r = api.post("/api/v1/sessions", json={"problem_statement": "Terminate me early please"})
    sid = r.json()["session_id"]
    assert api.post(f"/api/v1/sessions/{sid}/terminate").status_code == 200
    assert {s["status"] for s, _ in _samples(api, "bo1_sessions_total")} == {"created", "terminated"}
    nodes = {(s["node_name"], s["status"]) for s, _ in _samples(api, "bo1_graph_node_total")}
    assert ("vote", "error") in nodes and ("decompose", "success") in nodes
    node_buckets = {s["le"] for s, _ in _samples(api, "bo1_graph_node_duration_seconds_bucket")}
    assert node_buckets == {"0.1", "0.5", "1.0", "2.0", "5.0", "10.0", "30.0", "60.0", "120.0", "+Inf"}
    cents_models = {s["model"] for s, _ in _samples(api, "bo1_llm_cost_cents_total")}
    assert "claude-sonnet-4-5-20250929" in cents_models
    assert {s["provider"] for s, _ in _samples(api, "bo1_llm_cost_cents_total")} <= {"anthropic", "openai"}
    dollar_models = {s["model"] for s, _ in _samples(api, "llm_cost_dollars_total")}
    assert "sonnet-4.5" in dollar_models and "claude-sonnet-4-5-20250929" not in dollar_models
    assert {s["provider"] for s, _ in _samples(api, "llm_cost_dollars_total")} >= {"anthropic", "voyage"}
    assert {s["token_type"] for s, _ in _samples(api, "llm_tokens_total")} >= {"input", "output"}
    for name in NEVER_UPDATED:
        assert not _samples(api, name) and not _samples(api, name + "_count"), name
    for name in CONSTANT_ZERO:
        assert _samples(api, name) == [({}, 0.0)], name
    assert all(v == 0 for _, v in _samples(api, "bo1_graph_execution_duration_seconds_count"))
    assert not _samples(api, "circuit_breaker_state")  # no transition yet
    assert _samples(api, "bo1_event_type_published_total")


def test_sessions_and_ledger_are_written_as_bo1_writes_them(api: httpx.Client, postgres_url: str) -> None:  # noqa: F811
    fallbacks = _fallback_count(api)
    sid, _ = _run_session(api, {"outcome": "completed", "rounds": 3})
    assert _fallback_count(api) == fallbacks, (
        "a call fell back to openai: the session cost would include spend the ledger refuses"
    )
    with psycopg.connect(postgres_url) as conn:
        status, rounds, total, completed_at, later = conn.execute(
            "SELECT status, round_number, total_cost, completed_at, updated_at > created_at FROM sessions WHERE id = %s",
            (sid,),
        ).fetchone()
        ledger = conn.execute(
            "SELECT sum(total_cost), bool_and(total_tokens = input_tokens + output_tokens) "
            "FROM api_costs WHERE session_id = %s",
            (sid,),
        ).fetchone()
        partitions = conn.execute(
            "SELECT count(*) FROM pg_inherits WHERE inhrelid::regclass::text LIKE 'api_costs_%%'"
        ).fetchone()
        rls = dict(
            conn.execute(
                "SELECT relname, relrowsecurity FROM pg_class WHERE relname IN ('sessions', 'api_costs')"
            ).fetchall()
        )
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(
                "INSERT INTO api_costs (provider, operation_type, total_cost) VALUES ('openai', 'completion', 0)"
            )
    assert (status, rounds, completed_at, later) == ("completed", 3, None, True)
    assert ledger[0] > 0 and ledger[1] is True
    assert total == ledger[0].quantize(total)  # no fallback in this session: session cost = its ledger rows
    assert partitions[0] >= 6
    assert rls == {"sessions": True, "api_costs": True}


def test_schema_has_the_contract_columns(api: httpx.Client, postgres_url: str) -> None:  # noqa: F811
    with psycopg.connect(postgres_url) as conn:
        cols = {
            (t, c): (d, g)
            for t, c, d, g in conn.execute(
                "SELECT table_name, column_name, data_type, is_generated FROM information_schema.columns "
                "WHERE table_name IN ('users', 'sessions', 'api_costs')"
            ).fetchall()
        }
        pk = conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'api_costs_pkey'"
        ).fetchone()
        partkey = conn.execute("SELECT pg_get_partkeydef('api_costs'::regclass)").fetchone()
    assert cols[("api_costs", "total_tokens")] == ("integer", "ALWAYS")
    assert cols[("api_costs", "total_cost")][0] == "numeric"
    assert cols[("sessions", "completed_at")][0] == "timestamp with time zone"
    for column in (
        "request_id",
        "created_at",
        "session_id",
        "user_id",
        "provider",
        "model_name",
        "operation_type",
        "node_name",
        "phase",
        "cache_read_tokens",
        "cache_hit",
        "metadata",
        "feature",
        "cost_category",
    ):
        assert ("api_costs", column) in cols, column
    for column in ("status", "round_number", "total_cost", "updated_at", "terminated_at", "killed_by"):
        assert ("sessions", column) in cols, column
    assert pk == ("PRIMARY KEY (id, created_at)",)
    assert partkey == ("RANGE (created_at)",)


def test_redis_keys_and_kill(api: httpx.Client, redis_url: str) -> None:  # noqa: F811
    r = api.post(
        "/api/v1/sessions",
        json={
            "problem_statement": "Hold this one for a kill",
            "problem_context": {"simulation": {"outcome": "hold", "rounds": 3}},
        },
    )
    sid = r.json()["session_id"]
    api.post(f"/api/v1/sessions/{sid}/start")
    with api.stream("GET", f"/api/v1/sessions/{sid}/stream") as stream:
        lines = stream.iter_lines()
        for line in lines:
            if line.startswith("event: round_started") and '"round": 2' in next(lines):
                break
        assert api.post(f"/api/v1/sessions/{sid}/kill").status_code == 200
        rest = [line for line in lines if line.startswith("event:")]
    assert rest[-1] == "event: session_killed"
    assert api.get(f"/api/v1/sessions/{sid}").json()["status"] == "killed"
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    assert client.llen(f"events_history:{sid}") > 5
    assert 0 < client.ttl(f"events_history:{sid}") <= 7 * 24 * 3600
    assert client.keys("llm:cache:*")
    assert client.zcard("global_ip_limit:127.0.0.1") > 0
    assert client.zcard("user_rate_limit:session_create:wl_user_1") > 0


# Last in the module on purpose: the breaker this test trips can still be open when it ends, and a
# session started within its recovery timeout falls back to openai (as bo1 does), off the ledger.
def test_breaker_state_appears_after_a_transition_and_openai_stays_out_of_the_ledger(
    api: httpx.Client,
    postgres_url: str,  # noqa: F811
) -> None:
    # 15 failed attempts exhaust the retries (3 each) of at least 3 calls whether they run one by one or
    # as parallel personas, so the breaker (threshold 3) opens however warm the LLM cache is.
    _, events = _run_session(api, {"outcome": "completed", "rounds": 2, "anthropic_outage_attempts": 15})
    assert events[-1] == "complete"
    states = {(s["provider"], s["state"]): v for s, v in _samples(api, "circuit_breaker_state")}
    assert {state for (provider, state) in states if provider == "anthropic"} == {"closed", "half_open", "open"}
    assert sum(v for (p, _), v in states.items() if p == "anthropic") == 1
    assert any(s["provider"] == "openai" for s, _ in _samples(api, "llm_cost_dollars_total"))
    with psycopg.connect(postgres_url) as conn:
        providers = {p for (p,) in conn.execute("SELECT DISTINCT provider FROM api_costs").fetchall()}
    assert "openai" not in providers and "anthropic" in providers
    assert any(s["status"] == "failure" for s, _ in _samples(api, "bo1_cost_flush_total"))
