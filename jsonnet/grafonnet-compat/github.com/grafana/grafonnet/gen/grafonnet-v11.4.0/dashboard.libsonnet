// bo1 grafonnet-compat: dashboard, its time settings, dashboard links and template variables.
local asArray(v) = if std.isArray(v) then v else [v];

// Panels get ids 1..n in order, a row's nested panels counted after the row (grafonnet's
// util.panel.setPanelIDs, which withPanels applies).
local numbered(panels) =
  local number(list, first) = std.foldl(
    function(state, p)
      local nested = p.type == 'row' && std.objectHas(p, 'panels');
      state {
        next: state.next + 1 + (if nested then std.length(p.panels) else 0),
        out: state.out + [
          p { id: state.next }
          + (if nested then { panels: number(p.panels, state.next + 1) } else {}),
        ],
      },
    list,
    { next: first, out: [] }
  ).out;
  number(panels, 1);

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
  withRefresh(value):: { refresh: value },
  withSchemaVersion(value=39):: { schemaVersion: value },
  withTimezone(value='browser'):: { timezone: value },
  withTags(value):: { tags: asArray(value) },
  withLinks(value):: { links: asArray(value) },
  withVariables(value):: { templating+: { list: asArray(value) } },
  withPanels(panels, setPanelIDs=true):: {
    panels: if setPanelIDs then numbered(asArray(panels)) else asArray(panels),
  },

  time:: {
    withFrom(value='now-6h'):: { time+: { from: value } },
    withTo(value='now'):: { time+: { to: value } },
  },

  graphTooltip:: {
    withSharedCrosshair():: { graphTooltip: 1 },
  },

  link:: {
    dashboards:: {
      new(title, tags):: self.withTitle(title) + self.withType('dashboards') + self.withTags(tags),
      withTitle(value):: { title: value },
      withType(value):: { type: value },
      withTags(value):: { tags: asArray(value) },
      options:: {
        withAsDropdown(value=true):: { asDropdown: value },
        withKeepTime(value=true):: { keepTime: value },
      },
    },
  },

  variable:: import 'variable.libsonnet',
}
