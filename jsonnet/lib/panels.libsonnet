// Panel builders shared by the four dashboards. Each takes the datasource and targets from the
// caller and sets the things every panel must have: title, description, unit, datasource, refIds.
local g = import 'g.libsonnet';

local refIds(targets) = [
  targets[i] { refId: std.char(std.codepoint('A') + i) }
  for i in std.range(0, std.length(targets) - 1)
];

local base(p, title, description, unit, ds, targets) =
  p.new(title)
  + p.panelOptions.withDescription(description)
  + p.standardOptions.withUnit(unit)
  + p.queryOptions.withDatasource(ds.type, ds.uid)
  + p.queryOptions.withTargets(refIds(targets));

// Green below `warn`, amber from `warn`, red from `crit` (or the reverse when lowIsBad).
local steps(warn, crit, lowIsBad=false) =
  if lowIsBad then [
    { color: 'red', value: null },
    { color: 'orange', value: crit },
    { color: 'green', value: warn },
  ] else [
    { color: 'green', value: null },
    { color: 'orange', value: warn },
    { color: 'red', value: crit },
  ];

local withThresholds(p, warn, crit, lowIsBad=false) =
  if warn == null then {} else
    p.standardOptions.thresholds.withMode('absolute')
    + p.standardOptions.thresholds.withSteps(steps(warn, crit, lowIsBad));

{
  steps:: steps,

  // --- Targets -------------------------------------------------------------------------------
  // A range query on the Prometheus datasource of _config.
  prom(c, expr, legend=null)::
    g.query.prometheus.new(c.datasources.prometheus.uid, expr)
    + (if legend == null then {} else g.query.prometheus.withLegendFormat(legend)),

  // An instant query (stat-like panels and tables showing "now" or "over the range").
  promInstant(c, expr, legend=null, format=null)::
    self.prom(c, expr, legend)
    + g.query.prometheus.withInstant(true)
    + g.query.prometheus.withRange(false)
    + (if format == null then {} else g.query.prometheus.withFormat(format)),

  // A raw SQL target on the Postgres datasource of _config (grafonnet has no SQL query builder).
  sql(c, rawSql, format='table'):: {
    datasource: { type: c.datasources.postgres.type, uid: c.datasources.postgres.uid },
    editorMode: 'code',
    format: format,
    rawQuery: true,
    rawSql: rawSql,
  },

  // --- Panels --------------------------------------------------------------------------------
  // `live` (e.g. '1h'): the panel always shows that last stretch, whatever the dashboard's range.
  timeseries(ds, title, description, unit, targets, stack=false, bars=false, warn=null, crit=null, min=0, live=null)::
    local p = g.panel.timeSeries;
    base(p, title, description, unit, ds, targets)
    + (if live == null then {} else p.queryOptions.withTimeFrom(live))
    + p.standardOptions.withMin(min)
    + p.options.tooltip.withMode('multi')
    + p.options.tooltip.withSort('desc')
    + p.options.legend.withDisplayMode('list')
    + p.options.legend.withPlacement('bottom')
    + p.fieldConfig.defaults.custom.withFillOpacity(if stack || bars then 60 else 10)
    + p.fieldConfig.defaults.custom.withShowPoints('never')
    + (if bars then p.fieldConfig.defaults.custom.withDrawStyle('bars') else {})
    + (if stack then p.fieldConfig.defaults.custom.stacking.withMode('normal') else {})
    + (if warn == null then {} else
         withThresholds(p, warn, crit)
         + p.fieldConfig.defaults.custom.thresholdsStyle.withMode('line')),

  stat(ds, title, description, unit, targets, warn=null, crit=null, lowIsBad=false, decimals=null)::
    local p = g.panel.stat;
    base(p, title, description, unit, ds, targets)
    + p.options.reduceOptions.withCalcs(['lastNotNull'])
    + p.options.withColorMode(if warn == null then 'none' else 'value')
    + p.options.withGraphMode('none')
    + p.options.withTextMode('value')
    + (if decimals == null then {} else p.standardOptions.withDecimals(decimals))
    + withThresholds(p, warn, crit, lowIsBad),

  gauge(ds, title, description, unit, targets, max, warn, crit, decimals=null)::
    local p = g.panel.gauge;
    base(p, title, description, unit, ds, targets)
    + p.standardOptions.withMin(0)
    + p.standardOptions.withMax(max)
    + p.options.reduceOptions.withCalcs(['lastNotNull'])
    + p.options.withShowThresholdMarkers(true)
    + (if decimals == null then {} else p.standardOptions.withDecimals(decimals))
    + withThresholds(p, warn, crit),

  table(ds, title, description, unit, targets, sortBy)::
    local p = g.panel.table;
    base(p, title, description, unit, ds, targets)
    + p.options.withShowHeader(true)
    + p.options.withSortBy([{ displayName: sortBy, desc: true }]),

  pie(ds, title, description, unit, targets)::
    local p = g.panel.pieChart;
    base(p, title, description, unit, ds, targets)
    + p.options.withPieType('donut')
    + p.options.reduceOptions.withValues(true)
    + p.options.reduceOptions.withCalcs(['lastNotNull'])
    + p.options.legend.withDisplayMode('table')
    + p.options.legend.withPlacement('right')
    + p.options.legend.withValues(['value', 'percent']),

  heatmap(ds, title, description, unit, targets)::
    local p = g.panel.heatmap;
    base(p, title, description, unit, ds, targets)
    + p.options.withCalculate(false)
    + p.options.color.withMode('scheme')
    + p.options.color.withScheme('Oranges')
    + p.options.yAxis.withUnit(unit)
    + p.options.rowsFrame.withLayout('ge')
    + p.options.tooltip.withMode('single'),

  // UP/DOWN of a scrape target; no series at all shows "NO DATA", never UP.
  targetStatus(ds, title, description, targets)::
    local p = g.panel.stat;
    base(p, title, description, 'none', ds, targets)
    + p.options.reduceOptions.withCalcs(['lastNotNull'])
    + p.options.withColorMode('background')
    + p.options.withGraphMode('none')
    + p.options.withTextMode('value')
    + p.standardOptions.withNoValue('NO DATA')
    + p.standardOptions.withMappings([{
      type: 'value',
      options: {
        '0': { text: 'DOWN', color: 'red', index: 0 },
        '1': { text: 'UP', color: 'green', index: 1 },
      },
    }])
    + p.standardOptions.thresholds.withMode('absolute')
    + p.standardOptions.thresholds.withSteps([{ color: 'red', value: null }, { color: 'green', value: 1 }]),
}
