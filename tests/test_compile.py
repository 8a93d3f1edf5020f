"""Compiling the mixin: our dashboards, errors with file and line, consumers and vendor trees."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bo1dash import paths
from bo1dash.compile import CompileError, compile_mixin, import_path
from bo1dash.grafana.panels import iter_panels
from bo1dash.promql_tree import selectors


@pytest.fixture(scope="module")
def ours(repo_root: Path):
    return compile_mixin(paths.mixin_entry(repo_root), root=repo_root)


def _targets(dashboard: dict) -> list[dict]:
    return [t for panel in iter_panels(dashboard) for t in panel.get("targets", [])]


def _exprs(dashboards: dict) -> list[str]:
    return [t["expr"] for d in dashboards.values() for t in _targets(d) if "expr" in t]


def test_the_four_dashboards_with_their_pinned_uids(ours) -> None:
    uids = {name: d["uid"] for name, d in ours.dashboards.items()}
    assert uids == {
        "api.json": "bo1-api",
        "deliberation.json": "bo1-deliberation",
        "cost.json": "bo1-cost",
        "infrastructure.json": "bo1-infrastructure",
    }


def test_every_panel_has_unit_description_and_an_existing_datasource(ours) -> None:
    known = {ds["uid"]: ds["type"] for ds in ours.config["datasources"].values()}
    for name, dash in ours.dashboards.items():
        for panel in dash["panels"]:
            if panel["type"] == "row":
                continue
            where = f"{name}: {panel['title']}"
            assert panel["description"], where
            assert panel["fieldConfig"]["defaults"]["unit"], where
            assert known[panel["datasource"]["uid"]] == panel["datasource"]["type"], where
            for target in panel["targets"]:
                assert target["datasource"] == panel["datasource"], where


# A consumer that renames every scrape job (as the README shows): no query may still read a default name.
RENAMED_JOBS = {
    "apiJobRegex": "c-api|c-api-canary",
    "redisExporterJob": "c-redis",
    "postgresExporterJob": "c-postgres",
    "nodeExporterJob": "c-node",
    "processExporterJob": "c-process",
    "cadvisorJob": "c-cadvisor",
    "prometheusJob": "c-prometheus",
}
# Grafana's built-in intervals, as any duration, so that the parser reads the queries.
_BUILTINS = re.compile(r"\$(?:__rate_interval|__interval|__range)\b")


def _job_matchers(expr: str) -> list[tuple[str, str]]:
    """(op, value) of the job matcher of every series `expr` reads; ("", "") for a series read unscoped."""
    found = []
    for sel in selectors(_BUILTINS.sub("5m", expr)):
        jobs = [(op, value) for label, op, value in sel.matchers if label == "job"]
        found.extend(jobs or [("", "")])
    return found


def test_every_series_read_is_scoped_by_a_config_job_selector(repo_root: Path, tmp_path: Path) -> None:
    """Renaming the jobs in _config re-targets every query: each series a panel or a variable reads carries the
    job matcher of a renamed `_config` selector (or the `$job` variable, itself scoped that way), no literal."""
    overrides = ", ".join(f"{key}: {json.dumps(value)}" for key, value in RENAMED_JOBS.items())
    entry = tmp_path / "consumer.jsonnet"
    entry.write_text(f"(import 'mixin.libsonnet') + {{ _config+:: {{ {overrides} }} }}\n")
    consumer = compile_mixin(entry, root=repo_root)
    allowed = {("=~", "$job")}
    for key, value in consumer.config.items():
        if key.endswith("Selector") and isinstance(value, str) and value.startswith("job"):
            allowed.update(_job_matchers("{" + value + "}"))
    assert allowed >= {("=~", RENAMED_JOBS["apiJobRegex"]), ("=", "c-redis"), ("=", "c-prometheus")}
    queries = [t["expr"] for d in consumer.dashboards.values() for t in _targets(d) if "expr" in t]
    queries += [
        re.sub(r"^label_values\((.*),\s*\w+\)$", r"\1", str(v["query"]))
        for d in consumer.dashboards.values()
        for v in d.get("templating", {}).get("list", [])
        if v.get("type") == "query"
    ]
    assert queries
    for query in queries:
        assert set(_job_matchers(query)) <= allowed, query


def test_the_stream_handler_is_kept_out_of_latency(ours) -> None:
    """Every latency query excludes the SSE stream, itself or through the recording rule it reads."""
    excluded = f'handler!~"{ours.config["streamHandlerRegex"]}"'
    rules = {r["record"]: r["expr"] for g in ours.rules["groups"] for r in g["rules"] if "record" in r}

    def leaves_out_stream(expr: str) -> bool:
        if excluded in expr:
            return True
        used = [name for name in rules if re.search(rf"(?<![\w:]){re.escape(name)}(?![\w:])", expr)]
        return bool(used) and all(leaves_out_stream(rules[name]) for name in used)

    latency = [
        (p["title"], t["expr"])
        for p in ours.dashboards["api.json"]["panels"]
        for t in p.get("targets", [])
        if "http_request_duration_seconds" in t.get("expr", "")
    ]
    assert latency
    for title, expr in latency:
        assert leaves_out_stream(expr), title


def test_a_jsonnet_error_names_the_file_and_line(tmp_path: Path, repo_root: Path) -> None:
    entry = tmp_path / "mixin.libsonnet"
    entry.write_text(
        "{\n"
        "  grafanaDashboards:: {\n"
        "    'x.json': { uid: 'x', title: 'x', panels: [std.thisFunctionDoesNotExist(1)] },\n"
        "  },\n"
        "}\n"
    )
    with pytest.raises(CompileError) as err:
        compile_mixin(entry, root=repo_root)
    assert err.value.file.endswith("mixin.libsonnet")
    assert err.value.line == 3
    assert "thisFunctionDoesNotExist" in str(err.value)


def test_a_dashboard_without_uid_is_refused(tmp_path: Path, repo_root: Path) -> None:
    entry = tmp_path / "mixin.libsonnet"
    entry.write_text("{ grafanaDashboards:: { 'x.json': { title: 'x', panels: [] } } }\n")
    with pytest.raises(CompileError, match="no uid"):
        compile_mixin(entry, root=repo_root)


def test_a_consumer_overrides_jobs_and_datasources(tmp_path: Path, repo_root: Path) -> None:
    consumer = tmp_path / "consumer.jsonnet"
    consumer.write_text(
        "(import 'mixin.libsonnet') + { _config+:: {\n"
        "  apiJobRegex: 'shop-api',\n"
        "  redisExporterJob: 'cache-exporter',\n"
        "  datasources+: { prometheus+: { uid: 'thanos' }, postgres+: { uid: 'ledger-db' } },\n"
        "  dashboardUids+: { api: 'shop-api-overview' },\n"
        "} }\n"
    )
    built = compile_mixin(consumer, root=repo_root)
    assert built.dashboards["api.json"]["uid"] == "shop-api-overview"
    exprs = _exprs(built.dashboards)
    assert exprs and not any('job=~"bo1-api' in e or "bo1-backend" in e for e in exprs)
    assert any('job=~"shop-api"' in e for e in exprs)
    redis = [e for e in exprs if "redis_" in e]
    assert redis and all('job="cache-exporter"' in e for e in redis)
    uids = {t["datasource"]["uid"] for d in built.dashboards.values() for t in _targets(d)}
    assert uids == {"thanos", "ledger-db"}
    # the template variables query the overridden job too
    variables = built.dashboards["api.json"]["templating"]["list"]
    assert all("shop-api" in json.dumps(v["query"]) for v in variables)


def test_a_vendor_tree_comes_first_on_the_import_path(tmp_path: Path, repo_root: Path) -> None:
    """`jb install` puts grafonnet in vendor/: it must win over our subset."""
    grafonnet = tmp_path / "vendor" / "github.com" / "grafana" / "grafonnet" / "gen" / "grafonnet-v11.4.0"
    grafonnet.mkdir(parents=True)
    compat = paths.grafonnet_compat_dir(repo_root) / grafonnet.relative_to(tmp_path / "vendor")
    (grafonnet / "main.libsonnet").write_text(
        f"(import '{compat}/main.libsonnet') + {{ panel+: {{ timeSeries+: {{\n"
        "  new(title):: super.new(title) + { fromVendor: true },\n"
        "} } }\n"
    )
    built = compile_mixin(paths.mixin_entry(repo_root), root=repo_root, vendor_dirs=[tmp_path / "vendor"])
    marked = [p for p in built.dashboards["api.json"]["panels"] if p.get("fromVendor")]
    assert {p["type"] for p in marked} == {"timeseries"}
    assert not [
        p
        for p in compile_mixin(paths.mixin_entry(repo_root), root=repo_root).dashboards["api.json"]["panels"]
        if p.get("fromVendor")
    ]


def test_panel_ids_are_unique_and_the_grid_is_24_wide(ours) -> None:
    for name, dash in ours.dashboards.items():
        ids = [p["id"] for p in dash["panels"]]
        assert len(ids) == len(set(ids)), name
        for p in dash["panels"]:
            assert 0 <= p["gridPos"]["x"] and p["gridPos"]["x"] + p["gridPos"]["w"] <= 24, (name, p["title"])


def test_grafana_variables_are_used_only_where_defined(ours) -> None:
    for name, dash in ours.dashboards.items():
        defined = {v["name"] for v in dash.get("templating", {}).get("list", [])}
        text = json.dumps(dash["panels"])
        used = set(re.findall(r"\$(?!__)(\w+)", text))
        assert used <= defined, (name, used - defined)


def test_the_bridge_builds_another_mixin(tmp_path: Path, repo_root: Path) -> None:
    """Any mixin entry: here one with its own grafonnet dashboard and no bo1 _config at all."""
    entry = tmp_path / "other" / "mixin.libsonnet"
    entry.parent.mkdir()
    entry.write_text(
        "local g = import 'github.com/grafana/grafonnet/gen/grafonnet-v11.4.0/main.libsonnet';\n"
        "{ grafanaDashboards+:: { 'shop.json': g.dashboard.new('Shop') + g.dashboard.withUid('shop')\n"
        "  + g.dashboard.withPanels([g.panel.stat.new('Orders') + g.panel.stat.queryOptions.withTargets(\n"
        "      [g.query.prometheus.new('thanos', 'sum(rate(orders_total[5m]))')])]) } }\n"
    )
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "bo1dash", "build", "--mixin", str(entry), "--out", str(out)],
        cwd=repo_root,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    built = json.loads((paths.dashboards_dir(out) / "shop.json").read_text())
    assert built["uid"] == "shop"
    assert built["panels"][0]["targets"][0]["datasource"] == {"type": "prometheus", "uid": "thanos"}
    assert sorted(p.name for p in paths.dashboards_dir(out).iterdir()) == ["shop.json"]


# --- a consumer's _config is checked against config.libsonnet -----------------------------------


def _build_consumer(tmp_path: Path, repo_root: Path, overrides: str) -> subprocess.CompletedProcess[str]:
    """`bo1dash build --mixin` of a consumer that imports our mixin with `overrides` in its _config."""
    consumer = tmp_path / "consumer" / "mixin.jsonnet"
    consumer.parent.mkdir()
    consumer.write_text(f"(import 'mixin.libsonnet') + {{ _config+:: {{\n  {overrides}\n}} }}\n")
    return subprocess.run(
        [sys.executable, "-m", "bo1dash", "build", "--mixin", str(consumer), "--out", str(tmp_path / "out")],
        cwd=repo_root,
        capture_output=True,
        text=True,
    )


def _one_line_failure(result: subprocess.CompletedProcess[str], tmp_path: Path) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.json"))
    return lines[0]


@pytest.mark.parametrize(
    "overrides,key,suggestion",
    [
        ("apiJobRegexx: 'shop-api',", "_config.apiJobRegexx", "'apiJobRegex'"),
        ("llmMonthlyBudgetUSD: 5000,", "_config.llmMonthlyBudgetUSD", "'llmMonthlyBudgetUsd'"),
        ("datasources+: { prometheus+: { uidd: 'thanos' } },", "_config.datasources.prometheus.uidd", "'uid'"),
        ("thresholds+: { errorRatioWarnin: 0.02 },", "_config.thresholds.errorRatioWarnin", "'errorRatioWarning'"),
        (
            "scrapeTargets+: [{ name: 'Loki', selecter: 'job=\"loki\"' }],",
            "_config.scrapeTargets[7].selecter",
            "'selector'",
        ),
    ],
)
def test_an_unknown_config_key_fails_the_build_naming_the_closest_one(
    tmp_path: Path, repo_root: Path, overrides: str, key: str, suggestion: str
) -> None:
    line = _one_line_failure(_build_consumer(tmp_path, repo_root, overrides), tmp_path)
    assert key in line and suggestion in line, line
    assert re.search(rf"{re.escape(key)}\b[^;]*{re.escape(suggestion)}", line), line


def test_every_unknown_key_is_named_in_the_one_line(tmp_path: Path, repo_root: Path) -> None:
    line = _one_line_failure(
        _build_consumer(tmp_path, repo_root, "apiJobRegexx: 'a', slo+: { availabilty: 0.99 }, teamChannel: '#ops',"),
        tmp_path,
    )
    for key in ("_config.apiJobRegexx", "_config.slo.availabilty", "_config.teamChannel"):
        assert key in line, line
    assert "'availability'" in line


@pytest.mark.parametrize(
    "overrides,key,expected",
    [
        ("llmMonthlyBudgetUsd: '5000',", "_config.llmMonthlyBudgetUsd", "number"),
        ("apiJobRegex: ['shop-api'],", "_config.apiJobRegex", "string"),
        ("datasources+: { postgres+: { uid: 42 } },", "_config.datasources.postgres.uid", "string"),
        ("dashboardTags: ['bo1', 7],", "_config.dashboardTags[1]", "string"),
        ("slo: 0.995,", "_config.slo", "object"),
        ("extraKeys: ['teamChannel', 3], teamChannel: '#ops',", "_config.extraKeys[1]", "string"),
    ],
)
def test_a_config_value_of_the_wrong_type_names_the_key_the_type_and_our_line(
    tmp_path: Path, repo_root: Path, overrides: str, key: str, expected: str
) -> None:
    line = _one_line_failure(_build_consumer(tmp_path, repo_root, overrides), tmp_path)
    assert key in line and expected in line, line
    assert re.search(r"jsonnet/config\.libsonnet:\d+", line) and "std.jsonnet" not in line, line


def test_extra_keys_listed_in_the_config_are_accepted(tmp_path: Path, repo_root: Path) -> None:
    """The escape hatch: keys a consumer adds on purpose, top-level and nested, build; any other still fails."""
    extra = "extraKeys: ['teamChannel', 'thresholds.queueDepth'], teamChannel: '#ops', thresholds+: { queueDepth: 5 },"
    consumer = tmp_path / "consumer.jsonnet"
    consumer.write_text(f"(import 'mixin.libsonnet') + {{ _config+:: {{ {extra} }} }}\n")
    built = compile_mixin(consumer, root=repo_root)
    assert built.config["teamChannel"] == "#ops" and built.config["thresholds"]["queueDepth"] == 5
    consumer.write_text(f"(import 'mixin.libsonnet') + {{ _config+:: {{ {extra} teamChanel: '#ops' }} }}\n")
    with pytest.raises(CompileError, match=r"_config\.teamChanel\b.*'teamChannel'"):
        compile_mixin(consumer, root=repo_root)


def test_rules_alone_check_the_config_too(repo_root: Path) -> None:
    """A consumer that takes only the rules and alerts gets the same check."""
    import _jsonnet

    jpath = [str(p) for p in reversed(import_path(repo_root)) if p.is_dir()]
    for field in ("prometheusRules", "prometheusAlerts"):
        snippet = f"((import 'mixin.libsonnet') + {{ _config+:: {{ ruleEvaluationIntervall: '2m' }} }}).{field}"
        with pytest.raises(RuntimeError, match=r"_config\.ruleEvaluationIntervall\b.*'ruleEvaluationInterval'"):
            _jsonnet.evaluate_snippet("consumer", snippet, jpathdir=jpath)


def test_error_status_and_stream_handler_come_from_the_config_alone(tmp_path: Path, repo_root: Path) -> None:
    """Overriding `errorStatus` and `streamHandlerRegex` re-targets every dashboard query, rule and alert."""
    consumer = tmp_path / "consumer.jsonnet"
    consumer.write_text(
        "(import 'mixin.libsonnet') + { _config+:: { errorStatus: 'server_error', streamHandlerRegex: '.*/events' } }\n"
    )
    built = compile_mixin(consumer, root=repo_root)
    rules = [r["expr"] for kind in (built.rules, built.alerts) for g in kind["groups"] for r in g["rules"]]
    exprs = _exprs(built.dashboards) + rules
    assert not [e for e in exprs if "5xx" in e or ".*/stream" in e]
    assert [e for e in _exprs(built.dashboards) if 'status="server_error"' in e]
    assert [e for e in rules if 'status="server_error"' in e]
    assert [e for e in _exprs(built.dashboards) if 'handler!~".*/events"' in e]
    assert [e for e in rules if 'handler!~".*/events"' in e]
