// bo1 grafonnet-compat: query.prometheus, the one query type the bo1 mixin builds.
local b = import 'build.libsonnet';

{
  prometheus: {
    new(datasource, expr):: self.withDatasource(datasource) + self.withExpr(expr),

    // A Prometheus target always names its datasource type; `value` is the datasource uid.
    withDatasource(value):: { datasource+: { type: 'prometheus', uid: value } },

    withEditorMode(value):: { editorMode: value },
    withExemplar(value=true):: { exemplar: value },
    withExpr(value):: { expr: value },
    withFormat(value):: { format: value },
    withHide(value=true):: { hide: value },
    withInstant(value=true):: { instant: value },
    withInterval(value):: { interval: value },
    withIntervalFactor(value):: { intervalFactor: value },
    withLegendFormat(value):: { legendFormat: value },
    withQueryType(value):: { queryType: value },
    withRange(value=true):: { range: value },
    withRefId(value):: { refId: value },
  },
}
