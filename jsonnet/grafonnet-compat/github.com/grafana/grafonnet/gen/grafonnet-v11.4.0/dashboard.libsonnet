// bo1 grafonnet-compat: dashboard, its links, annotations and template variables.
local b = import 'build.libsonnet';
local util = import 'util.libsonnet';
local variable = import 'variable.libsonnet';

// Options shared by both kinds of dashboard link; they sit on the link object itself.
local linkOptions = {
  withAsDropdown(value=true):: { asDropdown: value },
  withKeepTime(value=true):: { keepTime: value },
  withIncludeVars(value=true):: { includeVars: value },
  withTargetBlank(value=true):: { targetBlank: value },
};

// Fields of one annotation query (dashboard.annotation.*).
local annotationFields = {
  withBuiltIn(value=0):: { builtIn: value },
  withDatasource(value):: { datasource: value },
  withDatasourceMixin(value):: { datasource+: value },
  datasource:: {
    withType(value):: { datasource+: { type: value } },
    withUid(value):: { datasource+: { uid: value } },
  },
  withEnable(value=true):: { enable: value },
  withExpr(value):: { expr: value },
  withFilter(value):: { filter: value },
  withFilterMixin(value):: { filter+: value },
  filter:: {
    withExclude(value=true):: { filter+: { exclude: value } },
    withIds(value):: b.putList(['filter', 'ids'], value),
    withIdsMixin(value):: b.addList(['filter', 'ids'], value),
  },
  withHide(value=true):: { hide: value },
  withIconColor(value):: { iconColor: value },
  withName(value):: { name: value },
  withTarget(value):: { target: value },
  withTargetMixin(value):: { target+: value },
  withType(value):: { type: value },
};

{
  new(title)::
    self.withTitle(title)
    + self.withSchemaVersion()
    + self.withTimezone('utc')
    + self.time.withFrom('now-6h')
    + self.time.withTo('now'),

  withTitle(value):: { title: value },
  withUid(value):: { uid: value },
  withDescription(value):: { description: value },
  withEditable(value=true):: { editable: value },
  withFiscalYearStartMonth(value=0):: { fiscalYearStartMonth: value },
  withLiveNow(value=true):: { liveNow: value },
  withRefresh(value):: { refresh: value },
  withSchemaVersion(value=39):: { schemaVersion: value },
  withTimezone(value='browser'):: { timezone: value },
  withWeekStart(value):: { weekStart: value },
  withTags(value):: b.putList(['tags'], value),
  withTagsMixin(value):: b.addList(['tags'], value),
  withLinks(value):: b.putList(['links'], value),
  withLinksMixin(value):: b.addList(['links'], value),
  withTemplating(value):: { templating: value },
  withTemplatingMixin(value):: { templating+: value },

  // Panels get ids 1..n (rows count their nested panels), as grafonnet's withPanels does.
  withPanels(panels, setPanelIDs=true):: {
    _panels:: b.asArray(panels),
    panels: if setPanelIDs then util.panel.setPanelIDs(self._panels) else self._panels,
  },
  withPanelsMixin(panels, setPanelIDs=true):: {
    _panels+:: b.asArray(panels),
    panels: if setPanelIDs then util.panel.setPanelIDs(self._panels) else self._panels,
  },

  withVariables(value):: b.putList(['templating', 'list'], value),
  withVariablesMixin(value):: b.addList(['templating', 'list'], value),
  withAnnotations(value):: b.putList(['annotations', 'list'], value),
  withAnnotationsMixin(value):: b.addList(['annotations', 'list'], value),

  annotation:: annotationFields,

  graphTooltip:: {
    withSharedCrosshair():: { graphTooltip: 1 },
    withSharedTooltip():: { graphTooltip: 2 },
  },

  time:: {
    withFrom(value='now-6h'):: { time+: { from: value } },
    withTo(value='now'):: { time+: { to: value } },
  },

  timepicker:: {
    withHidden(value=true):: { timepicker+: { hidden: value } },
    withNowDelay(value):: { timepicker+: { nowDelay: value } },
    withRefreshIntervals(value):: b.putList(['timepicker', 'refresh_intervals'], value),
    withRefreshIntervalsMixin(value):: b.addList(['timepicker', 'refresh_intervals'], value),
    withTimeOptions(value):: b.putList(['timepicker', 'time_options'], value),
    withTimeOptionsMixin(value):: b.addList(['timepicker', 'time_options'], value),
  },

  link:: {
    dashboards:: {
      new(title, tags):: self.withTitle(title) + self.withType('dashboards') + self.withTags(tags),
      withTitle(value):: { title: value },
      withType(value):: { type: value },
      withTags(value):: b.putList(['tags'], value),
      options:: linkOptions,
    },
    link:: {
      new(title, url):: self.withTitle(title) + self.withType('link') + self.withUrl(url),
      withTitle(value):: { title: value },
      withType(value):: { type: value },
      withUrl(value):: { url: value },
      withTooltip(value):: { tooltip: value },
      withIcon(value):: { icon: value },
      options:: linkOptions,
    },
  },

  variable:: variable,
}
