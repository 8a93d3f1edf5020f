// names: {file}
(import 'mixin.libsonnet') + { grafanaDashboards:: {} }
