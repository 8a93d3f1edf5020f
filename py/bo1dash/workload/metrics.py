"""bo1's custom Prometheus metrics: real names, types, labels and buckets, on an injected registry.

Metrics bo1 registers but never updates are registered here too and never touched, so their
exposition is what bo1's is (unlabelled ones export 0, labelled ones export nothing).
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

GRAPH_NODE_BUCKETS = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0)
LLM_DURATION_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
GRAPH_EXECUTION_BUCKETS = (30, 60, 120, 180, 300, 600, 900, 1200)
COST_FLUSH_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0)
EVENT_PUBLISH_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5)
REQUEST_DURATION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class Bo1Metrics:
    """Handles on every bo1 metric the workload registers."""

    sessions_total: Counter
    active_sessions: Gauge
    deliberation_rounds_total: Counter
    graph_execution_duration_seconds: Histogram
    graph_node_duration_seconds: Histogram
    graph_node_total: Counter
    graph_node_errors_total: Counter
    llm_cost_cents_total: Counter
    llm_requests_total: Counter
    llm_request_duration_seconds: Histogram
    llm_tokens_total: Counter
    llm_cost_dollars_total: Counter
    llm_cache_total: Counter
    llm_retries_total: Counter
    llm_provider_fallback_total: Counter
    circuit_breaker_state: Gauge
    circuit_breaker_trips_total: Counter
    cost_flush_total: Counter
    cost_flush_duration_seconds: Histogram
    cost_retry_queue_depth: Gauge
    event_type_published_total: Counter
    event_publish_latency_seconds: Histogram
    sse_connections: Gauge
    sse_active_connections: Gauge
    active_sse_connections: Gauge
    session_events_total: Counter
    request_duration_seconds: Histogram
    event_queue_depth: Gauge
    global_rate_limit_hits_total: Counter
    global_rate_limit_blocked_total: Counter
    health_check_total: Counter


def create_metrics(registry: CollectorRegistry) -> Bo1Metrics:
    """Register bo1's custom metrics on `registry` and return the handles."""
    r = registry
    return Bo1Metrics(
        sessions_total=Counter("bo1_sessions_total", "Total sessions by status", ["status"], registry=r),
        active_sessions=Gauge("bo1_active_sessions", "Number of active sessions", registry=r),
        deliberation_rounds_total=Counter(
            "bo1_deliberation_rounds_total", "Deliberation rounds completed", ["session_id"], registry=r
        ),
        graph_execution_duration_seconds=Histogram(
            "bo1_graph_execution_duration_seconds",
            "Graph execution duration",
            buckets=GRAPH_EXECUTION_BUCKETS,
            registry=r,
        ),
        graph_node_duration_seconds=Histogram(
            "bo1_graph_node_duration_seconds",
            "Graph node execution duration in seconds",
            ["node_name"],
            buckets=GRAPH_NODE_BUCKETS,
            registry=r,
        ),
        graph_node_total=Counter("bo1_graph_node_total", "Graph node executions", ["node_name", "status"], registry=r),
        graph_node_errors_total=Counter("bo1_graph_node_errors_total", "Graph node errors", ["node_name"], registry=r),
        llm_cost_cents_total=Counter(
            "bo1_llm_cost_cents_total", "LLM cost in cents", ["model", "provider"], registry=r
        ),
        llm_requests_total=Counter(
            "bo1_llm_requests_total", "LLM requests", ["model", "provider", "status"], registry=r
        ),
        llm_request_duration_seconds=Histogram(
            "bo1_llm_request_duration_seconds",
            "LLM request duration in seconds",
            ["provider", "model", "operation"],
            buckets=LLM_DURATION_BUCKETS,
            registry=r,
        ),
        llm_tokens_total=Counter("llm_tokens_total", "LLM tokens", ["provider", "model", "token_type"], registry=r),
        llm_cost_dollars_total=Counter("llm_cost_dollars_total", "LLM cost in USD", ["provider", "model"], registry=r),
        llm_cache_total=Counter("llm_cache_total", "Prompt cache results", ["result"], registry=r),
        llm_retries_total=Counter(
            "bo1_llm_retries_total", "LLM retries", ["provider", "attempt", "error_type"], registry=r
        ),
        llm_provider_fallback_total=Counter(
            "llm_provider_fallback_total",
            "Provider fallbacks",
            ["from_provider", "to_provider", "reason"],
            registry=r,
        ),
        circuit_breaker_state=Gauge(
            "circuit_breaker_state", "Circuit breaker state (one-hot)", ["provider", "state"], registry=r
        ),
        circuit_breaker_trips_total=Counter(
            "bo1_circuit_breaker_trips_total", "Circuit breaker trips", ["service"], registry=r
        ),
        cost_flush_total=Counter("bo1_cost_flush_total", "Cost buffer flushes", ["status"], registry=r),
        cost_flush_duration_seconds=Histogram(
            "bo1_cost_flush_duration_seconds", "Cost flush duration", buckets=COST_FLUSH_BUCKETS, registry=r
        ),
        cost_retry_queue_depth=Gauge("bo1_cost_retry_queue_depth", "Cost records awaiting retry", registry=r),
        event_type_published_total=Counter(
            "bo1_event_type_published_total", "Events published by type", ["event_type"], registry=r
        ),
        event_publish_latency_seconds=Histogram(
            "bo1_event_publish_latency_seconds",
            "Redis rpush+publish latency",
            buckets=EVENT_PUBLISH_BUCKETS,
            registry=r,
        ),
        sse_connections=Gauge("bo1_sse_connections", "Active SSE connections", registry=r),
        sse_active_connections=Gauge("bo1_sse_active_connections", "Active SSE connections", registry=r),
        active_sse_connections=Gauge("active_sse_connections", "Active SSE connections", registry=r),
        session_events_total=Counter("session_events_total", "Session events", ["event_type", "status"], registry=r),
        request_duration_seconds=Histogram(
            "bo1_request_duration_seconds",
            "Request duration",
            ["method", "path", "status"],
            buckets=REQUEST_DURATION_BUCKETS,
            registry=r,
        ),
        event_queue_depth=Gauge("bo1_event_queue_depth", "Event queue depth", registry=r),
        global_rate_limit_hits_total=Counter(
            "bo1_global_rate_limit_hits_total", "Global rate limit checks", registry=r
        ),
        global_rate_limit_blocked_total=Counter(
            "bo1_global_rate_limit_blocked_total", "Requests blocked by the global limiter", ["ip_hash"], registry=r
        ),
        health_check_total=Counter("bo1_health_check_total", "Health checks", ["status"], registry=r),
    )


def normalize_model(model: str | None) -> str:
    """bo1's PrometheusMetrics._normalize_model(): short names for known families."""
    if model is None:
        return "unknown"
    lowered = model.lower()
    families = (
        ("sonnet-4-5", "sonnet-4.5"),
        ("haiku-4-5", "haiku-4.5"),
        ("opus-4", "opus-4"),
        ("haiku-3-5", "haiku-3.5"),
    )
    for needle, short in families:
        if needle in lowered:
            return short
    if lowered.startswith("voyage"):
        return lowered
    return model[:20]
