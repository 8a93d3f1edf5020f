// What every bo1 dashboard shares: uid, tags, time settings, links to its siblings, layout.
local g = import 'g.libsonnet';
local layout = import 'layout.libsonnet';

{
  new(c, key, title, description, items, variables=[], from=c.defaultRange)::
    g.dashboard.new(c.dashboardTitlePrefix + title)
    + g.dashboard.withUid(c.dashboardUids[key])
    + g.dashboard.withDescription(description)
    + g.dashboard.withTags(c.dashboardTags)
    + g.dashboard.withTimezone(c.timezone)
    + g.dashboard.withRefresh(c.refresh)
    + g.dashboard.withEditable(false)
    + g.dashboard.time.withFrom(from)
    + g.dashboard.time.withTo('now')
    + g.dashboard.graphTooltip.withSharedCrosshair()
    + g.dashboard.withLinks([
      g.dashboard.link.dashboards.new('bo1 dashboards', c.dashboardTags)
      + g.dashboard.link.dashboards.options.withAsDropdown(true)
      + g.dashboard.link.dashboards.options.withKeepTime(true),
    ])
    + g.dashboard.withVariables(variables)
    + g.dashboard.withPanels(layout.grid(items)),

  // A multi-value Prometheus label variable with an "All" that matches everything.
  labelVariable(c, name, label, metric, description)::
    local v = g.dashboard.variable.query;
    v.new(name)
    + v.withDatasource(c.datasources.prometheus.type, c.datasources.prometheus.uid)
    + v.queryTypes.withLabelValues(label, metric)
    + v.generalOptions.withLabel(label)
    + v.generalOptions.withDescription(description)
    + v.selectionOptions.withMulti()
    + v.selectionOptions.withIncludeAll(true, '.*')
    + v.generalOptions.withCurrent('All', '$__all')
    + v.refresh.onTime()
    + v.withSort(1),
}
