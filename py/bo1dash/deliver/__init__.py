"""Delivery to a running Grafana: `bo1dash export|apply|diff|pull|watch` (see README "Dashboards as code").

One module per role, each with one public entry point: resources (what a compiled mixin delivers),
connection (where and as whom, from the environment), client (grafana-client calls, errors as one line),
export, apply, normalize, diff, pull, watch; cli parses arguments and prints.
"""
