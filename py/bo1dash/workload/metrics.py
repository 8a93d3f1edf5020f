"""bo1's custom Prometheus metrics: real names, types, labels and buckets, on an injected registry.

`SPECS` is the workload's list of every custom metric bo1's API registers, with what in the
look-alike updates it (`trigger`). Metrics bo1 registers but never updates are registered here too
and never touched, so their exposition is what bo1's is (unlabelled ones export 0, labelled ones
export nothing). Triggers:

- `session`: the session flow (create, start, the graph, its events and streams) updates it;
- `request`: ordinary requests (health, errors, usage, session reads) update it;
- `background`: a periodic task of the workload (probes, workers, simulated subsystems) updates it;
- `on_demand`: a health endpoint sets it when requested; the workload's own monitor requests it;
- `startup`: set once while the app starts;
- `fault`: only when a client or the scenario asks for it: a simulated fault (`Simulation`), a bot
  filling in the honeypot, a viewer reconnecting with Last-Event-ID, a client over the global IP
  limit; the look-alike never saturates its database pool, so it sheds nothing
  (bo1_db_requests_shed_total stays 0);
- `never`: bo1 never updates it either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

COUNTER = "counter"
GAUGE = "gauge"
HISTOGRAM = "histogram"
NEVER = "never"
SESSION = "session"
REQUEST = "request"
BACKGROUND = "background"
ON_DEMAND = "on_demand"
STARTUP = "startup"
FAULT = "fault"
TRIGGERS = (NEVER, SESSION, REQUEST, BACKGROUND, ON_DEMAND, STARTUP, FAULT)


@dataclass(frozen=True)
class MetricSpec:
    """One bo1 metric: its registered name (counters without _total), type, labels, buckets and trigger."""

    name: str
    kind: str
    help: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()
    trigger: str = NEVER

    @property
    def attr(self) -> str:
        """The Bo1Metrics field holding it."""
        return self.name.removeprefix("bo1_")

    @property
    def exposed_name(self) -> str:
        """The family name in the exposition (prometheus_client drops a counter's _total suffix)."""
        return self.name.removesuffix("_total") if self.kind == COUNTER else self.name

    def create(self, registry: CollectorRegistry) -> Counter | Gauge | Histogram:
        if self.kind == COUNTER:
            return Counter(self.name, self.help, self.labels, registry=registry)
        if self.kind == GAUGE:
            return Gauge(self.name, self.help, self.labels, registry=registry)
        return Histogram(self.name, self.help, self.labels, buckets=self.buckets, registry=registry)


SPECS: tuple[MetricSpec, ...] = (
    MetricSpec("bo1_sessions_total", COUNTER, "Total sessions created", ("status",), trigger=SESSION),
    MetricSpec("bo1_active_sessions", GAUGE, "Number of currently active sessions", (), trigger=NEVER),
    MetricSpec(
        "bo1_deliberation_rounds_total", COUNTER, "Total deliberation rounds completed", ("session_id",), trigger=NEVER
    ),
    MetricSpec(
        "bo1_graph_execution_duration_seconds",
        HISTOGRAM,
        "Graph execution duration in seconds",
        (),
        buckets=(30, 60, 120, 180, 300, 600, 900, 1200),
        trigger=NEVER,
    ),
    MetricSpec(
        "bo1_graph_execution_timeout_total", COUNTER, "Total graph execution timeouts", ("session_type",), trigger=FAULT
    ),
    MetricSpec(
        "bo1_early_exit_total",
        COUNTER,
        "Total early exits triggered when convergence high and novelty low",
        ("reason",),
        trigger=SESSION,
    ),
    MetricSpec(
        "bo1_model_tier_selected_total",
        COUNTER,
        "Total model tier selections for A/B test analysis",
        ("tier", "round", "ab_group"),
        trigger=SESSION,
    ),
    MetricSpec(
        "bo1_contributions_pruned_total",
        COUNTER,
        "Contributions pruned from the deliberation context",
        ("round_number",),
        trigger=SESSION,
    ),
    MetricSpec(
        "bo1_challenge_phase_validation_total",
        COUNTER,
        "Challenge phase (round 3-4) contribution validation results",
        ("result", "round_number", "expert_type"),
        trigger=SESSION,
    ),
    MetricSpec(
        "bo1_challenge_rejection_total",
        COUNTER,
        "Challenge phase contributions rejected and queued for retry",
        ("round_number", "expert_type"),
        trigger=SESSION,
    ),
    MetricSpec(
        "bo1_challenge_retry_total",
        COUNTER,
        "Challenge phase retry outcomes",
        ("result", "round_number", "expert_type"),
        trigger=SESSION,
    ),
    MetricSpec(
        "bo1_persona_selector_model_total",
        COUNTER,
        "Persona selections by model and problem complexity",
        ("model", "complexity_bucket"),
        trigger=SESSION,
    ),
    MetricSpec(
        "bo1_graph_node_duration_seconds",
        HISTOGRAM,
        "Graph node execution duration in seconds",
        ("node_name",),
        buckets=(0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0),
        trigger=SESSION,
    ),
    MetricSpec("bo1_graph_node_total", COUNTER, "Graph node executions", ("node_name", "status"), trigger=SESSION),
    MetricSpec("bo1_graph_node_errors_total", COUNTER, "Total errors by graph node", ("node_name",), trigger=SESSION),
    MetricSpec("bo1_llm_cost_cents_total", COUNTER, "Total LLM costs in cents", ("model", "provider"), trigger=SESSION),
    MetricSpec(
        "bo1_llm_requests_total", COUNTER, "Total LLM API requests", ("model", "provider", "status"), trigger=SESSION
    ),
    MetricSpec(
        "bo1_llm_request_duration_seconds",
        HISTOGRAM,
        "LLM request duration in seconds",
        ("provider", "model", "operation"),
        buckets=(0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0),
        trigger=SESSION,
    ),
    MetricSpec("llm_tokens_total", COUNTER, "LLM tokens by type", ("provider", "model", "token_type"), trigger=SESSION),
    MetricSpec("llm_cost_dollars_total", COUNTER, "LLM cost in USD", ("provider", "model"), trigger=SESSION),
    MetricSpec("llm_cache_total", COUNTER, "LLM prompt cache hits and misses", ("result",), trigger=SESSION),
    MetricSpec(
        "bo1_prompt_type_cache_total",
        COUNTER,
        "Prompt cache hits and misses by prompt type",
        ("prompt_type", "result"),
        trigger=SESSION,
    ),
    MetricSpec(
        "session_budget_alerts_total",
        COUNTER,
        "Session cost budget alerts (warning at 80%, exceeded at 100%)",
        ("alert_type",),
        trigger=SESSION,
    ),
    MetricSpec(
        "bo1_llm_retries_total",
        COUNTER,
        "Total LLM API retry attempts",
        ("provider", "attempt", "error_type"),
        trigger=SESSION,
    ),
    MetricSpec(
        "bo1_llm_retries_exhausted_total",
        COUNTER,
        "Total LLM API calls that exhausted all retry attempts",
        ("provider", "error_type"),
        trigger=SESSION,
    ),
    MetricSpec(
        "llm_provider_fallback_total",
        COUNTER,
        "Total LLM provider fallback activations",
        ("from_provider", "to_provider", "reason"),
        trigger=SESSION,
    ),
    MetricSpec(
        "llm_model_fallback_total",
        COUNTER,
        "Total within-provider model fallback activations",
        ("provider", "from_model", "to_model"),
        trigger=FAULT,
    ),
    MetricSpec(
        "llm_truncation_events_total",
        COUNTER,
        "Total LLM responses truncated by API",
        ("model", "phase", "stop_reason"),
        trigger=SESSION,
    ),
    MetricSpec(
        "llm_output_length_warnings_total",
        COUNTER,
        "Total LLM output length warnings",
        ("type", "model"),
        trigger=SESSION,
    ),
    MetricSpec(
        "llm_rate_limit_exceeded_total",
        COUNTER,
        "Total LLM rate limit exceeded events",
        ("type", "session_id"),
        trigger=SESSION,
    ),
    MetricSpec(
        "bo1_llm_xml_validation_failures_total",
        COUNTER,
        "Total XML validation failures in LLM responses",
        ("agent_type", "tag"),
        trigger=SESSION,
    ),
    MetricSpec(
        "bo1_llm_xml_retry_success_total",
        COUNTER,
        "Total successful retries after XML validation failure",
        ("agent_type",),
        trigger=SESSION,
    ),
    MetricSpec(
        "bo1_llm_provider_healthy",
        GAUGE,
        "LLM provider health status (1=healthy, 0=unhealthy)",
        ("provider",),
        trigger=BACKGROUND,
    ),
    MetricSpec(
        "bo1_llm_probe_latency_seconds",
        HISTOGRAM,
        "LLM provider probe latency in seconds",
        ("provider",),
        buckets=(0.1, 0.25, 0.5, 1.0, 2.0, 5.0),
        trigger=BACKGROUND,
    ),
    MetricSpec(
        "bo1_llm_probe_failures_total",
        COUNTER,
        "Total LLM provider probe failures",
        ("provider", "error_type"),
        trigger=SESSION,
    ),
    MetricSpec("bo1_cost_flush_total", COUNTER, "Total cost flush operations", ("status",), trigger=SESSION),
    MetricSpec(
        "bo1_cost_flush_duration_seconds",
        HISTOGRAM,
        "Duration of cost batch flush to database in seconds",
        (),
        buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0),
        trigger=SESSION,
    ),
    MetricSpec(
        "bo1_cost_retry_queue_depth",
        GAUGE,
        "Number of cost records in the retry queue awaiting persistence",
        (),
        trigger=SESSION,
    ),
    MetricSpec("bo1_cost_anomaly_total", COUNTER, "Total cost anomalies detected", ("type",), trigger=SESSION),
    MetricSpec("aggregation_cache_hits_total", COUNTER, "Cost aggregation cache hits", (), trigger=REQUEST),
    MetricSpec("aggregation_cache_misses_total", COUNTER, "Cost aggregation cache misses", (), trigger=REQUEST),
    MetricSpec("bo1_sse_connections", GAUGE, "Number of active SSE connections", (), trigger=NEVER),
    MetricSpec(
        "bo1_sse_active_connections",
        GAUGE,
        "Number of active SSE connections (alias for sse_connections)",
        (),
        trigger=NEVER,
    ),
    MetricSpec("active_sse_connections", GAUGE, "Current number of active SSE connections", (), trigger=NEVER),
    MetricSpec("session_events_total", COUNTER, "Session events", ("event_type", "status"), trigger=NEVER),
    MetricSpec("bo1_sse_frame_count", COUNTER, "Total SSE frames sent to clients", ("session_id",), trigger=NEVER),
    MetricSpec(
        "bo1_sse_fallback_active",
        GAUGE,
        "Number of SSE connections currently using PostgreSQL fallback",
        (),
        trigger=SESSION,
    ),
    MetricSpec(
        "bo1_sse_fallback_activations_total",
        COUNTER,
        "Total SSE fallback activations when Redis PubSub unavailable",
        ("session_id", "reason"),
        trigger=SESSION,
    ),
    MetricSpec(
        "bo1_sse_polling_duration_seconds",
        HISTOGRAM,
        "Duration of PostgreSQL polling operations in seconds",
        (),
        buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
        trigger=SESSION,
    ),
    MetricSpec(
        "bo1_sse_polling_events_per_batch",
        HISTOGRAM,
        "Number of events retrieved per polling batch",
        (),
        buckets=(0, 1, 5, 10, 25, 50, 100),
        trigger=SESSION,
    ),
    MetricSpec(
        "bo1_sse_reconnect_total",
        COUNTER,
        "Total SSE reconnections detected via Last-Event-ID header",
        ("session_id",),
        trigger=FAULT,
    ),
    MetricSpec(
        "bo1_sse_reconnect_gap_seconds",
        HISTOGRAM,
        "Time between SSE disconnect and reconnect in seconds",
        (),
        buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300),
        trigger=FAULT,
    ),
    MetricSpec(
        "bo1_sse_reconnect_rejected_total", COUNTER, "SSE reconnections rejected", ("session_id",), trigger=FAULT
    ),
    MetricSpec(
        "bo1_event_type_published_total",
        COUNTER,
        "Total events published by event type",
        ("event_type",),
        trigger=SESSION,
    ),
    MetricSpec(
        "bo1_event_publish_latency_seconds",
        HISTOGRAM,
        "Event publish latency in seconds",
        (),
        buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5),
        trigger=SESSION,
    ),
    MetricSpec(
        "bo1_event_persistence_batch_size",
        HISTOGRAM,
        "Number of events in each persistence batch",
        (),
        buckets=(1, 5, 10, 25, 50, 100),
        trigger=SESSION,
    ),
    MetricSpec(
        "bo1_event_persistence_duration_seconds",
        HISTOGRAM,
        "Duration of event batch persistence to PostgreSQL in seconds",
        (),
        buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        trigger=SESSION,
    ),
    MetricSpec(
        "bo1_event_persistence_retry_queue_depth",
        GAUGE,
        "Number of events in the retry queue awaiting persistence",
        (),
        trigger=SESSION,
    ),
    MetricSpec(
        "bo1_event_persistence_retries_total",
        COUNTER,
        "Total event persistence retry attempts",
        ("outcome",),
        trigger=SESSION,
    ),
    MetricSpec("event_retry_queue_depth", GAUGE, "Events awaiting a persistence retry", (), trigger=BACKGROUND),
    MetricSpec("event_dlq_depth", GAUGE, "Events in the persistence dead letter queue", (), trigger=BACKGROUND),
    MetricSpec(
        "bo1_events_batched_total",
        COUNTER,
        "Total events processed through batcher (includes both batched and critical)",
        ("priority",),
        trigger=SESSION,
    ),
    MetricSpec(
        "bo1_event_batch_size",
        HISTOGRAM,
        "Size of event batches persisted to PostgreSQL",
        (),
        buckets=(1, 5, 10, 25, 50, 100),
        trigger=SESSION,
    ),
    MetricSpec(
        "bo1_event_batch_latency_ms",
        HISTOGRAM,
        "Latency of event batch persistence in milliseconds",
        (),
        buckets=(10, 25, 50, 100, 250, 500, 1000),
        trigger=SESSION,
    ),
    MetricSpec("bo1_pending_events", GAUGE, "Current number of events pending in batch buffer", (), trigger=SESSION),
    MetricSpec(
        "bo1_event_batch_queue_depth", GAUGE, "Current depth of the event batch priority queue", (), trigger=SESSION
    ),
    MetricSpec("bo1_event_queue_depth", GAUGE, "Current event queue depth for health monitoring", (), trigger=NEVER),
    MetricSpec(
        "bo1_event_buffer_size",
        GAUGE,
        "Number of events buffered in expert event buffer before flush",
        ("expert_id",),
        trigger=NEVER,
    ),
    MetricSpec("bo1_event_merge_ratio", GAUGE, "Ratio of merged events to total events (0.0-1.0)", (), trigger=NEVER),
    MetricSpec("bo1_redis_buffer_depth", GAUGE, "Events buffered while Redis is disconnected", (), trigger=SESSION),
    MetricSpec(
        "circuit_breaker_state",
        GAUGE,
        "Circuit breaker state per provider and state (1=active, 0=inactive)",
        ("provider", "state"),
        trigger=SESSION,
    ),
    MetricSpec(
        "bo1_circuit_breaker_trips_total",
        COUNTER,
        "Total circuit breaker trips (transitions to open state)",
        ("service",),
        trigger=SESSION,
    ),
    MetricSpec(
        "bo1_circuit_breaker_fault_total",
        COUNTER,
        "Total faults recorded by circuit breaker by type",
        ("service", "fault_type"),
        trigger=SESSION,
    ),
    MetricSpec(
        "bo1_rate_limiter_degraded",
        GAUGE,
        "Rate limiter operating in degraded mode (1=degraded, 0=healthy)",
        (),
        trigger=REQUEST,
    ),
    MetricSpec(
        "bo1_rate_limiter_redis_failures_total", COUNTER, "Total Redis failures in rate limiter", (), trigger=REQUEST
    ),
    MetricSpec(
        "bo1_global_rate_limit_hits_total",
        COUNTER,
        "Total requests checked by global IP rate limiter",
        (),
        trigger=FAULT,
    ),
    MetricSpec(
        "bo1_global_rate_limit_blocked_total",
        COUNTER,
        "Total requests blocked by global IP rate limiter",
        ("ip_hash",),
        trigger=FAULT,
    ),
    MetricSpec(
        "bo1_honeypot_triggered_total",
        COUNTER,
        "Honeypot fields filled in (bot submissions)",
        ("endpoint", "field_name"),
        trigger=FAULT,
    ),
    MetricSpec(
        "db_pool_utilization_percent", GAUGE, "Percentage of database connection pool in use", (), trigger=ON_DEMAND
    ),
    MetricSpec(
        "db_pool_used_connections", GAUGE, "Number of database connections currently in use", (), trigger=ON_DEMAND
    ),
    MetricSpec(
        "db_pool_free_connections", GAUGE, "Number of database connections available in pool", (), trigger=ON_DEMAND
    ),
    MetricSpec(
        "bo1_db_pool_degraded", GAUGE, "Database pool in degraded mode (1=degraded, 0=healthy)", (), trigger=ON_DEMAND
    ),
    MetricSpec("bo1_db_pool_queue_depth", GAUGE, "Requests waiting for a database connection", (), trigger=ON_DEMAND),
    MetricSpec("bo1_db_requests_shed_total", COUNTER, "Requests shed under database pool pressure", (), trigger=FAULT),
    MetricSpec("bo1_db_requests_queued_total", COUNTER, "Requests queued for a database connection", (), trigger=NEVER),
    MetricSpec(
        "bo1_db_statement_timeout_total",
        COUNTER,
        "Total database queries cancelled due to statement_timeout (SQLSTATE 57014)",
        (),
        trigger=BACKGROUND,
    ),
    MetricSpec(
        "bo1_redis_pool_used_connections", GAUGE, "Number of Redis connections currently in use", (), trigger=ON_DEMAND
    ),
    MetricSpec(
        "bo1_redis_pool_free_connections", GAUGE, "Number of Redis connections available in pool", (), trigger=ON_DEMAND
    ),
    MetricSpec(
        "bo1_redis_pool_utilization_percent",
        GAUGE,
        "Percentage of Redis connection pool in use (0-100)",
        (),
        trigger=ON_DEMAND,
    ),
    MetricSpec(
        "bo1_redis_connection_acquire_seconds",
        HISTOGRAM,
        "Redis connection acquisition latency in seconds",
        (),
        buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
        trigger=NEVER,
    ),
    MetricSpec("bo1_redis_reconnect_attempts_total", COUNTER, "Redis reconnection attempts", (), trigger=REQUEST),
    MetricSpec(
        "bo1_redis_metadata_fallback_total",
        COUNTER,
        "Session metadata read from Postgres after a Redis miss",
        ("result",),
        trigger=REQUEST,
    ),
    MetricSpec(
        "bo1_redis_metadata_dualwrite_total",
        COUNTER,
        "Session metadata dual writes (Redis and Postgres)",
        ("result",),
        trigger=SESSION,
    ),
    MetricSpec("bo1_user_context_cache_total", COUNTER, "User context cache lookups", ("result",), trigger=SESSION),
    MetricSpec("session_metadata_cache_hits_total", COUNTER, "Session metadata cache hits", (), trigger=REQUEST),
    MetricSpec("session_metadata_cache_misses_total", COUNTER, "Session metadata cache misses", (), trigger=REQUEST),
    MetricSpec("bo1_cache_hits_total", COUNTER, "Cache hits by cache type", ("cache_type",), trigger=REQUEST),
    MetricSpec("bo1_cache_misses_total", COUNTER, "Cache misses by cache type", ("cache_type",), trigger=REQUEST),
    MetricSpec(
        "bo1_cache_hit_rate", GAUGE, "Cache hit rate by cache type (0.0-1.0)", ("cache_type",), trigger=ON_DEMAND
    ),
    MetricSpec("bo1_health_check_total", COUNTER, "Total health checks by status", ("status",), trigger=REQUEST),
    MetricSpec(
        "bo1_health_check_latency_seconds",
        HISTOGRAM,
        "Health check latency in seconds",
        (),
        buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
        trigger=REQUEST,
    ),
    MetricSpec(
        "bo1_process_cpu_percent", GAUGE, "CPU utilization percentage for the current process", (), trigger=REQUEST
    ),
    MetricSpec(
        "bo1_process_memory_percent",
        GAUGE,
        "Memory utilization percentage for the current process",
        (),
        trigger=REQUEST,
    ),
    MetricSpec(
        "bo1_process_memory_rss_bytes",
        GAUGE,
        "Resident Set Size (RSS) memory in bytes for the current process",
        (),
        trigger=REQUEST,
    ),
    MetricSpec(
        "bo1_process_open_fds", GAUGE, "Number of open file descriptors for the current process", (), trigger=REQUEST
    ),
    MetricSpec("bo1_process_threads", GAUGE, "Number of threads in the current process", (), trigger=REQUEST),
    MetricSpec(
        "bo1_api_startup_duration_ms",
        GAUGE,
        "API startup duration by phase in milliseconds",
        ("phase",),
        trigger=STARTUP,
    ),
    MetricSpec(
        "bo1_api_endpoint_errors_total",
        COUNTER,
        "Total API endpoint errors by path and status code",
        ("endpoint", "status"),
        trigger=REQUEST,
    ),
    MetricSpec(
        "bo1_request_duration_seconds",
        HISTOGRAM,
        "Request duration in seconds",
        ("method", "path", "status"),
        buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        trigger=NEVER,
    ),
    MetricSpec(
        "bo1_citation_compliance_total",
        COUNTER,
        "Citation compliance checks for masked personas",
        ("persona_type", "compliant"),
        trigger=NEVER,
    ),
    MetricSpec(
        "bo1_citation_count",
        HISTOGRAM,
        "Number of citations per masked persona response",
        ("persona_type",),
        buckets=(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
        trigger=NEVER,
    ),
    MetricSpec("bo1_file_scan_total", COUNTER, "Total file scans performed by ClamAV", ("result",), trigger=BACKGROUND),
    MetricSpec(
        "bo1_file_pending_scan_total",
        COUNTER,
        "Files queued for deferred scan when ClamAV unavailable",
        (),
        trigger=BACKGROUND,
    ),
    MetricSpec(
        "bo1_file_scan_duration_seconds",
        HISTOGRAM,
        "Duration of file scans in seconds",
        (),
        buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
        trigger=BACKGROUND,
    ),
    MetricSpec(
        "bo1_file_quarantine_total",
        COUNTER,
        "Total files quarantined due to malware detection",
        ("threat_type",),
        trigger=BACKGROUND,
    ),
    MetricSpec(
        "contribution_summarization_duration_ms",
        HISTOGRAM,
        "Contribution summarization latency in milliseconds",
        ("persona_name", "status"),
        buckets=(100, 250, 500, 1000, 2000, 5000, 10000),
        trigger=SESSION,
    ),
    MetricSpec(
        "contribution_summarization_batch_size",
        HISTOGRAM,
        "Number of contributions in a summarization batch",
        (),
        buckets=(1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
        trigger=SESSION,
    ),
    MetricSpec(
        "contribution_summarization_batch_duration_ms",
        HISTOGRAM,
        "Total batch summarization latency in milliseconds",
        (),
        buckets=(500, 1000, 2000, 5000, 10000, 20000, 30000),
        trigger=SESSION,
    ),
)
SPEC_BY_NAME = {s.name: s for s in SPECS}
REQUEST_DURATION_BUCKETS = SPEC_BY_NAME["bo1_request_duration_seconds"].buckets


@dataclass(frozen=True)
class Bo1Metrics:
    """Handles on every bo1 metric the workload registers (one field per spec, named `MetricSpec.attr`)."""

    sessions_total: Counter
    active_sessions: Gauge
    deliberation_rounds_total: Counter
    graph_execution_duration_seconds: Histogram
    graph_execution_timeout_total: Counter
    early_exit_total: Counter
    model_tier_selected_total: Counter
    contributions_pruned_total: Counter
    challenge_phase_validation_total: Counter
    challenge_rejection_total: Counter
    challenge_retry_total: Counter
    persona_selector_model_total: Counter
    graph_node_duration_seconds: Histogram
    graph_node_total: Counter
    graph_node_errors_total: Counter
    llm_cost_cents_total: Counter
    llm_requests_total: Counter
    llm_request_duration_seconds: Histogram
    llm_tokens_total: Counter
    llm_cost_dollars_total: Counter
    llm_cache_total: Counter
    prompt_type_cache_total: Counter
    session_budget_alerts_total: Counter
    llm_retries_total: Counter
    llm_retries_exhausted_total: Counter
    llm_provider_fallback_total: Counter
    llm_model_fallback_total: Counter
    llm_truncation_events_total: Counter
    llm_output_length_warnings_total: Counter
    llm_rate_limit_exceeded_total: Counter
    llm_xml_validation_failures_total: Counter
    llm_xml_retry_success_total: Counter
    llm_provider_healthy: Gauge
    llm_probe_latency_seconds: Histogram
    llm_probe_failures_total: Counter
    cost_flush_total: Counter
    cost_flush_duration_seconds: Histogram
    cost_retry_queue_depth: Gauge
    cost_anomaly_total: Counter
    aggregation_cache_hits_total: Counter
    aggregation_cache_misses_total: Counter
    sse_connections: Gauge
    sse_active_connections: Gauge
    active_sse_connections: Gauge
    session_events_total: Counter
    sse_frame_count: Counter
    sse_fallback_active: Gauge
    sse_fallback_activations_total: Counter
    sse_polling_duration_seconds: Histogram
    sse_polling_events_per_batch: Histogram
    sse_reconnect_total: Counter
    sse_reconnect_gap_seconds: Histogram
    sse_reconnect_rejected_total: Counter
    event_type_published_total: Counter
    event_publish_latency_seconds: Histogram
    event_persistence_batch_size: Histogram
    event_persistence_duration_seconds: Histogram
    event_persistence_retry_queue_depth: Gauge
    event_persistence_retries_total: Counter
    event_retry_queue_depth: Gauge
    event_dlq_depth: Gauge
    events_batched_total: Counter
    event_batch_size: Histogram
    event_batch_latency_ms: Histogram
    pending_events: Gauge
    event_batch_queue_depth: Gauge
    event_queue_depth: Gauge
    event_buffer_size: Gauge
    event_merge_ratio: Gauge
    redis_buffer_depth: Gauge
    circuit_breaker_state: Gauge
    circuit_breaker_trips_total: Counter
    circuit_breaker_fault_total: Counter
    rate_limiter_degraded: Gauge
    rate_limiter_redis_failures_total: Counter
    global_rate_limit_hits_total: Counter
    global_rate_limit_blocked_total: Counter
    honeypot_triggered_total: Counter
    db_pool_utilization_percent: Gauge
    db_pool_used_connections: Gauge
    db_pool_free_connections: Gauge
    db_pool_degraded: Gauge
    db_pool_queue_depth: Gauge
    db_requests_shed_total: Counter
    db_requests_queued_total: Counter
    db_statement_timeout_total: Counter
    redis_pool_used_connections: Gauge
    redis_pool_free_connections: Gauge
    redis_pool_utilization_percent: Gauge
    redis_connection_acquire_seconds: Histogram
    redis_reconnect_attempts_total: Counter
    redis_metadata_fallback_total: Counter
    redis_metadata_dualwrite_total: Counter
    user_context_cache_total: Counter
    session_metadata_cache_hits_total: Counter
    session_metadata_cache_misses_total: Counter
    cache_hits_total: Counter
    cache_misses_total: Counter
    cache_hit_rate: Gauge
    health_check_total: Counter
    health_check_latency_seconds: Histogram
    process_cpu_percent: Gauge
    process_memory_percent: Gauge
    process_memory_rss_bytes: Gauge
    process_open_fds: Gauge
    process_threads: Gauge
    api_startup_duration_ms: Gauge
    api_endpoint_errors_total: Counter
    request_duration_seconds: Histogram
    citation_compliance_total: Counter
    citation_count: Histogram
    file_scan_total: Counter
    file_pending_scan_total: Counter
    file_scan_duration_seconds: Histogram
    file_quarantine_total: Counter
    contribution_summarization_duration_ms: Histogram
    contribution_summarization_batch_size: Histogram
    contribution_summarization_batch_duration_ms: Histogram


def create_metrics(registry: CollectorRegistry) -> Bo1Metrics:
    """Register bo1's custom metrics on `registry` and return the handles."""
    return Bo1Metrics(**{s.attr: s.create(registry) for s in SPECS})  # type: ignore[arg-type]


def _check_specs() -> None:
    names = [s.attr for s in SPECS]
    if sorted(names) != sorted(f.name for f in fields(Bo1Metrics)) or len(set(names)) != len(names):
        raise RuntimeError("metrics.SPECS and Bo1Metrics disagree")
    for spec in SPECS:
        if spec.trigger not in TRIGGERS or (spec.kind == HISTOGRAM) != bool(spec.buckets):
            raise RuntimeError(f"metrics.SPECS: {spec.name} has a bad trigger or buckets")


_check_specs()


# bo1's PATH_NORMALIZERS: only 36-character hex ids are replaced (its session ids, bo1_<uuid>, are not).
PATH_NORMALIZERS = tuple(
    (re.compile(rf"/{segment}/[a-f0-9-]{{36}}"), f"/{segment}/:id")
    for segment in ("sessions", "datasets", "actions", "projects", "meeting", "users")
)


def normalize_path(path: str) -> str:
    for pattern, replacement in PATH_NORMALIZERS:
        path = pattern.sub(replacement, path)
    return path


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
