// names: copy\.json
local m = import 'mixin.libsonnet';
m + { grafanaDashboards+:: { 'copy.json': m.grafanaDashboards['cost.json'] { title: 'another title' } } }
