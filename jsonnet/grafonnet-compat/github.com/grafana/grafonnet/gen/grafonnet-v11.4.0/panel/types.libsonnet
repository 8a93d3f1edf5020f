// bo1 grafonnet-compat: per-type `options` and `fieldConfig.defaults.custom` namespaces.
local b = import '../build.libsonnet';
local c = import 'common.libsonnet';

local O = ['options'];
local C = ['fieldConfig', 'defaults', 'custom'];

// options.legend / options.tooltip / withLegend / withTooltip as most chart types have them.
local legendAndTooltip = {
  withLegend:: b.set(O, 'legend'),
  withLegendMixin:: b.mix(O, 'legend'),
  legend:: c.legend(O + ['legend']),
  withTooltip:: b.set(O, 'tooltip'),
  withTooltipMixin:: b.mix(O, 'tooltip'),
  tooltip:: c.tooltip(O + ['tooltip']),
};

// reduceOptions, orientation and text of single-value panels (stat, gauge, barGauge, pieChart).
local singleStat = {
  withOrientation:: b.set(O, 'orientation'),
  withReduceOptions:: b.set(O, 'reduceOptions'),
  withReduceOptionsMixin:: b.mix(O, 'reduceOptions'),
  reduceOptions:: c.reduceOptions(O + ['reduceOptions']),
  withText:: b.set(O, 'text'),
  withTextMixin:: b.mix(O, 'text'),
  text:: c.text(O + ['text']),
};

local hideFromCustom = {
  withHideFrom:: b.set(C, 'hideFrom'),
  withHideFromMixin:: b.mix(C, 'hideFrom'),
  hideFrom:: c.hideFrom(C + ['hideFrom']),
};

// Custom field config of timeseries-like graphs (GraphFieldConfig).
local graphCustom = c.axis(C) + hideFromCustom + {
  withBarAlignment:: b.set(C, 'barAlignment'),
  withBarMaxWidth:: b.set(C, 'barMaxWidth'),
  withBarWidthFactor:: b.set(C, 'barWidthFactor'),
  withDrawStyle:: b.set(C, 'drawStyle'),
  withFillBelowTo:: b.set(C, 'fillBelowTo'),
  withFillColor:: b.set(C, 'fillColor'),
  withFillOpacity:: b.set(C, 'fillOpacity'),
  withGradientMode:: b.set(C, 'gradientMode'),
  withInsertNulls:: b.set(C, 'insertNulls'),
  withLineColor:: b.set(C, 'lineColor'),
  withLineInterpolation:: b.set(C, 'lineInterpolation'),
  withLineStyle:: b.set(C, 'lineStyle'),
  withLineStyleMixin:: b.mix(C, 'lineStyle'),
  lineStyle:: {
    withDash:: b.list(C + ['lineStyle'], 'dash'),
    withDashMixin:: b.listMix(C + ['lineStyle'], 'dash'),
    withFill:: b.set(C + ['lineStyle'], 'fill'),
  },
  withLineWidth:: b.set(C, 'lineWidth'),
  withPointColor:: b.set(C, 'pointColor'),
  withPointSize:: b.set(C, 'pointSize'),
  withPointSymbol:: b.set(C, 'pointSymbol'),
  withShowPoints:: b.set(C, 'showPoints'),
  withSpanNulls:: b.set(C, 'spanNulls'),
  withStacking:: b.set(C, 'stacking'),
  withStackingMixin:: b.mix(C, 'stacking'),
  stacking:: {
    withGroup:: b.set(C + ['stacking'], 'group'),
    withMode:: b.set(C + ['stacking'], 'mode'),
  },
  withThresholdsStyle:: b.set(C, 'thresholdsStyle'),
  withThresholdsStyleMixin:: b.mix(C, 'thresholdsStyle'),
  thresholdsStyle:: {
    withMode:: b.set(C + ['thresholdsStyle'], 'mode'),
  },
  withTransform:: b.set(C, 'transform'),
};

local kind(type, extra) = c.base(type) + extra;

// cellOptions members write straight into fieldConfig.defaults.custom.cellOptions.
local cellKind(typeName, fields) =
  { withType():: b.put(C + ['cellOptions', 'type'], typeName) }
  + std.foldl(
    function(acc, f) acc { [f]:: b.set(C + ['cellOptions'], fields[f]) },
    std.objectFields(fields),
    {}
  );

{
  timeSeries: kind('timeseries', {
    options:: legendAndTooltip {
      withOrientation:: b.set(O, 'orientation'),
      withTimezone:: b.list(O, 'timezone'),
      withTimezoneMixin:: b.listMix(O, 'timezone'),
    },
    fieldConfig:: { defaults:: { custom:: graphCustom } },
  }),

  stat: kind('stat', {
    options:: singleStat {
      withColorMode:: b.setOr(O, 'colorMode', 'value'),
      withGraphMode:: b.setOr(O, 'graphMode', 'area'),
      withJustifyMode:: b.setOr(O, 'justifyMode', 'auto'),
      withTextMode:: b.setOr(O, 'textMode', 'auto'),
      withPercentChangeColorMode:: b.setOr(O, 'percentChangeColorMode', 'standard'),
      withShowPercentChange:: b.setOr(O, 'showPercentChange', true),
      withWideLayout:: b.setOr(O, 'wideLayout', true),
    },
  }),

  gauge: kind('gauge', {
    options:: singleStat {
      withMinVizHeight:: b.setOr(O, 'minVizHeight', 75),
      withMinVizWidth:: b.setOr(O, 'minVizWidth', 75),
      withShowThresholdLabels:: b.setOr(O, 'showThresholdLabels', true),
      withShowThresholdMarkers:: b.setOr(O, 'showThresholdMarkers', true),
      withSizing:: b.setOr(O, 'sizing', 'auto'),
    },
  }),

  barGauge: kind('bargauge', {
    options:: singleStat {
      withDisplayMode:: b.setOr(O, 'displayMode', 'gradient'),
      withLegend:: b.set(O, 'legend'),
      withLegendMixin:: b.mix(O, 'legend'),
      legend:: c.legend(O + ['legend']),
      withMaxVizHeight:: b.setOr(O, 'maxVizHeight', 300),
      withMinVizHeight:: b.setOr(O, 'minVizHeight', 16),
      withMinVizWidth:: b.setOr(O, 'minVizWidth', 8),
      withNamePlacement:: b.setOr(O, 'namePlacement', 'auto'),
      withShowUnfilled:: b.setOr(O, 'showUnfilled', true),
      withSizing:: b.setOr(O, 'sizing', 'auto'),
      withValueMode:: b.setOr(O, 'valueMode', 'color'),
    },
  }),

  table: kind('table', {
    options:: {
      withCellHeight:: b.setOr(O, 'cellHeight', 'sm'),
      withFooter:: b.setOr(O, 'footer', { countRows: false, reducer: null, show: false }),
      withFooterMixin:: function(value={ countRows: false, reducer: null, show: false }) b.add(O + ['footer'], value),
      footer:: {
        withCountRows:: b.setOr(O + ['footer'], 'countRows', true),
        withEnablePagination:: b.setOr(O + ['footer'], 'enablePagination', true),
        withFields:: b.list(O + ['footer'], 'fields'),
        withFieldsMixin:: b.listMix(O + ['footer'], 'fields'),
        withReducer:: b.list(O + ['footer'], 'reducer'),
        withReducerMixin:: b.listMix(O + ['footer'], 'reducer'),
        withShow:: b.setOr(O + ['footer'], 'show', true),
      },
      withFrameIndex:: b.setOr(O, 'frameIndex', 0),
      withShowHeader:: b.setOr(O, 'showHeader', true),
      withShowTypeIcons:: b.setOr(O, 'showTypeIcons', true),
      withSortBy:: b.list(O, 'sortBy'),
      withSortByMixin:: b.listMix(O, 'sortBy'),
      // Items of options.sortBy.
      sortBy:: {
        withDesc(value=true):: { desc: value },
        withDisplayName(value):: { displayName: value },
      },
    },
    fieldConfig:: { defaults:: { custom:: {
      withAlign:: b.setOr(C, 'align', 'auto'),
      withCellOptions:: b.set(C, 'cellOptions'),
      withCellOptionsMixin:: b.mix(C, 'cellOptions'),
      cellOptions:: {
        TableAutoCellOptions:: cellKind('auto', { withWrapText: 'wrapText' }),
        TableBarGaugeCellOptions:: cellKind('gauge', { withMode: 'mode', withValueDisplayMode: 'valueDisplayMode' }),
        TableColorTextCellOptions:: cellKind('color-text', { withWrapText: 'wrapText' }),
        TableColoredBackgroundCellOptions:: cellKind('color-background', { withApplyToRow: 'applyToRow', withMode: 'mode', withWrapText: 'wrapText' }),
        TableDataLinksCellOptions:: cellKind('data-links', {}),
        TableImageCellOptions:: cellKind('image', { withAlt: 'alt', withTitle: 'title' }),
        TableJsonViewCellOptions:: cellKind('json-view', {}),
        TableSparklineCellOptions:: cellKind('sparkline', {}),
      },
      withDisplayMode:: b.set(C, 'displayMode'),
      withFilterable:: b.setOr(C, 'filterable', true),
      withHidden:: b.setOr(C, 'hidden', true),
      withHideHeader:: b.setOr(C, 'hideHeader', true),
      withInspect:: b.setOr(C, 'inspect', true),
      withMinWidth:: b.set(C, 'minWidth'),
      withWidth:: b.set(C, 'width'),
    } } },
  }),

  pieChart: kind('piechart', {
    options:: singleStat + legendAndTooltip + {
      withDisplayLabels:: b.list(O, 'displayLabels'),
      withDisplayLabelsMixin:: b.listMix(O, 'displayLabels'),
      withPieType:: b.set(O, 'pieType'),
      legend+:: {
        withValues:: b.list(O + ['legend'], 'values'),
        withValuesMixin:: b.listMix(O + ['legend'], 'values'),
      },
    },
    fieldConfig:: { defaults:: { custom:: hideFromCustom } },
  }),

  heatmap: kind('heatmap', {
    local H = O,
    options:: {
      withCalculate:: b.setOr(H, 'calculate', true),
      withCalculation:: b.set(H, 'calculation'),
      withCalculationMixin:: b.mix(H, 'calculation'),
      withCellGap:: b.setOr(H, 'cellGap', 1),
      withCellRadius:: b.set(H, 'cellRadius'),
      withCellValues:: b.setOr(H, 'cellValues', {}),
      withCellValuesMixin:: function(value={}) b.add(H + ['cellValues'], value),
      cellValues:: {
        withDecimals:: b.set(H + ['cellValues'], 'decimals'),
        withUnit:: b.set(H + ['cellValues'], 'unit'),
      },
      withColor:: b.set(H, 'color'),
      withColorMixin:: b.mix(H, 'color'),
      color:: {
        withExponent:: b.set(H + ['color'], 'exponent'),
        withFill:: b.set(H + ['color'], 'fill'),
        withMax:: b.set(H + ['color'], 'max'),
        withMin:: b.set(H + ['color'], 'min'),
        withMode:: b.set(H + ['color'], 'mode'),
        withReverse:: b.setOr(H + ['color'], 'reverse', true),
        withScale:: b.set(H + ['color'], 'scale'),
        withScheme:: b.set(H + ['color'], 'scheme'),
        withSteps:: b.set(H + ['color'], 'steps'),
      },
      withExemplars:: b.set(H, 'exemplars'),
      withExemplarsMixin:: b.mix(H, 'exemplars'),
      exemplars:: { withColor:: b.set(H + ['exemplars'], 'color') },
      withFilterValues:: b.set(H, 'filterValues'),
      withFilterValuesMixin:: b.mix(H, 'filterValues'),
      filterValues:: {
        withGe:: b.set(H + ['filterValues'], 'ge'),
        withLe:: b.set(H + ['filterValues'], 'le'),
      },
      withLegend:: b.set(H, 'legend'),
      withLegendMixin:: b.mix(H, 'legend'),
      legend:: { withShow:: b.setOr(H + ['legend'], 'show', true) },
      withRowsFrame:: b.set(H, 'rowsFrame'),
      withRowsFrameMixin:: b.mix(H, 'rowsFrame'),
      rowsFrame:: {
        withLayout:: b.set(H + ['rowsFrame'], 'layout'),
        withValue:: b.set(H + ['rowsFrame'], 'value'),
      },
      withShowValue:: b.set(H, 'showValue'),
      withTooltip:: b.set(H, 'tooltip'),
      withTooltipMixin:: b.mix(H, 'tooltip'),
      tooltip:: {
        withMaxHeight:: b.set(H + ['tooltip'], 'maxHeight'),
        withMaxWidth:: b.set(H + ['tooltip'], 'maxWidth'),
        withMode:: b.set(H + ['tooltip'], 'mode'),
        withShowColorScale:: b.setOr(H + ['tooltip'], 'showColorScale', true),
        withYHistogram:: b.setOr(H + ['tooltip'], 'yHistogram', true),
      },
      withYAxis:: b.set(H, 'yAxis'),
      withYAxisMixin:: b.mix(H, 'yAxis'),
      yAxis:: c.axis(H + ['yAxis']) + {
        withDecimals:: b.set(H + ['yAxis'], 'decimals'),
        withMax:: b.set(H + ['yAxis'], 'max'),
        withMin:: b.set(H + ['yAxis'], 'min'),
        withReverse:: b.setOr(H + ['yAxis'], 'reverse', true),
        withUnit:: b.set(H + ['yAxis'], 'unit'),
      },
    },
    fieldConfig:: { defaults:: { custom:: hideFromCustom {
      withScaleDistribution:: b.set(C, 'scaleDistribution'),
      withScaleDistributionMixin:: b.mix(C, 'scaleDistribution'),
      scaleDistribution:: c.axis(C).scaleDistribution,
    } } },
  }),

  barChart: kind('barchart', {
    options:: legendAndTooltip {
      withBarRadius:: b.setOr(O, 'barRadius', 0),
      withBarWidth:: b.setOr(O, 'barWidth', 0.97),
      withColorByField:: b.set(O, 'colorByField'),
      withFullHighlight:: b.setOr(O, 'fullHighlight', true),
      withGroupWidth:: b.setOr(O, 'groupWidth', 0.7),
      withOrientation:: b.set(O, 'orientation'),
      withShowValue:: b.set(O, 'showValue'),
      withStacking:: b.set(O, 'stacking'),
      withText:: b.set(O, 'text'),
      withTextMixin:: b.mix(O, 'text'),
      text:: c.text(O + ['text']),
      withXField:: b.set(O, 'xField'),
      withXTickLabelMaxLength:: b.set(O, 'xTickLabelMaxLength'),
      withXTickLabelRotation:: b.setOr(O, 'xTickLabelRotation', 0),
      withXTickLabelSpacing:: b.setOr(O, 'xTickLabelSpacing', 0),
    },
    fieldConfig:: { defaults:: { custom:: c.axis(C) + hideFromCustom + {
      withFillOpacity:: b.setOr(C, 'fillOpacity', 80),
      withGradientMode:: b.set(C, 'gradientMode'),
      withLineWidth:: b.setOr(C, 'lineWidth', 1),
      withThresholdsStyle:: b.set(C, 'thresholdsStyle'),
      withThresholdsStyleMixin:: b.mix(C, 'thresholdsStyle'),
      thresholdsStyle:: { withMode:: b.set(C + ['thresholdsStyle'], 'mode') },
    } } },
  }),

  stateTimeline: kind('state-timeline', {
    options:: legendAndTooltip {
      withAlignValue:: b.setOr(O, 'alignValue', 'left'),
      withMergeValues:: b.setOr(O, 'mergeValues', true),
      withPerPage:: b.setOr(O, 'perPage', 20),
      withRowHeight:: b.setOr(O, 'rowHeight', 0.9),
      withShowValue:: b.setOr(O, 'showValue', 'auto'),
      withTimezone:: b.list(O, 'timezone'),
      withTimezoneMixin:: b.listMix(O, 'timezone'),
    },
    fieldConfig:: { defaults:: { custom:: hideFromCustom {
      withFillOpacity:: b.setOr(C, 'fillOpacity', 70),
      withLineWidth:: b.setOr(C, 'lineWidth', 0),
      withInsertNulls:: b.setOr(C, 'insertNulls', null),
      withSpanNulls:: b.setOr(C, 'spanNulls', null),
    } } },
  }),

  text: kind('text', {
    options:: {
      withCode:: b.set(O, 'code'),
      withCodeMixin:: b.mix(O, 'code'),
      code:: {
        withLanguage:: b.setOr(O + ['code'], 'language', 'plaintext'),
        withShowLineNumbers:: b.setOr(O + ['code'], 'showLineNumbers', true),
        withShowMiniMap:: b.setOr(O + ['code'], 'showMiniMap', true),
      },
      withContent:: b.setOr(O, 'content', '# Title\n\nFor markdown syntax help: [commonmark.org/help](https://commonmark.org/help/)'),
      withMode:: b.setOr(O, 'mode', 'markdown'),
    },
  }),
}
