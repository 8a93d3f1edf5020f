"""Grafana's interpolation, checked against what Grafana's docs and source state (cited per test)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from bo1dash.grafana.durations import (
    InterpolationError,
    format_interval,
    go_duration_string,
    parse_interval_ms,
    round_interval_ms,
    seconds_to_hms,
)
from bo1dash.grafana.interpolate import interpolate_promql, interpolate_sql
from bo1dash.grafana.intervals import (
    QueryContext,
    frontend_interval_ms,
    prometheus_query_window,
    prometheus_step_ms,
    rate_interval_ms,
)
from bo1dash.grafana.sql_macros import sql_macros
from bo1dash.grafana.time_range import TimeRange, parse_date_math, time_range_for
from bo1dash.grafana.variables import VariableValue, variable_values

NOW = datetime(2025, 3, 14, 15, 9, 26, tzinfo=UTC)


def _range(hours: float, end: datetime = NOW) -> TimeRange:
    return TimeRange(start=end - timedelta(hours=hours), end=end)


# ---- durations and rounding (Grafana's rangeutil.roundInterval / gtime.FormatInterval) -----------


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("15s", 15_000),
        ("1m", 60_000),
        ("1m30s", 90_000),
        ("2h", 7_200_000),
        ("1d", 86_400_000),
        (">30s", 30_000),
        ("10", 10_000),
        ("500ms", 500),
        ("1w", 604_800_000),
    ],
)
def test_parse_interval(text: str, ms: int) -> None:
    assert parse_interval_ms(text) == ms


def test_parse_interval_rejects_garbage() -> None:
    with pytest.raises(InterpolationError, match="invalid interval"):
        parse_interval_ms("5 minutes")


@pytest.mark.parametrize(
    ("raw_ms", "rounded"),
    # the bounds of Grafana's table: below 12.5s -> 10s, below 17.5s -> 15s, below 45s -> 30s, ...
    [
        (12_499, 10_000),
        (12_500, 15_000),
        (17_499, 15_000),
        (44_999, 30_000),
        (45_000, 60_000),
        (89_999, 60_000),
        (90_000, 120_000),
        (449_999, 300_000),
        (5_399_999, 3_600_000),
    ],
)
def test_round_interval(raw_ms: int, rounded: int) -> None:
    assert round_interval_ms(raw_ms) == rounded


def test_format_interval_truncates_to_largest_unit() -> None:
    assert [format_interval(ms) for ms in (90_000, 60_000, 15_000, 500, 86_400_000)] == [
        "1m",
        "1m",
        "15s",
        "500ms",
        "1d",
    ]
    assert [seconds_to_hms(s) for s in (90, 60, 15, 0.5, 7200)] == ["1m", "1m", "15s", "500ms", "2h"]


def test_go_duration_string_matches_go() -> None:
    # Go: (75*time.Second).String() == "1m15s"; time.Minute.String() == "1m0s"; time.Hour.String() == "1h0m0s"
    assert [go_duration_string(ms) for ms in (75_000, 60_000, 3_600_000, 30_000)] == ["1m15s", "1m0s", "1h0m0s", "30s"]


# ---- time ranges (Grafana's dateMath, panel relative time and time shift) ------------------------


def test_date_math() -> None:
    assert parse_date_math("now-6h", NOW) == NOW - timedelta(hours=6)
    assert parse_date_math("now/d", NOW) == datetime(2025, 3, 14, tzinfo=UTC)
    end_of_day = parse_date_math("now/d", NOW, round_up=True)
    assert end_of_day == datetime(2025, 3, 15, tzinfo=UTC) - timedelta(milliseconds=1)
    assert parse_date_math("now-1M/M", NOW) == datetime(2025, 2, 1, tzinfo=UTC)


def test_panel_relative_time_and_shift() -> None:
    dashboard = {"time": {"from": "now-6h", "to": "now"}}
    assert time_range_for(dashboard, {}, NOW) == _range(6)
    assert time_range_for(dashboard, {"timeFrom": "1h"}, NOW) == _range(1)
    shifted = time_range_for(dashboard, {"timeShift": "1d"}, NOW)
    assert shifted == _range(6, NOW - timedelta(days=1))


# ---- intervals (PanelQueryRunner + Prometheus backend calculatePrometheusInterval) --------------


def test_frontend_interval_is_range_over_points_rounded_and_floored() -> None:
    # 6h / 1000 points = 21.6s -> rounds to 20s; the 15s timeInterval does not raise it
    ctx = QueryContext(time_range=_range(6), max_data_points=1000, datasource_interval="15s")
    assert frontend_interval_ms(ctx) == 20_000
    # 1h / 1000 = 3.6s -> 5s, floored at the 15s scrape interval
    assert (
        frontend_interval_ms(QueryContext(time_range=_range(1), max_data_points=1000, datasource_interval="15s"))
        == 15_000
    )
    # a panel min interval wins over the datasource's
    assert (
        frontend_interval_ms(
            QueryContext(time_range=_range(1), max_data_points=1000, datasource_interval="15s", min_interval="1m")
        )
        == 60_000
    )
    # SQL datasources default their interval to 1m
    sql = QueryContext(time_range=_range(1), max_data_points=1000, datasource_type="grafana-postgresql-datasource")
    assert frontend_interval_ms(sql) == 60_000


def test_rate_interval_grafana_definition() -> None:
    # Grafana docs: $__rate_interval = max($__interval + scrape interval, 4 * scrape interval)
    short = QueryContext(time_range=_range(1), max_data_points=1000, datasource_interval="15s")
    assert rate_interval_ms(short) == 60_000  # max(15s + 15s, 60s)
    long = QueryContext(time_range=_range(24), max_data_points=1000, datasource_interval="15s")
    # 24h/1000 = 86.4s -> 1m; max(60s + 15s, 60s) = 75s
    assert rate_interval_ms(long) == 75_000
    assert interpolate_promql("rate(x[$__rate_interval])", {}, long) == "rate(x[1m15s])"


def test_prometheus_step_safe_resolution() -> None:
    # 30d over 100000 points would be 26s; Grafana caps at 11000 points: 30d/11000 = 235s -> 5m
    ctx = QueryContext(time_range=_range(24 * 30), max_data_points=100_000, datasource_interval="15s")
    assert prometheus_step_ms(ctx) == 300_000


def test_prometheus_min_step_and_window_alignment() -> None:
    ctx = QueryContext(time_range=_range(6), max_data_points=1000, datasource_interval="15s", target_interval="1m")
    assert prometheus_step_ms(ctx) == 60_000
    start, end, step = prometheus_query_window(ctx)
    assert step == 60 and start % 60 == 0 and end % 60 == 0
    assert end <= NOW.timestamp() < end + 60


def test_range_builtins() -> None:
    ctx = QueryContext(time_range=_range(6), max_data_points=1000, datasource_interval="15s")
    out = interpolate_promql("increase(x[$__range]) $__range_s ${__range_ms} [$__interval] $__interval_ms", {}, ctx)
    assert out == "increase(x[21600s]) 21600 21600000 [20s] 20000"


# ---- variables ---------------------------------------------------------------------------------

DASHBOARD = {
    "templating": {
        "list": [
            {
                "name": "job",
                "type": "query",
                "multi": True,
                "includeAll": True,
                "allValue": "bo1-api|bo1-backend-.*",
                "current": {"text": "All", "value": ["$__all"]},
                "query": "label_values(up, job)",
            },
            {
                "name": "handler",
                "type": "query",
                "multi": True,
                "includeAll": True,
                "current": {"text": "All", "value": "$__all"},
                "query": "label_values(http_requests_total, handler)",
            },
            {"name": "env", "type": "custom", "query": "prod, staging", "current": {"value": "prod"}},
        ]
    }
}


def _handlers(_variable: object) -> list[str]:
    return ["/api/v1/sessions", "/api/v1/sessions/{session_id}", "/metrics"]


def test_variable_values_all_and_defaults() -> None:
    values = variable_values(DASHBOARD, query_runner=_handlers)
    assert values["job"].is_all and values["job"].all_value == "bo1-api|bo1-backend-.*"
    assert values["handler"].is_all and values["handler"].values == tuple(_handlers(None))
    assert values["env"].values == ("prod",)
    overridden = variable_values(DASHBOARD, {"handler": ["/metrics"]}, query_runner=_handlers)
    assert overridden["handler"].values == ("/metrics",) and not overridden["handler"].is_all


def test_query_variable_regex_filter() -> None:
    board = {
        "templating": {
            "list": [
                {
                    "name": "h",
                    "type": "query",
                    "regex": "/.*sessions/(.*)/",
                    "multi": True,
                    "includeAll": True,
                    "current": {"value": "$__all"},
                }
            ]
        }
    }
    values = variable_values(board, query_runner=_handlers)
    # the capture group becomes the value; values that do not match are dropped
    assert values["h"].values == ("{session_id}",)


def test_promql_all_with_custom_all_value_is_verbatim() -> None:
    ctx = QueryContext(time_range=_range(1), datasource_interval="15s")
    values = variable_values(DASHBOARD, query_runner=_handlers)
    assert interpolate_promql('up{job=~"$job"}', values, ctx) == 'up{job=~"bo1-api|bo1-backend-.*"}'


def test_promql_all_without_all_value_is_escaped_alternation() -> None:
    # Grafana's prometheusSpecialRegexEscape: regex metacharacters get two backslashes inside the PromQL string
    ctx = QueryContext(time_range=_range(1), datasource_interval="15s")
    values = variable_values(DASHBOARD, query_runner=_handlers)
    out = interpolate_promql('x{handler=~"$handler"}', values, ctx)
    assert out == 'x{handler=~"(/api/v1/sessions|/api/v1/sessions/\\\\{session_id\\\\}|/metrics)"}'


def test_promql_escaped_alternation_matches_in_real_regex() -> None:
    # the text between the quotes, unescaped as a PromQL string, is an RE2 regex matching each value exactly
    ctx = QueryContext(time_range=_range(1), datasource_interval="15s")
    var = VariableValue(name="v", values=("a.b", "c|d", "e(f)"), multi=True)
    inside = interpolate_promql("$v", {"v": var}, ctx)
    regex = inside.replace("\\\\", "\\")
    for value in var.values:
        assert re.fullmatch(regex, value)
    assert not re.fullmatch(regex, "aXb")


def test_variable_syntaxes_and_formats() -> None:
    ctx = QueryContext(time_range=_range(1), datasource_interval="15s")
    var = VariableValue(name="v", values=("a", "b"), multi=True)
    values = {"v": var}
    assert interpolate_promql("[[v]] ${v} $v", values, ctx) == "(a|b) (a|b) (a|b)"
    assert interpolate_promql("${v:csv} ${v:pipe} ${v:json} ${v:singlequote} ${v:doublequote}", values, ctx) == (
        'a,b a|b ["a","b"] \'a\',\'b\' "a","b"'
    )
    assert interpolate_promql("${v:regex} ${v:glob} ${v:sqlstring}", values, ctx) == "(a|b) {a,b} 'a','b'"
    assert interpolate_promql("$unknown", values, ctx) == "$unknown"


def test_single_value_not_multi_is_not_regex_escaped() -> None:
    ctx = QueryContext(time_range=_range(1), datasource_interval="15s")
    var = VariableValue(name="v", values=("a.b",))
    assert interpolate_promql('x{l="$v"}', {"v": var}, ctx) == 'x{l="a.b"}'


def test_global_from_to() -> None:
    ctx = QueryContext(time_range=_range(1), datasource_interval="15s")
    assert interpolate_promql("$__from ${__to:date:seconds}", {}, ctx) == (
        f"{ctx.time_range.from_ms} {ctx.time_range.to_ms // 1000}"
    )


# ---- SQL (Grafana's PostgreSQL macro engine and SQL variable quoting) ----------------------------

SQL_CTX = QueryContext(
    time_range=TimeRange(datetime(2025, 3, 14, 9, 0, tzinfo=UTC), datetime(2025, 3, 14, 15, 0, 0, 500000, tzinfo=UTC)),
    max_data_points=1000,
    datasource_type="grafana-postgresql-datasource",
)


def test_sql_time_macros() -> None:
    sql = "WHERE $__timeFilter(created_at) AND x > $__timeFrom() AND y < $__timeTo()"
    assert interpolate_sql(sql, {}, SQL_CTX) == (
        "WHERE created_at BETWEEN '2025-03-14T09:00:00Z' AND '2025-03-14T15:00:00.5Z' "
        "AND x > '2025-03-14T09:00:00Z' AND y < '2025-03-14T15:00:00.5Z'"
    )


def test_sql_time_group_and_alias() -> None:
    assert interpolate_sql("SELECT $__timeGroupAlias(created_at, 1h)", {}, SQL_CTX) == (
        'SELECT floor(extract(epoch from created_at)/3600)*3600 AS "time"'
    )
    # pre-5.3 compatibility: a $__timeGroup followed by a comma gets the alias
    assert interpolate_sql("SELECT $__timeGroup(created_at, '1d'), count(*)", {}, SQL_CTX) == (
        'SELECT floor(extract(epoch from created_at)/86400)*86400 AS "time", count(*)'
    )
    # $__interval is the frontend's (1m default for SQL): 6h/1000 = 21.6s -> 20s, floored at 1m
    assert interpolate_sql("GROUP BY $__timeGroup(t, $__interval)", {}, SQL_CTX) == (
        "GROUP BY floor(extract(epoch from t)/60)*60"
    )
    _, fills = sql_macros("$__timeGroup(t, 1h, 0)", SQL_CTX.time_range)
    assert fills[0].mode == "value" and fills[0].value == 0


def test_sql_unix_epoch_macros() -> None:
    frm, to = SQL_CTX.time_range.from_ms // 1000, SQL_CTX.time_range.to_ms // 1000
    assert interpolate_sql("$__unixEpochFilter(ts) $__unixEpochFrom() $__unixEpochTo()", {}, SQL_CTX) == (
        f"ts >= {frm} AND ts <= {to} {frm} {to}"
    )
    assert interpolate_sql("$__unixEpochGroupAlias(ts, 5m)", {}, SQL_CTX) == 'floor((ts)/300)*300 AS "time"'


def test_sql_errors_are_grafanas() -> None:
    with pytest.raises(InterpolationError, match="unknown macro"):
        interpolate_sql("$__nope(x)", {}, SQL_CTX)
    with pytest.raises(InterpolationError, match="needs time column and interval"):
        interpolate_sql("$__timeGroup(x)", {}, SQL_CTX)


def test_sql_variable_quoting() -> None:
    multi = VariableValue(name="m", values=("o'brien", "b"), multi=True)
    single = VariableValue(name="s", values=("42",))
    assert (
        interpolate_sql("IN ($m) AND id = $s", {"m": multi, "s": single}, SQL_CTX) == "IN ('o''brien','b') AND id = 42"
    )
