// bo1 grafonnet-compat: the parts every panel type shares (panelOptions, queryOptions,
// standardOptions, gridPos, datasource) and option blocks reused by several types.
local b = import '../build.libsonnet';

local D = ['fieldConfig', 'defaults'];

// Result of a value mapping (under options.result of a mapping entry).
local mappingResult = {
  withResult:: b.set(['options'], 'result'),
  withResultMixin:: b.mix(['options'], 'result'),
  result:: {
    withColor:: b.set(['options', 'result'], 'color'),
    withIcon:: b.set(['options', 'result'], 'icon'),
    withIndex:: b.set(['options', 'result'], 'index'),
    withText:: b.set(['options', 'result'], 'text'),
  },
};

local mappingKind(typeName, optionFields) = {
  withOptions(value):: { options: value },
  withOptionsMixin(value):: { options+: value },
  withType():: { type: typeName },
  options:: optionFields,
};

local override = {
  withMatcher(value):: { matcher: value },
  withMatcherMixin(value):: { matcher+: value },
  matcher:: {
    withId(value=''):: { matcher+: { id: value } },
    withOptions(value):: { matcher+: { options: value } },
    withOptionsMixin(value):: { matcher+: { options+: value } },
  },
  withProperties(value):: b.putList(['properties'], value),
  withPropertiesMixin(value):: b.addList(['properties'], value),
  properties:: {
    withId(value=''):: { id: value },
    withValue(value):: { value: value },
    withValueMixin(value):: { value+: value },
  },
};

// One matcher kind of override: new(value) selects the fields, then add properties.
local overrideBy(matcherId) = {
  new(value):: { matcher+: { id: matcherId } } + { matcher+: { options: value } },
  withProperty(id, value):: { properties+: [{ id: id, value: value }] },
  // Turn the fieldConfig.defaults of a panel patch into override properties ("custom.x" ids).
  withPropertiesFromOptions(options)::
    local toProperties(obj, prefix) =
      std.flattenArrays([
        if key == 'custom'
        then toProperties(obj[key], prefix + [key])
        else [{ id: std.join('.', prefix + [key]), value: obj[key] }]
        for key in std.objectFields(obj)
      ]);
    std.foldl(
      function(acc, prop) acc { properties+: [prop] },
      toProperties(options.fieldConfig.defaults, []),
      {}
    ),
};

{
  // Panel skeleton for a plugin `type`; `new(title)` emits title, type, pluginVersion and the
  // Mixed datasource, as grafonnet v11.4.0 does.
  base(type):: {
    new(title)::
      self.panelOptions.withTitle(title)
      + self.panelOptions.withType()
      + self.panelOptions.withPluginVersion()
      + self.queryOptions.withDatasource('datasource', '-- Mixed --'),

    panelOptions:: {
      withType():: { type: type },
      withPluginVersion():: { pluginVersion: 'v11.4.0' },
      withTitle(value):: { title: value },
      withDescription(value):: { description: value },
      withTransparent(value=true):: { transparent: value },
      withLinks(value):: b.putList(['links'], value),
      withLinksMixin(value):: b.addList(['links'], value),
      withMaxPerRow(value):: { maxPerRow: value },
      withRepeat(value):: { repeat: value },
      withRepeatDirection(value='h'):: { repeatDirection: value },
      // Only the given coordinates are set; null leaves a coordinate unchanged.
      withGridPos(h=null, w=null, x=null, y=null)::
        { [if h != null then 'gridPos']+: { h: h } }
        + { [if w != null then 'gridPos']+: { w: w } }
        + { [if x != null then 'gridPos']+: { x: x } }
        + { [if y != null then 'gridPos']+: { y: y } },
      link:: {
        withAsDropdown(value=true):: { asDropdown: value },
        withIcon(value):: { icon: value },
        withIncludeVars(value=true):: { includeVars: value },
        withKeepTime(value=true):: { keepTime: value },
        withTags(value):: b.putList(['tags'], value),
        withTagsMixin(value):: b.addList(['tags'], value),
        withTargetBlank(value=true):: { targetBlank: value },
        withTitle(value):: { title: value },
        withTooltip(value):: { tooltip: value },
        withType(value):: { type: value },
        withUrl(value):: { url: value },
      },
    },

    queryOptions:: {
      withDatasource(type, uid):: { datasource+: { type: type } } + { datasource+: { uid: uid } },
      withDatasourceMixin(value):: { datasource+: value },
      withHideTimeOverride(value=true):: { hideTimeOverride: value },
      withInterval(value):: { interval: value },
      withMaxDataPoints(value):: { maxDataPoints: value },
      withQueryCachingTTL(value):: { queryCachingTTL: value },
      withTargets(value):: b.putList(['targets'], value),
      withTargetsMixin(value):: b.addList(['targets'], value),
      withTimeFrom(value):: { timeFrom: value },
      withTimeShift(value):: { timeShift: value },
      withTransformations(value):: b.putList(['transformations'], value),
      withTransformationsMixin(value):: b.addList(['transformations'], value),
      transformation:: {
        withDisabled(value=true):: { disabled: value },
        withFilter(value):: { filter: value },
        withFilterMixin(value):: { filter+: value },
        filter:: {
          withId(value=''):: { filter+: { id: value } },
          withOptions(value):: { filter+: { options: value } },
          withOptionsMixin(value):: { filter+: { options+: value } },
        },
        withId(value):: { id: value },
        withOptions(value):: { options: value },
        withOptionsMixin(value):: { options+: value },
        withTopic(value):: { topic: value },
      },
    },

    standardOptions:: {
      withUnit:: b.set(D, 'unit'),
      withMin:: b.set(D, 'min'),
      withMax:: b.set(D, 'max'),
      withDecimals:: b.set(D, 'decimals'),
      withDisplayName:: b.set(D, 'displayName'),
      withNoValue:: b.set(D, 'noValue'),
      withFilterable:: b.setOr(D, 'filterable', true),
      withPath:: b.set(D, 'path'),
      withLinks:: b.list(D, 'links'),
      withLinksMixin:: b.listMix(D, 'links'),
      withMappings:: b.list(D, 'mappings'),
      withMappingsMixin:: b.listMix(D, 'mappings'),
      withOverrides:: b.list(['fieldConfig'], 'overrides'),
      withOverridesMixin:: b.listMix(['fieldConfig'], 'overrides'),
      color:: {
        withFixedColor:: b.set(D + ['color'], 'fixedColor'),
        withMode:: b.set(D + ['color'], 'mode'),
        withSeriesBy:: b.set(D + ['color'], 'seriesBy'),
      },
      thresholds:: {
        withMode:: b.set(D + ['thresholds'], 'mode'),
        withSteps:: b.list(D + ['thresholds'], 'steps'),
        withStepsMixin:: b.listMix(D + ['thresholds'], 'steps'),
      },
      threshold:: {
        step:: {
          withColor(value):: { color: value },
          withValue(value):: { value: value },
        },
      },
      mapping:: {
        ValueMap:: mappingKind('value', {}),
        RangeMap:: mappingKind('range', mappingResult {
          withFrom:: b.set(['options'], 'from'),
          withTo:: b.set(['options'], 'to'),
        }),
        RegexMap:: mappingKind('regex', mappingResult {
          withPattern:: b.set(['options'], 'pattern'),
        }),
        SpecialValueMap:: mappingKind('special', mappingResult {
          withMatch:: b.set(['options'], 'match'),
        }),
      },
      override:: override {
        byName:: overrideBy('byName'),
        byRegexp:: overrideBy('byRegexp'),
        byType:: overrideBy('byType'),
        // Grafana's matcher for "fields returned by query X" is byFrameRefID; there is no
        // 'byQuery' matcher (Grafana refuses it), grafonnet v11.4.0 emits byFrameRefID too.
        byQuery:: overrideBy('byFrameRefID'),
        byValue:: overrideBy('byValue'),
      },
    },

    gridPos:: {
      withH(value=9):: { gridPos+: { h: value } },
      withStatic(value=true):: { gridPos+: { static: value } },
      withW(value=12):: { gridPos+: { w: value } },
      withX(value=0):: { gridPos+: { x: value } },
      withY(value=0):: { gridPos+: { y: value } },
    },

    datasource:: {
      withType(value):: { datasource+: { type: value } },
      withUid(value):: { datasource+: { uid: value } },
    },

    libraryPanel:: {
      withName(value):: { libraryPanel+: { name: value } },
      withUid(value):: { libraryPanel+: { uid: value } },
    },

    // Older grafonnet names, kept by grafonnet v11.4.0 as aliases.
    link:: self.panelOptions.link,
    thresholdStep:: self.standardOptions.threshold.step,
    transformation:: self.queryOptions.transformation,
    valueMapping:: self.standardOptions.mapping,
    fieldOverride:: self.standardOptions.override,
  },

  // options.legend (VizLegendOptions) under `base`.
  legend(base):: {
    withAsTable:: b.setOr(base, 'asTable', true),
    withCalcs:: b.list(base, 'calcs'),
    withCalcsMixin:: b.listMix(base, 'calcs'),
    withDisplayMode:: b.setOr(base, 'displayMode', 'list'),
    withIsVisible:: b.setOr(base, 'isVisible', true),
    withPlacement:: b.setOr(base, 'placement', 'bottom'),
    withShowLegend:: b.setOr(base, 'showLegend', true),
    withSortBy:: b.set(base, 'sortBy'),
    withSortDesc:: b.setOr(base, 'sortDesc', true),
    withWidth:: b.set(base, 'width'),
  },

  // options.tooltip (VizTooltipOptions).
  tooltip(base):: {
    withMaxHeight:: b.set(base, 'maxHeight'),
    withMaxWidth:: b.set(base, 'maxWidth'),
    withMode:: b.set(base, 'mode'),
    withSort:: b.set(base, 'sort'),
  },

  // options.reduceOptions (ReduceDataOptions).
  reduceOptions(base):: {
    withCalcs:: b.list(base, 'calcs'),
    withCalcsMixin:: b.listMix(base, 'calcs'),
    withFields:: b.set(base, 'fields'),
    withLimit:: b.set(base, 'limit'),
    withValues:: b.setOr(base, 'values', true),
  },

  // options.text (VizTextDisplayOptions).
  text(base):: {
    withTitleSize:: b.set(base, 'titleSize'),
    withValueSize:: b.set(base, 'valueSize'),
  },

  // fieldConfig.defaults.custom.hideFrom.
  hideFrom(base):: {
    withLegend:: b.setOr(base, 'legend', true),
    withTooltip:: b.setOr(base, 'tooltip', true),
    withViz:: b.setOr(base, 'viz', true),
  },

  // Axis fields of a graph-like custom field config under `base`.
  axis(base):: {
    withAxisBorderShow:: b.setOr(base, 'axisBorderShow', true),
    withAxisCenteredZero:: b.setOr(base, 'axisCenteredZero', true),
    withAxisColorMode:: b.set(base, 'axisColorMode'),
    withAxisGridShow:: b.setOr(base, 'axisGridShow', true),
    withAxisLabel:: b.set(base, 'axisLabel'),
    withAxisPlacement:: b.set(base, 'axisPlacement'),
    withAxisSoftMax:: b.set(base, 'axisSoftMax'),
    withAxisSoftMin:: b.set(base, 'axisSoftMin'),
    withAxisWidth:: b.set(base, 'axisWidth'),
    withScaleDistribution:: b.set(base, 'scaleDistribution'),
    withScaleDistributionMixin:: b.mix(base, 'scaleDistribution'),
    scaleDistribution:: {
      withLinearThreshold:: b.set(base + ['scaleDistribution'], 'linearThreshold'),
      withLog:: b.set(base + ['scaleDistribution'], 'log'),
      withType:: b.set(base + ['scaleDistribution'], 'type'),
    },
  },
}
