"""`bo1dash lint`: static checks of the provisioned dashboards before anything runs.

Public entry points: `lint_dashboards(paths, ...) -> list[Finding]` and `main(argv) -> int`.
One module per rule family: schema, datasources (and variables), promql, sql, layout.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path

from bo1dash.catalog import Catalog, MetricFamily, load_catalog
from bo1dash.lint import datasources, layout, promql, schema, sql
from bo1dash.lint.model import ERROR, WARNING, Dashboard, Finding, LintContext, load_dashboard, load_datasources

__all__ = ["Finding", "lint_dashboards", "main", "format_text", "format_json"]


def lint_dashboards(
    paths: list[Path],
    *,
    catalog: Catalog | None = None,
    datasources_dir: Path | None = None,
    schema_dir: Path | None = None,
    retention: str = "15d",
    scrape_interval: str = "15s",
    extra_metrics: Iterable[str | MetricFamily] = (),
) -> list[Finding]:
    """Lint dashboard JSON files; findings sorted by file, dashboard, panel, refId, rule.

    `datasources_dir`: Grafana provisioning YAML directory; None skips uid resolution.
    `schema_dir`: Grafana JSON Schema directory; None uses grafana-foundation-sdk's 11.6 models.
    `extra_metrics`: series the catalog should also accept (the mixin's recording rules)."""
    cat = catalog or load_catalog()
    extra = list(extra_metrics)
    if extra:
        cat = cat.with_extra_metrics(extra)
    findings: list[Finding] = []
    provisioned = None
    if datasources_dir is not None:
        provisioned, ds_findings = load_datasources(datasources_dir)
        findings.extend(ds_findings)
    ctx = LintContext(
        catalog=cat,
        datasources=provisioned,
        retention_seconds=promql.parse_duration(retention),
        scrape_interval_seconds=promql.parse_duration(scrape_interval),
        schema=schema.schema_source(schema_dir),
    )
    dashboards: list[Dashboard] = []
    for path in paths:
        dash, problem = load_dashboard(Path(path))
        if problem:
            findings.append(problem)
        if dash:
            dashboards.append(dash)
    for dash in dashboards:
        findings.extend(schema.check(dash, ctx))
        findings.extend(datasources.check(dash, ctx))
        findings.extend(promql.check(dash, ctx))
        findings.extend(sql.check(dash, ctx))
        findings.extend(layout.check(dash))
    findings.extend(layout.check_across(dashboards))
    return sorted(set(findings), key=lambda f: (f.file, f.dashboard, f.panel, f.ref_id, f.rule, f.message))


def format_text(findings: list[Finding]) -> str:
    if not findings:
        return "lint: no findings\n"
    lines: list[str] = []
    current = None
    for f in findings:
        if f.file != current:
            current = f.file
            lines.append(f"{f.file}")
        where = " / ".join(
            x
            for x in (
                f"dashboard {f.dashboard}" if f.dashboard else "",
                f"panel {f.panel!r}" if f.panel else "",
                f"refId {f.ref_id}" if f.ref_id else "",
            )
            if x
        )
        lines.append(f"  {f.severity.upper()} [{f.rule}] {where or '(file)'}")
        lines.append(f"      {f.message}")
        lines.append(f"      fix: {f.fix}")
    errors = sum(1 for f in findings if f.severity == ERROR)
    warnings = sum(1 for f in findings if f.severity == WARNING)
    lines.append(f"lint: {errors} error(s), {warnings} warning(s)")
    return "\n".join(lines) + "\n"


def format_json(findings: list[Finding]) -> str:
    return json.dumps([f.to_json() for f in findings], indent=2, sort_keys=True) + "\n"


def _repo_defaults() -> tuple[list[Path], Path]:
    from bo1dash import paths as repo_paths

    root = repo_paths.repo_root()
    infra = repo_paths.infra_dir(root)
    files = sorted(repo_paths.dashboards_dir(infra).glob("*.json"))
    return files, repo_paths.datasources_dir(infra)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bo1dash lint", description="Lint Grafana dashboard JSON files.")
    parser.add_argument(
        "files", nargs="*", type=Path, help="dashboard JSON files (default: infra/grafana/dashboards/*.json)"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--datasources",
        type=Path,
        default=None,
        help="provisioning datasources dir (default: infra/grafana/provisioning/datasources)",
    )
    parser.add_argument(
        "--schema-dir",
        type=Path,
        default=None,
        help="Grafana JSON Schema dir (default: grafana-foundation-sdk 11.6 models)",
    )
    parser.add_argument("--retention", default="15d")
    parser.add_argument("--scrape-interval", default="15s")
    parser.add_argument(
        "--extra-metric",
        action="append",
        default=[],
        metavar="NAME",
        help="also accept this series (a recording rule); repeatable",
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    files, ds_dir = list(args.files), args.datasources
    if not files or ds_dir is None:
        default_files, default_ds = _repo_defaults()
        files = files or default_files
        ds_dir = ds_dir or default_ds
    if not files:
        print("lint: no dashboard files to lint (run bo1dash build first)", file=sys.stderr)
        return 2
    findings = lint_dashboards(
        files,
        datasources_dir=ds_dir,
        schema_dir=args.schema_dir,
        retention=args.retention,
        scrape_interval=args.scrape_interval,
        extra_metrics=args.extra_metric,
    )
    sys.stdout.write(format_json(findings) if args.format == "json" else format_text(findings))
    return 1 if any(f.severity == ERROR for f in findings) else 0
