// The bo1 mixin: grafanaDashboards, prometheusRules, prometheusAlerts and the _config behind them.
// Import it and override `_config+::` to fit another deployment.
local grizzly = import 'lib/grizzly.libsonnet';

(import 'config.libsonnet')
+ (import 'dashboards/dashboards.libsonnet')
+ (import 'rules/rules.libsonnet')
+ (import 'alerts/alerts.libsonnet')
+ {
  local folder = $._config.grafanaFolder,
  // grizzly (grr) puts every dashboard of the mixin in the folder of this title. The uid check sits on this
  // field, not on the mixin (the C++ jsonnet re-runs an object's assertions on every `$` access).
  grafanaDashboardFolder::
    if folder.uid == grizzly.folderUid(folder.title) then folder.title
    else error '_config.grafanaFolder.uid %s is not what grizzly derives from the title %s (%s): '
               % [std.escapeStringJson(folder.uid), std.escapeStringJson(folder.title), grizzly.folderUid(folder.title)]
               + 'leave the uid derived so grr, bo1dash apply and file provisioning use one folder',
}
