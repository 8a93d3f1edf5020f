// bo1 grafonnet-compat: our own subset of the grafonnet v11.4.0 API (see jsonnet/grafonnet-compat/README.md).
// Same import path, names, argument order and output as grafonnet; `jb install` puts the real
// library in vendor/, which comes first on the import path and replaces this subset.
{
  dashboard: import 'dashboard.libsonnet',
  panel: import 'panel.libsonnet',
  query: import 'query.libsonnet',
  util: import 'util.libsonnet',
}
