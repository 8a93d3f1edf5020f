"""PromQL rules against the metric catalog: each broken once and kept once."""

from __future__ import annotations

from lintcases import rules, run, valid_dashboard, with_expr

from bo1dash.catalog import load_catalog


def test_parse_error(env):
    found = run(env, with_expr('sum(rate(http_requests_total{job=~"$job"}[$__rate_interval])'))
    assert [f.ref_id for f in found if f.rule == "promql/parse"] == ["A"]


def test_unknown_metric_label_and_value(env):
    found = run(env, with_expr("sum(rate(http_requests_in_progress_total[$__rate_interval]))"))
    assert "promql/unknown-metric" in rules(found)
    found = run(env, with_expr('sum(rate(bo1_llm_cost_cents_total{user_id="u1"}[$__rate_interval]))'))
    assert "promql/unknown-label" in rules(found)
    found = run(env, with_expr('sum(rate(http_requests_total{status="500"}[$__rate_interval]))'))
    assert any(f.rule == "promql/unknown-label-value" and "'500'" in f.message for f in found)
    found = run(env, with_expr('sum(rate(http_requests_total{status=~"5.."}[$__rate_interval]))'))
    assert "promql/unknown-label-value" not in rules(found)


def test_never_emitted_family_and_value(env):
    found = run(env, with_expr("max(bo1_active_sessions)"))
    assert "promql/never-emitted" in rules(found)
    found = run(env, with_expr('sum(rate(bo1_sessions_total{status="completed"}[$__rate_interval]))'))
    assert any(f.rule == "promql/never-emitted" and "completed" in f.message for f in found)
    found = run(env, with_expr('sum(rate(bo1_sessions_total{status=~"created|terminated"}[$__rate_interval]))'))
    assert found == []


def test_counter_without_rate(env):
    found = run(env, with_expr('sum(http_requests_total{job=~"$job"})'))
    assert "promql/counter-without-rate" in rules(found)
    found = run(env, with_expr('sum(http_request_duration_seconds_count{job=~"$job"})'))
    assert "promql/counter-without-rate" in rules(found)
    found = run(env, with_expr('sum(http_requests_inprogress{job=~"$job"})'))
    assert "promql/counter-without-rate" not in rules(found)


def test_counting_series_of_a_counter_is_not_reading_it_raw(env):
    """Issue 11: count(count(node_cpu_seconds_total) by (cpu)) counts CPUs; it reads no counter value."""
    found = run(env, with_expr("count(count(node_cpu_seconds_total) by (cpu))", unit="short"))
    assert "promql/counter-without-rate" not in rules(found)
    found = run(env, with_expr("sum(node_cpu_seconds_total) by (cpu)", unit="short"))
    assert "promql/counter-without-rate" in rules(found)


def test_rate_on_gauge(env):
    found = run(env, with_expr('sum(rate(http_requests_inprogress{job=~"$job"}[$__rate_interval]))'))
    assert [(f.rule, f.severity) for f in found] == [("promql/rate-on-gauge", "warning")]
    assert run(env, with_expr('sum(deriv(http_requests_inprogress{job=~"$job"}[$__rate_interval]))')) == []


def test_histogram_quantile_keeps_le(env):
    bad = (
        "histogram_quantile(0.95, sum by (handler) (rate(http_request_duration_seconds_bucket"
        '{job=~"$job", handler!~".*/stream"}[$__rate_interval])))'
    )
    assert "promql/histogram-quantile-le" in rules(run(env, with_expr(bad)))
    good = bad.replace("by (handler)", "by (le, handler)")
    assert "promql/histogram-quantile-le" not in rules(run(env, with_expr(good)))


def test_range_window_and_retention(env):
    found = run(env, with_expr("sum(rate(http_requests_total[30s]))"))
    assert any(f.rule == "promql/range-window" and f.severity == "error" for f in found)
    assert "promql/range-window" not in rules(run(env, with_expr("sum(rate(http_requests_total[1m]))")))
    found = run(env, with_expr("sum(rate(http_requests_total[$__interval]))"))
    assert any(f.rule == "promql/range-window" and f.severity == "warning" for f in found)
    found = run(env, with_expr("sum(rate(http_requests_total[5m] offset 20d))"), retention="15d")
    assert "promql/beyond-retention" in rules(found)
    assert "promql/beyond-retention" not in rules(
        run(env, with_expr("sum(increase(http_requests_total[30d]))"), retention="90d")
    )


def test_retention_unknown_assumes_prometheus_default_and_says_so(env):
    """Issue 11: an outside file's retention is unknown: 15d is assumed, and the message says so."""
    found = [
        f for f in run(env, with_expr("sum(increase(http_requests_total[30d]))")) if f.rule == "promql/beyond-retention"
    ]
    assert len(found) == 1 and "--retention" in found[0].message
    found = [
        f
        for f in run(env, with_expr("sum(increase(http_requests_total[30d]))"), retention="20d")
        if f.rule == "promql/beyond-retention"
    ]
    assert len(found) == 1 and "--retention" not in found[0].message
    assert "promql/beyond-retention" not in rules(run(env, with_expr("sum(increase(http_requests_total[14d]))")))


def test_masking_fallbacks(env):
    assert "promql/masking-fallback" in rules(
        run(env, with_expr('sum(rate(http_requests_total{status="5xx"}[$__rate_interval])) or vector(0)'))
    )
    assert "promql/masking-fallback" in rules(
        run(env, with_expr('sum(rate(http_requests_total{status="5xx"}[$__rate_interval])) or on() vector(0)'))
    )
    assert "promql/masking-fallback" in rules(
        run(env, with_expr('absent(up{job="bo1-api"}) * 0 + sum(up{job="bo1-api"})', unit="short"))
    )
    same = (
        'sum by (handler) (rate(http_requests_total{status="5xx"}[$__rate_interval])) '
        "or (sum by (handler) (rate(http_requests_total[$__rate_interval])) * 0)"
    )
    assert "promql/masking-fallback" not in rules(run(env, with_expr(same)))
    other = (
        'sum by (handler) (rate(http_requests_total{status="5xx"}[$__rate_interval])) '
        "or (sum by (handler) (http_requests_inprogress) * 0)"
    )
    assert "promql/masking-fallback" in rules(run(env, with_expr(other)))


def test_recording_rules_via_extra_metrics(env):
    dash = with_expr('sum(handler:http_requests:rate5m{job=~"$job"})')
    assert "promql/unknown-metric" in rules(run(env, dash))
    assert run(env, dash, extra_metrics=["handler:http_requests:rate5m"]) == []


def test_catalog_can_be_injected(env):
    catalog = load_catalog()
    assert catalog is load_catalog()  # parsed once
    assert run(env, valid_dashboard(), catalog=catalog) == []


# --- what the lint used to miss (issue 11, item 4) ---------------------------------------------------
def test_grouping_by_a_label_the_metric_does_not_have(env):
    bad = "sum by (user_id) (rate(llm_cost_dollars_total[$__rate_interval]))"
    found = [f for f in run(env, with_expr(bad, unit="currencyUSD")) if f.rule == "promql/unknown-label"]
    assert [(f.severity, "user_id" in f.message) for f in found] == [("error", True)]
    good = "sum by (model) (rate(llm_cost_dollars_total[$__rate_interval]))"
    assert run(env, with_expr(good, unit="currencyUSD")) == []
    # a label dropped by an inner aggregation is gone for the outer one
    nested = "max by (provider) (sum by (model) (rate(llm_cost_dollars_total[$__rate_interval])))"
    assert "promql/unknown-label" in rules(run(env, with_expr(nested, unit="currencyUSD")))
    # label_replace makes the label: nothing to report
    made = (
        'sum by (user_id) (label_replace(rate(llm_cost_dollars_total[$__rate_interval]), "user_id", "$1", '
        '"model", "(.*)"))'
    )
    assert run(env, with_expr(made, unit="currencyUSD")) == []
    found = run(env, with_expr("sum without (user_id) (rate(llm_cost_dollars_total[$__rate_interval]))"))
    assert [f.severity for f in found if f.rule == "promql/unknown-label"] == ["warning"]


def test_latency_quantile_over_streaming_handlers(env):
    bad = (
        "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket"
        '{job=~"$job"}[$__rate_interval])))'
    )
    found = [f for f in run(env, with_expr(bad, unit="s")) if f.rule == "promql/streaming-latency"]
    assert len(found) == 1 and "/stream" in found[0].message
    only_stream = bad.replace('{job=~"$job"}', '{job=~"$job", handler="/api/v1/sessions/{session_id}/stream"}')
    assert "promql/streaming-latency" in rules(run(env, with_expr(only_stream, unit="s")))
    excluded = bad.replace('{job=~"$job"}', '{job=~"$job", handler!~".*/stream"}')
    assert run(env, with_expr(excluded, unit="s")) == []
    one_handler = bad.replace('{job=~"$job"}', '{job=~"$job", handler="/api/v1/sessions"}')
    assert run(env, with_expr(one_handler, unit="s")) == []


def test_hard_coded_job_of_a_multi_job_service(env):
    found = run(env, with_expr('sum(rate(http_requests_total{job="bo1-api"}[$__rate_interval]))'))
    assert [f.severity for f in found if f.rule == "promql/target-job"] == ["error"]
    assert run(env, with_expr('sum(rate(http_requests_total{job=~"bo1-api|bo1-backend-.*"}[$__rate_interval]))')) == []
    # an exporter runs as one job: hard-coding it is fine
    found = run(env, with_expr('sum(rate(node_cpu_seconds_total{job="node-exporter"}[$__rate_interval]))'))
    assert "promql/target-job" not in rules(found)
