"""Output contract of our grafonnet v11.4.0 subset (jsonnet/grafonnet-compat).

Each test compiles a small snippet against the library exactly as the mixin imports it and
checks the JSON that grafonnet v11.4.0 produces for the same calls.
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
    "barGauge": "bargauge",
    "table": "table",
    "pieChart": "piechart",
    "heatmap": "heatmap",
    "barChart": "barchart",
    "stateTimeline": "state-timeline",
    "text": "text",
}


@pytest.mark.parametrize("name,plugin", sorted(PANEL_TYPES.items()))
def test_panel_new_emits_type_title_plugin_version_and_mixed_datasource(name, plugin):
    assert ev(f"g.panel.{name}.new('Latency')") == {
        "type": plugin,
        "title": "Latency",
        "pluginVersion": "v11.4.0",
        "datasource": {"type": "datasource", "uid": "-- Mixed --"},
    }


def test_standard_options_nest_under_field_config_defaults():
    p = ev(
        """
        local s = g.panel.stat.standardOptions;
        g.panel.stat.new('x') + s.withUnit('reqps') + s.withMin(0) + s.withMax(1) + s.withDecimals(2)
        + s.withNoValue('none') + s.withDisplayName('rate') + s.color.withMode('fixed')
        + s.color.withFixedColor('red') + s.thresholds.withMode('absolute')
        + s.thresholds.withSteps([s.threshold.step.withColor('green') + s.threshold.step.withValue(null)])
        + s.withMappings(s.mapping.ValueMap.withType() + s.mapping.ValueMap.withOptions({ '0': { text: 'DOWN' } }))
        + s.withMappingsMixin(s.mapping.SpecialValueMap.withType() + s.mapping.SpecialValueMap.options.withMatch('null')
                              + s.mapping.SpecialValueMap.options.result.withText('no data'))
        """
    )
    d = p["fieldConfig"]["defaults"]
    assert d["unit"] == "reqps" and d["min"] == 0 and d["max"] == 1 and d["decimals"] == 2
    assert d["noValue"] == "none" and d["displayName"] == "rate"
    assert d["color"] == {"mode": "fixed", "fixedColor": "red"}
    assert d["thresholds"] == {"mode": "absolute", "steps": [{"color": "green", "value": None}]}
    assert d["mappings"] == [
        {"type": "value", "options": {"0": {"text": "DOWN"}}},
        {"type": "special", "options": {"match": "null", "result": {"text": "no data"}}},
    ]


def test_range_mapping_options():
    m = ev(
        """
        local r = g.panel.stat.standardOptions.mapping.RangeMap;
        r.withType() + r.options.withFrom(0) + r.options.withTo(0.5) + r.options.result.withColor('red')
        """
    )
    assert m == {"type": "range", "options": {"from": 0, "to": 0.5, "result": {"color": "red"}}}


def test_grid_pos_sets_only_given_coordinates():
    assert ev("g.panel.stat.panelOptions.withGridPos(h=4, w=6)") == {"gridPos": {"h": 4, "w": 6}}
    assert ev("g.panel.stat.panelOptions.withGridPos(x=3, y=7)") == {"gridPos": {"x": 3, "y": 7}}
    assert ev("g.panel.stat.panelOptions.withGridPos()") == {}


def test_panel_and_query_options():
    p = ev(
        """
        local t = g.panel.timeSeries;
        t.new('x') + t.panelOptions.withDescription('d') + t.panelOptions.withRepeat('job')
        + t.panelOptions.withTransparent() + t.panelOptions.withLinks({ title: 'l', url: '/u' })
        + t.queryOptions.withDatasource('prometheus', 'prom') + t.queryOptions.withInterval('1m')
        + t.queryOptions.withMaxDataPoints(100) + t.queryOptions.withTimeFrom('now-1d')
        + t.queryOptions.withTargets(g.query.prometheus.new('prom', 'up'))
        + t.queryOptions.withTargetsMixin([g.query.prometheus.new('prom', 'down')])
        + t.queryOptions.withTransformations(t.queryOptions.transformation.withId('merge'))
        + t.queryOptions.withTransformationsMixin([t.queryOptions.transformation.withId('organize')
                                                  + t.queryOptions.transformation.withOptions({ a: 1 })])
        """
    )
    assert p["description"] == "d" and p["repeat"] == "job" and p["transparent"] is True
    assert p["links"] == [{"title": "l", "url": "/u"}]
    assert p["datasource"] == {"type": "prometheus", "uid": "prom"}
    assert p["interval"] == "1m" and p["maxDataPoints"] == 100 and p["timeFrom"] == "now-1d"
    assert [t["expr"] for t in p["targets"]] == ["up", "down"]
    assert p["transformations"] == [{"id": "merge"}, {"id": "organize", "options": {"a": 1}}]


def test_overrides_by_name_and_query():
    p = ev(
        """
        local o = g.panel.timeSeries.standardOptions.override;
        g.panel.timeSeries.standardOptions.withOverrides([
          o.byName.new('max') + o.byName.withProperty('color', { mode: 'fixed' }) + o.byName.withProperty('custom.lineWidth', 2),
        ])
        + g.panel.timeSeries.standardOptions.withOverridesMixin(
          o.byQuery.new('B') + o.byQuery.withPropertiesFromOptions(
            g.panel.timeSeries.standardOptions.withUnit('s')
            + g.panel.timeSeries.fieldConfig.defaults.custom.withFillOpacity(0)))
        """
    )
    assert p["fieldConfig"]["overrides"] == [
        {
            "matcher": {"id": "byName", "options": "max"},
            "properties": [{"id": "color", "value": {"mode": "fixed"}}, {"id": "custom.lineWidth", "value": 2}],
        },
        {
            "matcher": {"id": "byFrameRefID", "options": "B"},
            "properties": [{"id": "custom.fillOpacity", "value": 0}, {"id": "unit", "value": "s"}],
        },
    ]


def test_time_series_options_and_custom_field_config():
    p = ev(
        """
        local t = g.panel.timeSeries, c = t.fieldConfig.defaults.custom;
        t.options.legend.withDisplayMode('table') + t.options.legend.withPlacement('right')
        + t.options.legend.withShowLegend() + t.options.legend.withCalcs(['mean', 'max'])
        + t.options.legend.withAsTable() + t.options.tooltip.withMode('multi') + t.options.tooltip.withSort('desc')
        + c.withDrawStyle('bars') + c.withLineWidth(1) + c.withFillOpacity(10) + c.withGradientMode('opacity')
        + c.withShowPoints('never') + c.withSpanNulls(true) + c.stacking.withMode('normal')
        + c.withAxisSoftMin(0) + c.withAxisLabel('req/s') + c.thresholdsStyle.withMode('line')
        + c.withBarAlignment(0)
        """
    )
    assert p["options"] == {
        "legend": {
            "displayMode": "table",
            "placement": "right",
            "showLegend": True,
            "calcs": ["mean", "max"],
            "asTable": True,
        },
        "tooltip": {"mode": "multi", "sort": "desc"},
    }
    assert p["fieldConfig"]["defaults"]["custom"] == {
        "drawStyle": "bars",
        "lineWidth": 1,
        "fillOpacity": 10,
        "gradientMode": "opacity",
        "showPoints": "never",
        "spanNulls": True,
        "stacking": {"mode": "normal"},
        "axisSoftMin": 0,
        "axisLabel": "req/s",
        "thresholdsStyle": {"mode": "line"},
        "barAlignment": 0,
    }


def test_legend_defaults_match_grafonnet():
    p = ev("local l = g.panel.timeSeries.options.legend; l.withDisplayMode() + l.withPlacement()")
    assert p == {"options": {"legend": {"displayMode": "list", "placement": "bottom"}}}


def test_stat_gauge_bargauge_options():
    s = ev(
        """
        local o = g.panel.stat.options;
        o.reduceOptions.withCalcs('lastNotNull') + o.reduceOptions.withFields('/^value$/') + o.reduceOptions.withValues(false)
        + o.withColorMode('background') + o.withGraphMode('none') + o.withTextMode('value')
        + o.withJustifyMode('center') + o.withOrientation('horizontal')
        """
    )
    assert s["options"] == {
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "/^value$/", "values": False},
        "colorMode": "background",
        "graphMode": "none",
        "textMode": "value",
        "justifyMode": "center",
        "orientation": "horizontal",
    }
    gauge = ev(
        "g.panel.gauge.options.withShowThresholdMarkers() + g.panel.gauge.options.reduceOptions.withCalcs(['mean'])"
    )
    assert gauge["options"] == {"showThresholdMarkers": True, "reduceOptions": {"calcs": ["mean"]}}
    bar = ev("g.panel.barGauge.options.withDisplayMode() + g.panel.barGauge.options.withOrientation('horizontal')")
    assert bar["options"] == {"displayMode": "gradient", "orientation": "horizontal"}


def test_table_options_and_custom():
    p = ev(
        """
        local t = g.panel.table;
        t.options.withShowHeader() + t.options.withSortBy(t.options.sortBy.withDisplayName('p95') + t.options.sortBy.withDesc())
        + t.options.footer.withShow(false) + t.fieldConfig.defaults.custom.withAlign('left')
        + t.fieldConfig.defaults.custom.cellOptions.TableColoredBackgroundCellOptions.withType()
        + t.fieldConfig.defaults.custom.cellOptions.TableColoredBackgroundCellOptions.withMode('gradient')
        """
    )
    assert p["options"] == {
        "showHeader": True,
        "sortBy": [{"displayName": "p95", "desc": True}],
        "footer": {"show": False},
    }
    assert p["fieldConfig"]["defaults"]["custom"] == {
        "align": "left",
        "cellOptions": {"type": "color-background", "mode": "gradient"},
    }


def test_pie_chart_and_heatmap_options():
    pie = ev(
        """
        local o = g.panel.pieChart.options;
        o.withPieType('donut') + o.legend.withValues(['percent']) + o.withDisplayLabels('name')
        + o.reduceOptions.withCalcs('lastNotNull')
        """
    )
    assert pie["options"] == {
        "pieType": "donut",
        "legend": {"values": ["percent"]},
        "displayLabels": ["name"],
        "reduceOptions": {"calcs": ["lastNotNull"]},
    }
    heat = ev(
        """
        local o = g.panel.heatmap.options;
        o.withCalculate(false) + o.color.withMode('scheme') + o.color.withScheme('Oranges')
        + o.color.withScale('exponential') + o.yAxis.withUnit('s') + o.withCellGap(1)
        + o.filterValues.withLe(1e-9) + o.rowsFrame.withLayout('le')
        """
    )
    assert heat["options"] == {
        "calculate": False,
        "color": {"mode": "scheme", "scheme": "Oranges", "scale": "exponential"},
        "yAxis": {"unit": "s"},
        "cellGap": 1,
        "filterValues": {"le": 1e-9},
        "rowsFrame": {"layout": "le"},
    }


def test_row_panel():
    r = ev("g.panel.row.new('API') + g.panel.row.withCollapsed(true) + g.panel.row.withPanels(g.panel.stat.new('s'))")
    assert r["type"] == "row" and r["title"] == "API" and r["collapsed"] is True
    assert r["gridPos"] == {"x": 0, "h": 1, "w": 24}
    assert [p["title"] for p in r["panels"]] == ["s"]


# --- prometheus query -----------------------------------------------------------------------


def test_prometheus_query():
    q = ev(
        """
        local p = g.query.prometheus;
        p.new('prometheus', 'sum(rate(x[$__rate_interval]))') + p.withLegendFormat('{{status}}')
        + p.withInstant() + p.withRange(false) + p.withFormat('heatmap') + p.withInterval('1m')
        + p.withIntervalFactor(2) + p.withRefId('B') + p.withEditorMode('code') + p.withExemplar(false) + p.withHide(false)
        """
    )
    assert q == {
        "datasource": {"type": "prometheus", "uid": "prometheus"},
        "expr": "sum(rate(x[$__rate_interval]))",
        "legendFormat": "{{status}}",
        "instant": True,
        "range": False,
        "format": "heatmap",
        "interval": "1m",
        "intervalFactor": 2,
        "refId": "B",
        "editorMode": "code",
        "exemplar": False,
        "hide": False,
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
        + db.graphTooltip.withSharedTooltip() + db.timepicker.withRefreshIntervals(['30s', '1m'])
        + db.withLinks([
          db.link.dashboards.new('bo1', ['bo1']) + db.link.dashboards.options.withAsDropdown(false)
          + db.link.dashboards.options.withKeepTime() + db.link.dashboards.options.withIncludeVars(),
          db.link.link.new('runbook', 'https://example.invalid/runbook'),
        ])
        + db.withAnnotations([db.annotation.withName('deploys') + db.annotation.withEnable()])
        """
    )
    assert d["uid"] == "bo1-api" and d["description"] == "d" and d["tags"] == ["bo1"]
    assert d["timezone"] == "browser" and d["refresh"] == "30s" and d["editable"] is False
    assert d["time"] == {"from": "now-1h", "to": "now"}
    assert d["graphTooltip"] == 2
    assert d["timepicker"] == {"refresh_intervals": ["30s", "1m"]}
    assert d["links"] == [
        {
            "title": "bo1",
            "type": "dashboards",
            "tags": ["bo1"],
            "asDropdown": False,
            "keepTime": True,
            "includeVars": True,
        },
        {"title": "runbook", "type": "link", "url": "https://example.invalid/runbook"},
    ]
    assert d["annotations"] == {"list": [{"name": "deploys", "enable": True}]}


def test_with_panels_numbers_ids_including_row_children():
    d = ev(
        """
        local s = g.panel.stat.new('s');
        g.dashboard.withPanels([s, g.panel.row.new('r') + g.panel.row.withPanels([s, s]), s])
        """
    )
    ids = [p["id"] for p in d["panels"]]
    assert ids == [1, 2, 5]
    assert [p["id"] for p in d["panels"][1]["panels"]] == [3, 4]
    kept = ev("g.dashboard.withPanels([{ type: 'stat', id: 9 }], setPanelIDs=false)")
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
        + q.withRegex('/bo1.*/') + q.withSort(asc=false) + q.refresh.onTime()
        + q.generalOptions.showOnDashboard.withValueOnly()
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
        "regex": "/bo1.*/",
        "sort": 2,
        "refresh": 2,
        "hide": 1,
    }
    assert ev("g.dashboard.variable.query.queryTypes.withLabelValues('handler')") == {"query": "label_values(handler)"}
    assert ev("g.dashboard.variable.query.selectionOptions.withIncludeAll()") == {"includeAll": True}
    assert ev("g.dashboard.variable.query.refresh.onLoad()") == {"refresh": 1}
    assert ev("g.dashboard.variable.query.withSort(0, 'numerical')") == {"sort": 3}
    assert ev("g.dashboard.variable.query.withSort(5)") == {"sort": 5}


def test_datasource_variable_and_from_variable():
    v = ev(
        """
        local ds = g.dashboard.variable.datasource.new('datasource', 'prometheus');
        { ds: ds, q: g.dashboard.variable.query.new('job') + g.dashboard.variable.query.withDatasourceFromVariable(ds) }
        """
    )
    assert v["ds"] == {"name": "datasource", "type": "datasource", "query": "prometheus"}
    assert v["q"]["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


def test_custom_constant_interval_variables():
    v = ev(
        """
        local var = g.dashboard.variable;
        {
          custom: var.custom.new('q', ['0.5', { key: 'p95', value: '0.95' }]) + var.custom.selectionOptions.withMulti(),
          constant: var.constant.new('sel', 'job="x"'),
          interval: var.interval.new('w', ['1m', '5m']),
          current: var.custom.selectionOptions.withMulti() + var.custom.generalOptions.withCurrent('a'),
        }
        """
    )
    assert v["custom"]["query"] == "0.5 : 0.5,p95 : 0.95"
    assert v["custom"]["current"] == {"selected": False, "text": ["0.5"], "value": ["0.5"]}
    assert v["custom"]["options"][1] == {"selected": False, "text": "p95", "value": "0.95"}
    assert v["constant"] == {"name": "sel", "type": "constant", "hide": 2, "query": 'job="x"'}
    assert v["interval"]["query"] == "1m,5m"
    assert v["interval"]["current"] == {"selected": False, "text": "1m", "value": "1m"}
    assert v["current"]["current"] == {"selected": False, "text": ["a"], "value": ["a"]}


# --- util.grid ------------------------------------------------------------------------------


def test_make_grid_flows_panels_and_rows():
    pos = ev(
        """
        local s = g.panel.stat.new('s'), r = g.panel.row.new('r');
        [p.gridPos for p in g.util.grid.makeGrid([s, s, s, s, r, s], panelWidth=8, panelHeight=4)]
        """
    )
    assert pos == [
        {"x": 0, "y": 0, "w": 8, "h": 4},
        {"x": 8, "y": 0, "w": 8, "h": 4},
        {"x": 16, "y": 0, "w": 8, "h": 4},
        {"x": 0, "y": 4, "w": 8, "h": 4},
        {"x": 0, "y": 8, "w": 24, "h": 1},
        {"x": 0, "y": 9, "w": 8, "h": 4},
    ]


def test_make_grid_start_y_and_collapsed_row_keeps_panels_inside():
    out = ev(
        """
        local s = g.panel.stat.new('s'), r = g.panel.row.new('r') + g.panel.row.withCollapsed(true);
        g.util.grid.makeGrid([s, r, s, s], panelWidth=12, panelHeight=6, startY=10)
        """
    )
    assert [p["type"] for p in out] == ["stat", "row"]
    assert out[0]["gridPos"] == {"x": 0, "y": 10, "w": 12, "h": 6}
    assert out[1]["gridPos"]["y"] == 16
    assert [p["gridPos"]["x"] for p in out[1]["panels"]] == [0, 12]


def test_wrap_panels_keeps_sizes_and_wraps_at_24_columns():
    pos = ev(
        """
        local s = g.panel.stat.new('s');
        local wide = s + g.panel.stat.panelOptions.withGridPos(w=12, h=6);
        [p.gridPos for p in g.util.grid.wrapPanels([wide, s, s, wide], panelWidth=6, panelHeight=6, startY=1)]
        """
    )
    assert pos == [
        {"x": 0, "y": 1, "w": 12, "h": 6},
        {"x": 12, "y": 1, "w": 6, "h": 6},
        {"x": 18, "y": 1, "w": 6, "h": 6},
        {"x": 0, "y": 7, "w": 12, "h": 6},
    ]


def test_util_panel_set_ref_ids():
    p = ev("g.util.panel.setRefIDs({ targets: [{}, {}, { refId: 'Z' }] })")
    assert [t["refId"] for t in p["targets"]] == ["A", "B", "C"]


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
