// All dashboards of the mixin, as `grafanaDashboards` (file name -> dashboard).
(import 'api.libsonnet')
+ (import 'deliberation.libsonnet')
+ (import 'cost.libsonnet')
+ (import 'infrastructure.libsonnet')
