"""HTTP metrics exactly as bo1's create_instrumentator() configures prometheus-fastapi-instrumentator."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_fastapi_instrumentator import Instrumentator, metrics
from prometheus_fastapi_instrumentator.middleware import PrometheusInstrumentatorMiddleware

from bo1dash.workload.metrics import REQUEST_DURATION_BUCKETS

EXCLUDED_HANDLERS = ["/health", "/ready", "/metrics", "/api/health", "/api/ready"]


def create_instrumentator(registry: CollectorRegistry) -> Instrumentator:
    """bo1's options: grouped status, untemplated ignored, labelled in-progress gauge, explicit metrics."""
    instrumentator = Instrumentator(
        should_group_status_codes=True,
        should_ignore_untemplated=True,
        should_group_untemplated=True,
        should_respect_env_var=False,
        should_instrument_requests_inprogress=True,
        excluded_handlers=EXCLUDED_HANDLERS,
        inprogress_name="http_requests_inprogress",
        inprogress_labels=True,
        registry=registry,
    )
    instrumentator.add(
        metrics.latency(
            metric_namespace="",
            buckets=REQUEST_DURATION_BUCKETS,
            registry=registry,
        )
    )
    instrumentator.add(metrics.request_size(metric_namespace="", registry=registry))
    instrumentator.add(metrics.response_size(metric_namespace="", registry=registry))
    instrumentator.add(metrics.requests(metric_namespace="", registry=registry))
    return instrumentator


def attach_http_metrics(app: FastAPI, registry: CollectorRegistry) -> None:
    """instrument() then expose(), as bo1 does after every middleware and router.

    The library (7.1.0) registers its in-progress gauge on the default REGISTRY whatever registry
    it is given. bo1 serves the default REGISTRY, so that is right for the served app; an app built on
    an injected registry moves the gauge into it, so that registry shows what bo1's /metrics shows and
    a second app in the same process does not collide with the first.
    """
    create_instrumentator(registry).instrument(app).expose(app, include_in_schema=False)
    app.middleware_stack = app.build_middleware_stack()
    if registry is REGISTRY:
        return
    middleware = _find_instrumentator_middleware(app)
    if middleware is not None and middleware.inprogress is not None:
        REGISTRY.unregister(middleware.inprogress)
        registry.register(middleware.inprogress)


def _find_instrumentator_middleware(app: FastAPI) -> PrometheusInstrumentatorMiddleware | None:
    layer = app.middleware_stack
    while layer is not None:
        if isinstance(layer, PrometheusInstrumentatorMiddleware):
            return layer
        layer = getattr(layer, "app", None)
    return None
