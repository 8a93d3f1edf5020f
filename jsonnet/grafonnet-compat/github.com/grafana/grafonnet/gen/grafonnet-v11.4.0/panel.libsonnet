// bo1 grafonnet-compat: panel.<type> for the six panel types the bo1 mixin uses, with the
// setters it calls. Every type shares panelOptions, queryOptions and standardOptions.
local asArray(v) = if std.isArray(v) then v else [v];

local fieldDefaults(fields) = { fieldConfig+: { defaults+: fields } };
local custom(fields) = fieldDefaults({ custom+: fields });
local options(fields) = { options+: fields };

local base(type) = {
  // Title, type, pluginVersion and the Mixed datasource, as grafonnet v11.4.0's new() emits them.
  new(title)::
    self.panelOptions.withTitle(title)
    + self.panelOptions.withType()
    + self.panelOptions.withPluginVersion()
    + self.queryOptions.withDatasource('datasource', '-- Mixed --'),

  panelOptions:: {
    withTitle(value):: { title: value },
    withType():: { type: type },
    withPluginVersion():: { pluginVersion: 'v11.4.0' },
    withDescription(value):: { description: value },
  },

  queryOptions:: {
    withDatasource(type, uid):: { datasource+: { type: type, uid: uid } },
    withTargets(value):: { targets: asArray(value) },
    withTimeFrom(value):: { timeFrom: value },
  },

  standardOptions:: {
    withUnit(value):: fieldDefaults({ unit: value }),
    withMin(value):: fieldDefaults({ min: value }),
    withMax(value):: fieldDefaults({ max: value }),
    withDecimals(value):: fieldDefaults({ decimals: value }),
    withNoValue(value):: fieldDefaults({ noValue: value }),
    withMappings(value):: fieldDefaults({ mappings: asArray(value) }),
    thresholds:: {
      withMode(value):: fieldDefaults({ thresholds+: { mode: value } }),
      withSteps(value):: fieldDefaults({ thresholds+: { steps: asArray(value) } }),
    },
  },
};

local reduceOptions = {
  withCalcs(value):: options({ reduceOptions+: { calcs: asArray(value) } }),
};

local legend = {
  withDisplayMode(value='list'):: options({ legend+: { displayMode: value } }),
  withPlacement(value='bottom'):: options({ legend+: { placement: value } }),
};

{
  timeSeries: base('timeseries') {
    options:: {
      legend:: legend,
      tooltip:: {
        withMode(value):: options({ tooltip+: { mode: value } }),
        withSort(value):: options({ tooltip+: { sort: value } }),
      },
    },
    fieldConfig:: { defaults:: { custom:: {
      withDrawStyle(value):: custom({ drawStyle: value }),
      withFillOpacity(value):: custom({ fillOpacity: value }),
      withShowPoints(value):: custom({ showPoints: value }),
      stacking:: { withMode(value):: custom({ stacking+: { mode: value } }) },
      thresholdsStyle:: { withMode(value):: custom({ thresholdsStyle+: { mode: value } }) },
    } } },
  },

  stat: base('stat') {
    options:: {
      reduceOptions:: reduceOptions,
      withColorMode(value='value'):: options({ colorMode: value }),
      withGraphMode(value='area'):: options({ graphMode: value }),
      withTextMode(value='auto'):: options({ textMode: value }),
    },
  },

  gauge: base('gauge') {
    options:: {
      reduceOptions:: reduceOptions,
      withShowThresholdMarkers(value=true):: options({ showThresholdMarkers: value }),
    },
  },

  table: base('table') {
    options:: {
      withShowHeader(value=true):: options({ showHeader: value }),
      withSortBy(value):: options({ sortBy: asArray(value) }),
    },
  },

  pieChart: base('piechart') {
    options:: {
      withPieType(value):: options({ pieType: value }),
      reduceOptions:: reduceOptions {
        withValues(value=true):: options({ reduceOptions+: { values: value } }),
      },
      legend:: legend {
        withValues(value):: options({ legend+: { values: asArray(value) } }),
      },
    },
  },

  heatmap: base('heatmap') {
    options:: {
      withCalculate(value=true):: options({ calculate: value }),
      color:: {
        withMode(value):: options({ color+: { mode: value } }),
        withScheme(value):: options({ color+: { scheme: value } }),
      },
      rowsFrame:: { withLayout(value):: options({ rowsFrame+: { layout: value } }) },
      tooltip:: { withMode(value):: options({ tooltip+: { mode: value } }) },
      yAxis:: { withUnit(value):: options({ yAxis+: { unit: value } }) },
    },
  },
}
