"""The series of a bo1 production Prometheus: which label sets exist and how each one's values evolve.

Every value is a deterministic function of the minute index, so a history is reproducible from the seed
and any time window of it can be written on its own (the generator writes one TSDB block window at a time).
"""

from __future__ import annotations

import math
import random
import re
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bo1dash.bench.scale import Scale

HTTP_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LLM_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
NODE_BUCKETS = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0)

# bo1's route templates (FastAPI paths incl. router prefix) with the methods each serves; the SSE stream
# route is the mixin's `_config.streamHandler` (see `routes`).
ROUTES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("/api/v1/sessions", ("GET", "POST")),
    ("/api/v1/sessions/{session_id}", ("GET", "DELETE", "PATCH")),
    ("/api/v1/sessions/{session_id}/events", ("GET",)),
    ("/api/v1/sessions/{session_id}/start", ("POST",)),
    ("/api/v1/sessions/{session_id}/kill", ("POST",)),
    ("/api/v1/sessions/{session_id}/terminate", ("POST",)),
    ("/api/v1/sessions/{session_id}/clarify", ("POST",)),
    ("/api/v1/sessions/{session_id}/export", ("GET",)),
    ("/api/v1/sessions/{session_id}/share", ("POST", "DELETE")),
    ("/api/v1/sessions/{session_id}/costs", ("GET",)),
    ("/api/v1/sessions/{session_id}/actions", ("GET",)),
    ("/api/v1/actions", ("GET",)),
    ("/api/v1/actions/{action_id}", ("GET", "PATCH")),
    ("/api/v1/actions/{action_id}/status", ("PATCH",)),
    ("/api/v1/projects", ("GET", "POST")),
    ("/api/v1/projects/{project_id}", ("GET", "PATCH", "DELETE")),
    ("/api/v1/context", ("GET", "PUT")),
    ("/api/v1/context/competitors", ("GET", "POST")),
    ("/api/v1/datasets", ("GET", "POST")),
    ("/api/v1/datasets/{dataset_id}", ("GET", "DELETE")),
    ("/api/v1/datasets/{dataset_id}/ask", ("POST",)),
    ("/api/v1/mentor/chat", ("POST",)),
    ("/api/v1/mentor/conversations", ("GET",)),
    ("/api/v1/user/profile", ("GET", "PATCH")),
    ("/api/v1/user/preferences", ("GET", "PUT")),
    ("/api/v1/user/usage", ("GET",)),
    ("/api/v1/billing/portal", ("POST",)),
    ("/api/v1/billing/checkout", ("POST",)),
    ("/api/v1/billing/webhook", ("POST",)),
    ("/api/v1/workspaces", ("GET", "POST")),
    ("/api/v1/workspaces/{workspace_id}", ("GET", "PATCH")),
    ("/api/v1/workspaces/{workspace_id}/members", ("GET", "POST")),
    ("/api/v1/onboarding", ("GET", "POST")),
    ("/api/v1/feedback", ("POST",)),
    ("/api/v1/ratings", ("POST",)),
    ("/api/v1/templates", ("GET",)),
    ("/api/v1/templates/{template_id}", ("GET",)),
    ("/api/v1/waitlist", ("POST",)),
    ("/api/v1/promotions/redeem", ("POST",)),
    ("/api/auth/session/refresh", ("POST",)),
    ("/api/auth/signin", ("POST",)),
    ("/api/auth/signout", ("POST",)),
    ("/api/admin/users", ("GET",)),
    ("/api/admin/sessions", ("GET",)),
    ("/api/admin/costs", ("GET",)),
    ("/api/admin/alerts/webhook", ("POST",)),
    ("/api/v1/seo/articles", ("GET", "POST")),
)

# (provider, normalized model, raw model id or None, operations)
MODELS: tuple[tuple[str, str, str | None, tuple[str, ...]], ...] = (
    ("anthropic", "sonnet-4.5", "claude-sonnet-4-5-20250929", ("completion", "summarization")),
    ("anthropic", "haiku-4.5", "claude-haiku-4-5-20251001", ("completion", "summarization", "extraction")),
    ("anthropic", "opus-4", "claude-opus-4-20250514", ("completion",)),
    ("anthropic", "haiku-3.5", "claude-3-5-haiku-20241022", ("summarization", "extraction")),
    ("openai", "gpt-5.1-2025-04-14", "gpt-5.1-2025-04-14", ("completion",)),
    ("openai", "gpt-5.1-mini-2025-07", "gpt-5.1-mini-2025-07-18", ("completion", "extraction")),
    ("openai", "gpt-4o-mini", "gpt-4o-mini", ("summarization",)),
    ("voyage", "voyage-3", None, ("embedding", "embedding_batch")),
    ("voyage", "voyage-3-lite", None, ("embedding",)),
    ("voyage", "voyage-code-3", None, ("embedding_batch",)),
    ("brave", "unknown", None, ("web_search",)),
    ("tavily", "unknown", None, ("advanced_search", "web_search")),
)
TOKEN_TYPES = {
    "anthropic": ("input", "output", "cache_read", "cache_write"),
    "openai": ("input", "output"),
    "voyage": ("input",),
}

GRAPH_NODES = (
    "decompose",
    "context_collection",
    "select_personas",
    "initial_round",
    "facilitator_decide",
    "parallel_round",
    "moderator_intervene",
    "research",
    "data_analysis",
    "interjection_response",
    "check_convergence",
    "cost_guard",
    "vote",
    "synthesize",
    "next_subproblem",
    "meta_synthesis",
    "clarification",
    "identify_gaps",
    "analyze_dependencies",
    "parallel_subproblems",
)
CONTAINERS = (
    "boardofone-api-1",
    "boardofone-frontend-1",
    "boardofone-green-api-1",
    "boardofone-green-frontend-1",
    "infrastructure-postgres-1",
    "infrastructure-redis-1",
    "infrastructure-supertokens-1",
    "infrastructure-loki-1",
    "infrastructure-promtail-1",
    "infrastructure-prometheus-1",
    "infrastructure-grafana-1",
    "infrastructure-alertmanager-1",
    "infrastructure-umami-1",
    "infrastructure-ntfy-1",
    "infrastructure-clamav-1",
)
MOUNTS = (
    ("/dev/vda1", "ext4", "/"),
    ("/dev/vdb", "ext4", "/var/lib/docker"),
    ("tmpfs", "tmpfs", "/run"),
    ("overlay", "overlay", "/var/lib/docker/overlay2/x/merged"),
    ("/dev/vda15", "vfat", "/boot/efi"),
)
# The instance of each exporter's scrape job, by the `_config` field naming the job.
EXPORTER_INSTANCES = {
    "redisExporterJob": "redis-exporter:9121",
    "postgresExporterJob": "postgres-exporter:9187",
    "nodeExporterJob": "node-exporter:9100",
    "processExporterJob": "process-exporter:9256",
    "cadvisorJob": "cadvisor:8080",
    "prometheusJob": "localhost:9090",
}


# The _config keys plan() reads: job names, the SSE stream route, the process groups.
PLAN_CONFIG_KEYS = ("apiJobRegex", "streamHandler", "processGroupSelector", *EXPORTER_INSTANCES)


def routes(config: Mapping[str, Any]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """bo1's routes with the SSE stream route of `config` (`streamHandler`) third, as in bo1's router."""
    return (*ROUTES[:2], (str(config["streamHandler"]), ("GET",)), *ROUTES[2:])


def process_groups(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The process-exporter groups of `config.processGroupSelector` (`groupname=~"a|b"`), and one other."""
    match = re.fullmatch(r'\s*groupname=~"([^"]*)"\s*', str(config["processGroupSelector"]))
    if match is None:
        raise ValueError(f'_config.processGroupSelector {config["processGroupSelector"]!r}: expected groupname=~"a|b"')
    return (*match.group(1).split("|"), "other")


def api_jobs(scale: Scale, config: Mapping[str, Any]) -> tuple[str, ...]:
    """The scale's API jobs, each checked against `config.apiJobRegex` (the dashboards would not see others)."""
    for job in scale.jobs:
        if not re.fullmatch(str(config["apiJobRegex"]), job):
            raise ValueError(f"bench job {job!r} does not match _config.apiJobRegex {config['apiJobRegex']!r}")
    return scale.jobs


class Profile:
    """The shared shape of traffic: diurnal and weekly cycles with noise, and its running sum.

    Indexed by step (`step_seconds` apart: a minute for the bench, the scrape interval for the verifier)."""

    def __init__(self, minutes: int, seed: int, start_minute_of_week: int, step_seconds: int = 60) -> None:
        rng = random.Random(seed)
        self.level: list[float] = []
        total = 0.0
        self.cum: list[float] = [0.0]
        for t in range(minutes + 1441):
            m = int(start_minute_of_week + t * step_seconds / 60) % (7 * 1440)
            day, minute = divmod(m, 1440)
            diurnal = 1.0 + 0.7 * math.sin(2 * math.pi * (minute / 1440 - 0.35))
            weekly = 0.55 if day >= 5 else 1.0
            level = max(0.05, diurnal * weekly * (1 + rng.uniform(-0.25, 0.25)))
            self.level.append(level)
            total += level
            self.cum.append(total)


@dataclass(frozen=True)
class Window:
    """Minutes [start, end) during which a series is scraped; counters restart at `start` (a process start)."""

    start: int
    end: int


# A value function: (minute index, window) -> rendered value text.
ValueFn = Callable[[int, Window], str]


@dataclass
class SeriesSpec:
    name: str
    labels: tuple[tuple[str, str], ...]
    value: ValueFn
    windows: tuple[Window, ...]

    def key(self) -> str:
        inner = ",".join(f'{k}="{v}"' for k, v in self.labels)
        return f"{self.name}{{{inner}}}"


@dataclass
class Family:
    name: str
    type: str  # counter | gauge | histogram
    series: list[SeriesSpec] = field(default_factory=list)


def _counter(profile: Profile, per_minute: float, shift: int) -> ValueFn:
    cum = profile.cum

    def value(t: int, w: Window) -> str:
        return str(int(per_minute * (cum[t + shift] - cum[w.start + shift])))

    return value


def _scaled(profile: Profile, per_minute: float, shift: int, factor: float, digits: int = 3) -> ValueFn:
    cum = profile.cum
    k = per_minute * factor

    def value(t: int, w: Window) -> str:
        return f"{k * (cum[t + shift] - cum[w.start + shift]):.{digits}f}"

    return value


def _bucket(profile: Profile, per_minute: float, shift: int, share: float) -> ValueFn:
    cum = profile.cum

    def value(t: int, w: Window) -> str:
        return str(int(per_minute * (cum[t + shift] - cum[w.start + shift]) * share))

    return value


def _gauge(profile: Profile, base: float, swing: float, shift: int, digits: int = 0) -> ValueFn:
    level = profile.level

    def value(t: int, w: Window) -> str:
        v = base * (1 + swing * (level[t + shift] - 1))
        return str(int(v)) if digits == 0 else f"{v:.{digits}f}"

    return value


def _const(text: str) -> ValueFn:
    return lambda t, w: text


def _latency_cdf(rng: random.Random, buckets: tuple[float, ...], median: float) -> list[float]:
    """Log-normal-ish cumulative shares per bucket for a typical latency `median` (seconds)."""
    sigma = rng.uniform(0.6, 1.1)
    out = []
    for le in buckets:
        z = (math.log(le) - math.log(median)) / sigma
        out.append(0.5 * (1 + math.erf(z / math.sqrt(2))))
    return out


def api_windows(scale: Scale, job_index: int) -> tuple[Window, ...]:
    """Blue/green: deployment k makes colour k % 2 live for `deploy_every_hours`; the other is down."""
    period = int(scale.deploy_every_hours * 3600 / scale.step_seconds)
    out = []
    for k, start in enumerate(range(0, scale.minutes, period)):
        if k % len(scale.jobs) == job_index:
            out.append(Window(start, min(scale.minutes, start + period)))
    return tuple(out)


def _hist(
    family: Family,
    profile: Profile,
    rng: random.Random,
    labels: tuple[tuple[str, str], ...],
    per_minute: float,
    buckets: tuple[float, ...],
    median: float,
    windows: tuple[Window, ...],
) -> None:
    shift = rng.randrange(0, 1440)
    cdf = _latency_cdf(rng, buckets, median)
    for le, share in zip(buckets, cdf):
        family.series.append(
            SeriesSpec(
                f"{family.name}_bucket",
                (*labels, ("le", repr(le))),
                _bucket(profile, per_minute, shift, share),
                windows,
            )
        )
    inf = (*labels, ("le", "+Inf"))
    family.series.append(SeriesSpec(f"{family.name}_bucket", inf, _counter(profile, per_minute, shift), windows))
    family.series.append(SeriesSpec(f"{family.name}_count", labels, _counter(profile, per_minute, shift), windows))
    family.series.append(
        SeriesSpec(f"{family.name}_sum", labels, _scaled(profile, per_minute, shift, median * 1.3), windows)
    )


def api_instances(scale: Scale) -> list[tuple[str, str, tuple[Window, ...]]]:
    out = []
    for j, job in enumerate(scale.jobs):
        project = "boardofone" if j == 0 else f"boardofone-{job.rsplit('-', 1)[-1]}"
        windows = api_windows(scale, j)
        for i in range(scale.instances_per_job):
            out.append((job, f"{project}-api-{i + 1}.bo1-network:8000", windows))
    return out


def http_families(scale: Scale, profile: Profile, rng: random.Random, config: Mapping[str, Any]) -> list[Family]:
    """http_requests_total, http_request_duration_seconds, http_requests_inprogress, with bo1's sparsity:
    every route answers 2xx, about half also 4xx, a third 5xx, few 3xx."""
    stream = str(config["streamHandler"])
    table = routes(config)
    chosen = [table[i % len(table)] for i in range(scale.handlers)]
    if scale.handlers > len(table):
        chosen = [(h if i < len(table) else f"{h}/v{i // len(table)}", m) for i, (h, m) in enumerate(chosen)]
    combos: list[tuple[str, str, str, float, float]] = []  # handler, method, status, req/min, median s
    for handler, methods in chosen:
        for method in methods:
            base = rng.lognormvariate(0.5, 1.3) * (3 if method == "GET" else 1)
            median = 30.0 if handler == stream else rng.lognormvariate(math.log(0.08), 0.8)
            statuses = [("2xx", 1.0)]
            if rng.random() < 0.55:
                statuses.append(("4xx", rng.uniform(0.005, 0.08)))
            if rng.random() < 0.35 and handler != stream:
                statuses.append(("5xx", rng.uniform(0.001, 0.02)))
            if rng.random() < 0.05:
                statuses.append(("3xx", 0.01))
            for status, share in statuses:
                combos.append((handler, method, status, base * share, median))
    requests = Family("http_requests", "counter")
    duration = Family("http_request_duration_seconds", "histogram")
    inprogress = Family("http_requests_inprogress", "gauge")
    for job, instance, windows in api_instances(scale):
        for handler, method, status, per_minute, median in combos:
            labels = (
                ("handler", handler),
                ("instance", instance),
                ("job", job),
                ("method", method),
                ("status", status),
            )
            shift = rng.randrange(0, 1440)
            requests.series.append(
                SeriesSpec("http_requests_total", labels, _counter(profile, per_minute, shift), windows)
            )
            _hist(duration, profile, rng, labels, per_minute, HTTP_BUCKETS, median, windows)
        for handler, method in sorted({(c[0], c[1]) for c in combos}):  # sorted: the same rng order in any process
            live = 8.0 if handler == stream else 0.6
            gauge_labels = (("handler", handler), ("instance", instance), ("job", job), ("method", method))
            inprogress.series.append(
                SeriesSpec(
                    "http_requests_inprogress",
                    gauge_labels,
                    _gauge(profile, live, 1.0, rng.randrange(0, 1440)),
                    windows,
                )
            )
    return [requests, duration, inprogress]


def llm_families(scale: Scale, profile: Profile, rng: random.Random) -> list[Family]:
    cost = Family("llm_cost_dollars", "counter")
    tokens = Family("llm_tokens", "counter")
    duration = Family("bo1_llm_request_duration_seconds", "histogram")
    broker = Family("bo1_llm_requests", "counter")
    for job, instance, windows in api_instances(scale):
        where = (("instance", instance), ("job", job))
        for provider, model, raw, operations in MODELS[: scale.models or None]:
            calls = rng.lognormvariate(0.3, 0.9)
            shift = rng.randrange(0, 1440)
            labels = (*where, ("model", model), ("provider", provider))
            if provider not in ("brave", "tavily") or rng.random() < 1.0:
                cost.series.append(
                    SeriesSpec(
                        "llm_cost_dollars_total",
                        labels,
                        _scaled(profile, calls, shift, rng.uniform(0.0005, 0.03), 6),
                        windows,
                    )
                )
            for token_type in TOKEN_TYPES.get(provider, ()):
                tokens.series.append(
                    SeriesSpec(
                        "llm_tokens_total",
                        (*labels, ("token_type", token_type)),
                        _counter(profile, calls * rng.uniform(200, 3000), shift),
                        windows,
                    )
                )
            for operation in operations:
                _hist(
                    duration,
                    profile,
                    rng,
                    (*labels, ("operation", operation)),
                    calls / len(operations),
                    LLM_BUCKETS,
                    rng.uniform(0.3, 12.0),
                    windows,
                )
            if raw is not None and provider in ("anthropic", "openai"):
                for status, share in (("success", 1.0), ("error", 0.01)):
                    broker.series.append(
                        SeriesSpec(
                            "bo1_llm_requests_total",
                            (*where, ("model", raw), ("provider", provider), ("status", status)),
                            _counter(profile, calls * share, shift),
                            windows,
                        )
                    )
    return [cost, tokens, duration, broker]


def graph_families(scale: Scale, profile: Profile, rng: random.Random) -> list[Family]:
    duration = Family("bo1_graph_node_duration_seconds", "histogram")
    total = Family("bo1_graph_node", "counter")
    sessions = Family("bo1_sessions", "counter")
    for job, instance, windows in api_instances(scale):
        where = (("instance", instance), ("job", job))
        for node in GRAPH_NODES[: scale.nodes or None]:
            runs = rng.lognormvariate(-0.5, 0.8)
            _hist(
                duration,
                profile,
                rng,
                (*where, ("node_name", node)),
                runs,
                NODE_BUCKETS,
                rng.uniform(0.3, 40.0),
                windows,
            )
            shift = rng.randrange(0, 1440)
            for status, share in (("success", 1.0), ("error", rng.uniform(0.001, 0.03))):
                total.series.append(
                    SeriesSpec(
                        "bo1_graph_node_total",
                        (*where, ("node_name", node), ("status", status)),
                        _counter(profile, runs * share, shift),
                        windows,
                    )
                )
        for status, per_minute in (("created", 0.4), ("terminated", 0.03)):
            sessions.series.append(
                SeriesSpec(
                    "bo1_sessions_total",
                    (*where, ("status", status)),
                    _counter(profile, per_minute, rng.randrange(0, 1440)),
                    windows,
                )
            )
    return [duration, total, sessions]


def exporter_windows(scale: Scale, job: str) -> tuple[Window, ...]:
    """When an exporter answers its scrapes: always, but for its restarts (down, then counters from 0)."""
    windows, start = [], 0
    for _job, at, down in sorted((r for r in scale.exporter_restarts if r[0] == job), key=lambda r: r[1]):
        windows.append(Window(start, at))
        start = at + down
    windows.append(Window(start, scale.minutes))
    return tuple(w for w in windows if w.start < w.end)


def infrastructure_families(
    scale: Scale, profile: Profile, rng: random.Random, config: Mapping[str, Any]
) -> list[Family]:
    # job name -> instance: the scale's own exporters (the verifier's stack), else the compose stack's by _config
    instances = dict(scale.exporter_instances) or {
        str(config[key]): instance for key, instance in EXPORTER_INSTANCES.items()
    }
    groups = process_groups(config)
    whole = (Window(0, scale.minutes),)
    up = Family("up", "gauge")
    for job, instance, windows in api_instances(scale):
        live = [Window(w.start, w.end) for w in windows]
        up.series.append(SeriesSpec("up", (("instance", instance), ("job", job)), _window_flag(live), whole))
    for job, instance in instances.items():
        flag = _window_flag(list(exporter_windows(scale, job)))
        up.series.append(SeriesSpec("up", (("instance", instance), ("job", job)), flag, whole))

    def exporter(name: str, kind: str, job_key: str, rows: list[tuple[tuple[tuple[str, str], ...], ValueFn]]) -> Family:
        family = Family(name, kind)
        sample = name + ("_total" if kind == "counter" else "")
        job = str(config[job_key])
        if job not in instances:
            return family
        windows = exporter_windows(scale, job)
        for labels, fn in rows:
            family.series.append(SeriesSpec(sample, (("instance", instances[job]), ("job", job), *labels), fn, windows))
        return family

    def shift() -> int:
        return rng.randrange(0, 1440)

    cad = [
        (
            ("cpu", "total"),
            ("id", f"/docker/{zlib.crc32(c.encode()):012d}"),
            ("image", c.rsplit("-", 1)[0]),
            ("name", c),
        )
        for c in CONTAINERS
    ]
    return [
        up,
        exporter(
            "container_cpu_usage_seconds",
            "counter",
            "cadvisorJob",
            [(labels, _scaled(profile, rng.uniform(0.5, 30), shift(), 1.0)) for labels in cad],
        ),
        exporter(
            "container_memory_working_set_bytes",
            "gauge",
            "cadvisorJob",
            [(labels[1:], _gauge(profile, rng.uniform(5e7, 2e9), 0.1, shift())) for labels in cad],
        ),
        exporter("redis_memory_used_bytes", "gauge", "redisExporterJob", [((), _gauge(profile, 2.1e8, 0.2, shift()))]),
        exporter("redis_memory_max_bytes", "gauge", "redisExporterJob", [((), _const("536870912"))]),
        exporter("redis_connected_clients", "gauge", "redisExporterJob", [((), _gauge(profile, 24, 0.4, shift()))]),
        exporter("redis_blocked_clients", "gauge", "redisExporterJob", [((), _gauge(profile, 3, 1.0, shift()))]),
        exporter(
            "pg_stat_database_numbackends",
            "gauge",
            "postgresExporterJob",
            [
                ((("datid", str(16384 + i)), ("datname", d)), _gauge(profile, b, 0.5, shift()))
                for i, (d, b) in enumerate((("boardofone", 22), ("supertokens", 6), ("umami", 3), ("postgres", 1)))
            ],
        ),
        exporter("pg_settings_max_connections", "gauge", "postgresExporterJob", [((), _const("100"))]),
        exporter(
            "pg_stat_activity_max_tx_duration",
            "gauge",
            "postgresExporterJob",
            [
                ((("datname", d), ("state", s)), _gauge(profile, rng.uniform(0.01, 4), 1.0, shift(), 3))
                for d in ("boardofone", "supertokens", "umami", "postgres")
                for s in (
                    "active",
                    "idle",
                    "idle in transaction",
                    "idle in transaction (aborted)",
                    "fastpath function call",
                    "disabled",
                )
            ],
        ),
        exporter(
            "node_filesystem_avail_bytes",
            "gauge",
            "nodeExporterJob",
            [
                (
                    (("device", d), ("fstype", f), ("mountpoint", m)),
                    _gauge(profile, rng.uniform(2e10, 9e10), 0.01, shift()),
                )
                for d, f, m in MOUNTS
            ],
        ),
        exporter(
            "node_filesystem_size_bytes",
            "gauge",
            "nodeExporterJob",
            [((("device", d), ("fstype", f), ("mountpoint", m)), _const("107374182400")) for d, f, m in MOUNTS],
        ),
        exporter(
            "namedprocess_namegroup_cpu_seconds",
            "counter",
            "processExporterJob",
            [
                ((("groupname", g), ("mode", mode)), _scaled(profile, rng.uniform(0.5, 20), shift(), 1.0))
                for g in groups
                for mode in ("user", "system")
            ],
        ),
        exporter(
            "namedprocess_namegroup_memory_bytes",
            "gauge",
            "processExporterJob",
            [
                ((("groupname", g), ("memtype", t)), _gauge(profile, rng.uniform(5e7, 2e9), 0.1, shift()))
                for g in groups
                for t in ("resident", "virtual", "swapped", "proportionalResident", "proportionalSwapped")
            ],
        ),
    ]


def _window_flag(live: list[Window]) -> ValueFn:
    def value(t: int, w: Window) -> str:
        return "1" if any(x.start <= t < x.end for x in live) else "0"

    return value


def plan(scale: Scale, start_minute_of_week: int, config: Mapping[str, Any]) -> list[Family]:
    """Every family of the history, in the order they are written (families stay contiguous); job names, the
    stream route and the process groups are those of `config` (the mixin's `_config`)."""
    api_jobs(scale, config)
    profile = Profile(scale.minutes, scale.seed, start_minute_of_week, scale.step_seconds)
    rng = random.Random(scale.seed)
    families = [
        *http_families(scale, profile, rng, config),
        *llm_families(scale, profile, rng),
        *graph_families(scale, profile, rng),
        *infrastructure_families(scale, profile, rng, config),
    ]
    if scale.families:
        families = [f for f in families if f.name in scale.families and f.series]
    return families


def iter_series(families: list[Family]) -> Iterator[SeriesSpec]:
    for family in families:
        yield from family.series
