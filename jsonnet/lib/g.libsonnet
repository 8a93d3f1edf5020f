// grafonnet, by its canonical path: vendor/ (jb install) first, our subset in grafonnet-compat/ otherwise.
import 'github.com/grafana/grafonnet/gen/grafonnet-v11.4.0/main.libsonnet'
