// names: {file}:2
(import 'mixin-that-is-not-there.libsonnet')
