// names: {file}:4
(import 'mixin.libsonnet') + {
  _config+:: {
    apiJobRegex: 'my-api',,
  },
}
