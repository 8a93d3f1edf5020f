// bo1 grafonnet-compat: our own subset of the grafonnet v11.4.0 API, just what the bo1 mixin calls
// (see jsonnet/grafonnet-compat/README.md). Same import path, names, argument order and output as
// grafonnet; `jb install` puts the real library in vendor/, which comes first on the import path.
{
  dashboard: import 'dashboard.libsonnet',
  panel: import 'panel.libsonnet',
  query: import 'query.libsonnet',
}
