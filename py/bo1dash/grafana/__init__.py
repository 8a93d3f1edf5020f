"""Grafana emulation: what Grafana does that verify, bench, preview and the delivery tests stand on.

Query processing (interpolation, datasource resolution, the Prometheus and SQL runners, frames) and a
small stand-in for Grafana 11's HTTP API, each written from Grafana's documentation.
"""
