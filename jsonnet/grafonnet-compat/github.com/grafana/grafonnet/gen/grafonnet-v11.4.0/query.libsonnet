// bo1 grafonnet-compat: query.prometheus, the one query type the bo1 mixin builds.
{
  prometheus: {
    new(datasource, expr):: self.withDatasource(datasource) + self.withExpr(expr),
    // A Prometheus target always names its datasource type; `value` is the datasource uid.
    withDatasource(value):: { datasource+: { type: 'prometheus', uid: value } },
    withExpr(value):: { expr: value },
    withFormat(value):: { format: value },
    withInstant(value=true):: { instant: value },
    withLegendFormat(value):: { legendFormat: value },
    withRange(value=true):: { range: value },
  },
}
