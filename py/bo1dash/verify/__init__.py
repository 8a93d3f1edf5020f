"""Prove the dashboards live: run every panel's queries as Grafana would and judge what a person would see.

    report = verify_dashboards(paths, endpoints=Endpoints(prometheus_url, postgres_dsn),
                               provisioning_dir=..., expectations=None)

CLI: `bo1dash verify [--prometheus-url URL] [--postgres-dsn DSN] [--datasources DIR] [--expectations FILE]
[--results DIR] [--allow-unprovable JOB] [FILES...]`; see `bo1dash.verify.cli`.

Statuses: passed; failed (with the reason, e.g. "metric `x` never scraped"); unprovable (the query's scrape job
does not exist at all in this Prometheus, e.g. no cAdvisor here) which fails the run unless the job was passed to
`--allow-unprovable`, and never counts as passed; skipped (panel without queries).
"""

from bo1dash.verify.cli import main
from bo1dash.verify.model import Endpoints, PanelResult, Status, TargetFinding, VerifyReport
from bo1dash.verify.runner import verify_dashboards

__all__ = ["Endpoints", "PanelResult", "Status", "TargetFinding", "VerifyReport", "main", "verify_dashboards"]
