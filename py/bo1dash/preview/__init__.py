"""PNG previews of the dashboards from live query results, and an index.html with the verifier's verdicts.

    render_dashboard(dashboard, results_by_panel_id, verdicts_by_panel_id, Path("results/preview/bo1-api.png"))

`bo1dash preview [--prometheus-url URL --postgres-dsn DSN] [--results DIR] [FILES...]` renders every dashboard.
"""

from bo1dash.preview.render import render_dashboard

__all__ = ["main", "render_dashboard"]


def main(argv: list[str] | None = None) -> int:
    from bo1dash.preview.cli import main as run

    return run(argv)
