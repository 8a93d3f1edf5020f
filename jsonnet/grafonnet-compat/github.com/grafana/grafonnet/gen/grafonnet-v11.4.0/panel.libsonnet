// bo1 grafonnet-compat: panel.<type> namespaces (the types the bo1 mixin uses) and panel.row.
local b = import 'build.libsonnet';

local row = {
  new(title)::
    self.withTitle(title)
    + self.withType()
    + self.withCollapsed(false)
    + self.gridPos.withX(0)
    + self.gridPos.withH(1)
    + self.gridPos.withW(24),
  withCollapsed(value=true):: { collapsed: value },
  withDatasource(value):: { datasource: value },
  withDatasourceMixin(value):: { datasource+: value },
  // A row spans the full width at height 1; only its y varies.
  withGridPos(y)::
    self.gridPos.withX(0) + self.gridPos.withY(y) + self.gridPos.withH(1) + self.gridPos.withW(24),
  withId(value):: { id: value },
  withPanels(value):: b.putList(['panels'], value),
  withPanelsMixin(value):: b.addList(['panels'], value),
  withRepeat(value):: { repeat: value },
  withTitle(value):: { title: value },
  withType():: { type: 'row' },
  datasource:: {
    withType(value):: { datasource+: { type: value } },
    withUid(value):: { datasource+: { uid: value } },
  },
  gridPos:: {
    withH(value=9):: { gridPos+: { h: value } },
    withStatic(value=true):: { gridPos+: { static: value } },
    withW(value=12):: { gridPos+: { w: value } },
    withX(value=0):: { gridPos+: { x: value } },
    withY(value=0):: { gridPos+: { y: value } },
  },
};

(import 'panel/types.libsonnet') + { row: row }
