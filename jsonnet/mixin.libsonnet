// The bo1 mixin: grafanaDashboards, prometheusRules, prometheusAlerts and the _config behind them.
// Import it and override `_config+::` to fit another deployment.
(import 'config.libsonnet')
+ (import 'dashboards/dashboards.libsonnet')
+ (import 'rules/rules.libsonnet')
+ (import 'alerts/alerts.libsonnet')
