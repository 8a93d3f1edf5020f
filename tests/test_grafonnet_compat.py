"""Output contract of our grafonnet v11.4.0 subset (jsonnet/grafonnet-compat).

Each test compiles a small snippet against the library exactly as the mixin imports it and
checks the JSON that grafonnet v11.4.0 produces for the same calls. The subset holds just what the
mixin calls: a function nothing calls is dead weight (test_every_function_is_called).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import _jsonnet
import pytest

REPO = Path(__file__).resolve().parents[1]
COMPAT = REPO / "jsonnet" / "grafonnet-compat"
LIB = COMPAT / "github.com" / "grafana" / "grafonnet" / "gen" / "grafonnet-v11.4.0"
IMPORT = 'local g = import "github.com/grafana/grafonnet/gen/grafonnet-v11.4.0/main.libsonnet";\n'


def ev(snippet: str):
    out = _jsonnet.evaluate_snippet(
        "snippet",
        IMPORT + snippet,
        jpathdir=[str(REPO / "vendor"), str(COMPAT)],
    )
    return json.loads(out)


# --- panels ---------------------------------------------------------------------------------

PANEL_TYPES = {
    "timeSeries": "timeseries",
    "stat": "stat",
    "gauge": "gauge",
    "table": "table",
    "pieChart": "piechart",
    "heatmap": "heatmap",
}


@pytest.mark.parametrize("name,plugin", sorted(PANEL_TYPES.items()))
def test_panel_new_emits_type_title_plugin_version_and_mixed_datasource(name, plugin):
    assert ev(f"g.panel.{name}.new('Latency')") == {
        "type": plugin,
        "title": "Latency",
        "pluginVersion": "v11.4.0",
        "datasource": {"type": "datasource", "uid": "-- Mixed --"},
    }


@pytest.mark.parametrize("name", sorted(PANEL_TYPES))
def test_standard_options_nest_under_field_config_defaults(name):
    p = ev(
        f"""
        local s = g.panel.{name}.standardOptions;
        g.panel.{name}.new('x') + s.withUnit('reqps') + s.withMin(0) + s.withMax(1) + s.withDecimals(2)
        + s.withNoValue('none') + s.thresholds.withMode('absolute')
        + s.thresholds.withSteps({{ color: 'green', value: null }})
        + s.withMappings({{ type: 'value', options: {{ '0': {{ text: 'DOWN' }} }} }})
        """
    )
    d = p["fieldConfig"]["defaults"]
    assert d["unit"] == "reqps" and d["min"] == 0 and d["max"] == 1 and d["decimals"] == 2
    assert d["noValue"] == "none"
    assert d["thresholds"] == {"mode": "absolute", "steps": [{"color": "green", "value": None}]}
    assert d["mappings"] == [{"type": "value", "options": {"0": {"text": "DOWN"}}}]


def test_panel_and_query_options():
    p = ev(
        """
        local t = g.panel.timeSeries;
        t.new('x') + t.panelOptions.withDescription('d')
        + t.queryOptions.withDatasource('prometheus', 'prom') + t.queryOptions.withTimeFrom('1h')
        + t.queryOptions.withTargets(g.query.prometheus.new('prom', 'up'))
        """
    )
    assert p["description"] == "d"
    assert p["datasource"] == {"type": "prometheus", "uid": "prom"}
    assert p["timeFrom"] == "1h"
    assert [t["expr"] for t in p["targets"]] == ["up"]


def test_time_series_options_and_custom_field_config():
    p = ev(
        """
        local t = g.panel.timeSeries, c = t.fieldConfig.defaults.custom;
        t.options.legend.withDisplayMode('table') + t.options.legend.withPlacement('right')
        + t.options.tooltip.withMode('multi') + t.options.tooltip.withSort('desc')
        + c.withDrawStyle('bars') + c.withFillOpacity(10) + c.withShowPoints('never')
        + c.stacking.withMode('normal') + c.thresholdsStyle.withMode('line')
        """
    )
    assert p["options"] == {
        "legend": {"displayMode": "table", "placement": "right"},
        "tooltip": {"mode": "multi", "sort": "desc"},
    }
    assert p["fieldConfig"]["defaults"]["custom"] == {
        "drawStyle": "bars",
        "fillOpacity": 10,
        "showPoints": "never",
        "stacking": {"mode": "normal"},
        "thresholdsStyle": {"mode": "line"},
    }


def test_legend_defaults_match_grafonnet():
    p = ev("local l = g.panel.timeSeries.options.legend; l.withDisplayMode() + l.withPlacement()")
    assert p == {"options": {"legend": {"displayMode": "list", "placement": "bottom"}}}


def test_stat_and_gauge_options():
    s = ev(
        """
        local o = g.panel.stat.options;
        o.reduceOptions.withCalcs('lastNotNull') + o.withColorMode('background') + o.withGraphMode('none')
        + o.withTextMode('value')
        """
    )
    assert s["options"] == {
        "reduceOptions": {"calcs": ["lastNotNull"]},
        "colorMode": "background",
        "graphMode": "none",
        "textMode": "value",
    }
    gauge = ev(
        "g.panel.gauge.options.withShowThresholdMarkers() + g.panel.gauge.options.reduceOptions.withCalcs(['mean'])"
    )
    assert gauge["options"] == {"showThresholdMarkers": True, "reduceOptions": {"calcs": ["mean"]}}


def test_table_options():
    p = ev("local o = g.panel.table.options; o.withShowHeader() + o.withSortBy({ displayName: 'p95', desc: true })")
    assert p["options"] == {"showHeader": True, "sortBy": [{"displayName": "p95", "desc": True}]}


def test_pie_chart_and_heatmap_options():
    pie = ev(
        """
        local o = g.panel.pieChart.options;
        o.withPieType('donut') + o.legend.withValues('percent') + o.legend.withDisplayMode('table')
        + o.reduceOptions.withCalcs('lastNotNull') + o.reduceOptions.withValues()
        """
    )
    assert pie["options"] == {
        "pieType": "donut",
        "legend": {"values": ["percent"], "displayMode": "table"},
        "reduceOptions": {"calcs": ["lastNotNull"], "values": True},
    }
    heat = ev(
        """
        local o = g.panel.heatmap.options;
        o.withCalculate(false) + o.color.withMode('scheme') + o.color.withScheme('Oranges')
        + o.yAxis.withUnit('s') + o.rowsFrame.withLayout('le') + o.tooltip.withMode('single')
        """
    )
    assert heat["options"] == {
        "calculate": False,
        "color": {"mode": "scheme", "scheme": "Oranges"},
        "yAxis": {"unit": "s"},
        "rowsFrame": {"layout": "le"},
        "tooltip": {"mode": "single"},
    }


# --- prometheus query -----------------------------------------------------------------------


def test_prometheus_query():
    q = ev(
        """
        local p = g.query.prometheus;
        p.new('prometheus', 'sum(rate(x[$__rate_interval]))') + p.withLegendFormat('{{status}}')
        + p.withInstant() + p.withRange(false) + p.withFormat('heatmap')
        """
    )
    assert q == {
        "datasource": {"type": "prometheus", "uid": "prometheus"},
        "expr": "sum(rate(x[$__rate_interval]))",
        "legendFormat": "{{status}}",
        "instant": True,
        "range": False,
        "format": "heatmap",
    }


# --- dashboard ------------------------------------------------------------------------------


def test_dashboard_new_defaults():
    assert ev("g.dashboard.new('bo1 / API')") == {
        "title": "bo1 / API",
        "schemaVersion": 39,
        "timezone": "utc",
        "time": {"from": "now-6h", "to": "now"},
    }


def test_dashboard_setters_and_links():
    d = ev(
        """
        local db = g.dashboard;
        db.new('x') + db.withUid('bo1-api') + db.withDescription('d') + db.withTags('bo1') + db.withTimezone()
        + db.withRefresh('30s') + db.withEditable(false) + db.time.withFrom('now-1h') + db.time.withTo()
        + db.graphTooltip.withSharedCrosshair()
        + db.withLinks(db.link.dashboards.new('bo1', 'bo1') + db.link.dashboards.options.withAsDropdown(false)
                       + db.link.dashboards.options.withKeepTime())
        + db.withVariables(db.variable.query.new('job'))
        """
    )
    assert d["uid"] == "bo1-api" and d["description"] == "d" and d["tags"] == ["bo1"]
    assert d["timezone"] == "browser" and d["refresh"] == "30s" and d["editable"] is False
    assert d["time"] == {"from": "now-1h", "to": "now"}
    assert d["graphTooltip"] == 1
    assert d["links"] == [
        {"title": "bo1", "type": "dashboards", "tags": ["bo1"], "asDropdown": False, "keepTime": True}
    ]
    assert d["templating"] == {"list": [{"name": "job", "type": "query", "query": ""}]}


def test_with_panels_numbers_ids_including_row_children():
    d = ev(
        """
        local s = g.panel.stat.new('s');
        g.dashboard.withPanels([s, { type: 'row', title: 'r', panels: [s, s] }, s + { id: 42 }])
        """
    )
    ids = [p["id"] for p in d["panels"]]
    assert ids == [1, 2, 5]
    assert [p["id"] for p in d["panels"][1]["panels"]] == [3, 4]
    kept = ev("g.dashboard.withPanels({ type: 'stat', id: 9 }, setPanelIDs=false)")
    assert kept["panels"] == [{"type": "stat", "id": 9}]


# --- variables ------------------------------------------------------------------------------


def test_query_variable():
    v = ev(
        """
        local q = g.dashboard.variable.query;
        q.new('job') + q.withDatasource('prometheus', 'prometheus')
        + q.queryTypes.withLabelValues('job', 'http_requests_total')
        + q.generalOptions.withLabel('Job') + q.generalOptions.withDescription('API job')
        + q.selectionOptions.withMulti() + q.selectionOptions.withIncludeAll(customAllValue='bo1-api|bo1-backend-.*')
        + q.generalOptions.withCurrent('All', '$__all') + q.withSort(asc=false) + q.refresh.onTime()
        """
    )
    assert v == {
        "name": "job",
        "type": "query",
        "query": "label_values(http_requests_total, job)",
        "datasource": {"type": "prometheus", "uid": "prometheus"},
        "label": "Job",
        "description": "API job",
        "multi": True,
        "includeAll": True,
        "allValue": "bo1-api|bo1-backend-.*",
        "current": {"selected": False, "text": ["All"], "value": ["$__all"]},
        "sort": 2,
        "refresh": 2,
    }
    assert ev("g.dashboard.variable.query.queryTypes.withLabelValues('handler')") == {"query": "label_values(handler)"}
    assert ev("g.dashboard.variable.query.selectionOptions.withIncludeAll()") == {"includeAll": True}
    assert ev("g.dashboard.variable.query.generalOptions.withCurrent('a')")["current"] == {
        "selected": False,
        "text": "a",
        "value": "a",
    }
    assert ev("g.dashboard.variable.query.withSort(0, 'numerical')") == {"sort": 3}
    assert ev("g.dashboard.variable.query.withSort(0, caseInsensitive=true)") == {"sort": 5}
    assert ev("g.dashboard.variable.query.withSort(6)") == {"sort": 6}


# --- the subset is what the mixin calls -----------------------------------------------------

# Every function of the library by its dotted path (namespaces are objects, setters functions).
_FUNCTIONS = """
local walk(o, path) = std.flattenArrays([
  if std.isFunction(o[k]) then [path + k]
  else if std.isObject(o[k]) then walk(o[k], path + k + '.')
  else []
  for k in std.objectFieldsAll(o)
]);
walk(g, '')
"""

# Namespaces a caller holds in a local (`local p = g.panel.stat; p.options.withGraphMode(...)`).
_NAMESPACE = re.compile(r"^(panel\.\w+|dashboard\.variable\.\w+|query\.\w+|dashboard)\.")


def test_every_function_is_called():
    """Each function is called by the mixin (jsonnet/lib, jsonnet/dashboards) or by the subset itself."""
    mixin = "\n".join(p.read_text() for d in ("lib", "dashboards") for p in (REPO / "jsonnet" / d).rglob("*.libsonnet"))
    library = "\n".join(p.read_text() for p in LIB.rglob("*.libsonnet"))
    functions = ev(_FUNCTIONS)
    assert len(functions) > 50
    unused = []
    for path in functions:
        rest = _NAMESPACE.sub("", path)
        leaf = path.rsplit(".", 1)[-1]
        called = f".{rest}(" in mixin or f".{rest}(" in library or f"self.{leaf}(" in library
        if not called:
            unused.append(path)
    assert unused == []


# --- provenance -----------------------------------------------------------------------------


# Every field of the library (hidden ones too), a function or not, down to 8 levels.
_WALK = """
local walk(o, path, depth) =
  if depth > 8 || !std.isObject(o) then []
  else std.flattenArrays([
    [{ path: path + '.' + k, isFunction: std.isFunction(o[k]) }] + walk(o[k], path + '.' + k, depth + 1)
    for k in std.objectFieldsAll(o)
  ]);
walk(g, 'g', 0)
"""


def test_library_evaluates_alone_without_docsonnet_help_fields():
    """On an import path with nothing but our subset (no vendor/, so no docsonnet to import), the whole
    library evaluates, and no field is a docsonnet help field (`#withX`)."""
    fields = json.loads(_jsonnet.evaluate_snippet("walk", IMPORT + _WALK, jpathdir=[str(COMPAT)]))
    assert sum(f["isFunction"] for f in fields) > 50
    assert [f["path"] for f in fields if "#" in f["path"]] == []


def test_subset_sits_at_the_import_path_jsonnetfile_pins():
    """The mixin imports grafonnet by the path `jb install` fills from jsonnetfile.json, and our subset answers
    that same path when vendor/ is empty."""
    pinned = json.loads((REPO / "jsonnetfile.json").read_text())["dependencies"]
    grafonnet = next(d["source"]["git"] for d in pinned if d["source"]["git"]["remote"].endswith("/grafonnet.git"))
    import_path = f"github.com/grafana/grafonnet/{grafonnet['subdir']}/main.libsonnet"
    assert (COMPAT / import_path).is_file()
    imported = {
        m
        for f in (REPO / "jsonnet").rglob("*sonnet")
        if COMPAT not in f.parents
        for m in re.findall(r"import '(github\.com/grafana/grafonnet/[^']+)'", f.read_text())
    }
    assert imported == {import_path}


def test_what_the_subset_lacks_is_an_evaluation_error():
    """A setter grafonnet has and the subset does not fails the build instead of being dropped silently."""
    with pytest.raises(RuntimeError, match="field does not exist: withNoSuchSetter"):
        ev("g.panel.timeSeries.new('x') + g.panel.timeSeries.withNoSuchSetter(1)")
