"""`bo1dash lint`: static checks of the provisioned dashboards before anything runs.

Public entry points: `lint_dashboards(paths, ...) -> list[Finding]` and `main(argv) -> int`.
One module per rule family: schema, datasources (and variables), promql, sql, layout.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Iterable
from pathlib import Path

from bo1dash.catalog import (
    Catalog,
    CatalogError,
    MetricFamily,
    load_catalog,
    load_catalog_file,
    open_catalog,
    scrape_config_labels,
)
from bo1dash.lint import datasources, layout, promql, schema, sql, templates
from bo1dash.lint.model import (
    ERROR,
    WARNING,
    Dashboard,
    Finding,
    LintContext,
    as_dict,
    iter_panels,
    load_dashboard,
    load_datasources,
    panel_targets,
    panel_title,
)
from bo1dash.lint.settings import CONFIG_FILE, Settings, SettingsError, settings_for
from bo1dash.lint.settings import apply as apply_settings

__all__ = ["Finding", "lint_dashboards", "main", "format_text", "format_json", "wants_json", "files_given"]

# Prometheus' own default --storage.tsdb.retention.time: assumed when the retention is not given.
DEFAULT_RETENTION = "15d"


def lint_dashboards(
    paths: list[Path],
    *,
    catalog: Catalog | None = None,
    datasources_dir: Path | None = None,
    schema_dir: Path | None = None,
    retention: str | None = None,
    scrape_interval: str = "15s",
    extra_metrics: Iterable[str | MetricFamily] = (),
    settings: Settings | None = None,
    strict: bool = False,
    prometheus_url: str | None = None,
) -> list[Finding]:
    """Lint dashboard JSON files; findings sorted by file, dashboard, panel, refId, rule.

    `datasources_dir`: Grafana provisioning YAML directory; None skips uid resolution.
    `schema_dir`: Grafana JSON Schema directory; None uses grafana-foundation-sdk's 11.6 models.
    `extra_metrics`: series the catalog should also accept (the mixin's recording rules).
    `settings`: rule severities and exclusions (bo1dash.lint.settings); `strict`: warnings become errors.
    `prometheus_url`: check names, labels and label values against the series this Prometheus holds over
    the dashboards' time range (replaces the catalog's metrics; raises CatalogError when unreachable)."""
    dashboards: list[Dashboard] = []
    findings: list[Finding] = []
    for path in paths:
        dash, problem = load_dashboard(Path(path))
        if problem:
            findings.append(problem)
        if dash:
            dashboards.append(dash)
    cat = catalog or load_catalog()
    if prometheus_url is not None:
        from bo1dash.catalog.live import catalog_from_prometheus

        live = catalog_from_prometheus(prometheus_url, lookback_seconds=_lookback_seconds(dashboards))
        cat = dataclasses.replace(live, tables=cat.tables, open_tables=cat.open_tables)
    extra = list(extra_metrics)
    if extra:
        cat = cat.with_extra_metrics(extra)
    provisioned = None
    if datasources_dir is not None:
        provisioned, ds_findings = load_datasources(datasources_dir)
        findings.extend(ds_findings)
    ctx = LintContext(
        catalog=cat,
        datasources=provisioned,
        retention_seconds=promql.parse_duration(retention or DEFAULT_RETENTION),
        retention_assumed=retention is None,
        scrape_interval_seconds=promql.parse_duration(scrape_interval),
        schema=schema.schema_source(schema_dir),
    )
    for dash in dashboards:
        findings.extend(schema.check(dash, ctx))
        findings.extend(datasources.check(dash, ctx))
        findings.extend(promql.check(dash, ctx))
        findings.extend(sql.check(dash, ctx))
        findings.extend(layout.check(dash))
        findings.extend(templates.check(dash, ctx))
    findings.extend(layout.check_across(dashboards))
    findings = apply_settings(
        findings,
        settings or Settings(),
        titles={d.file: str(d.data.get("title") or "") for d in dashboards},
        target_index={
            (d.file, panel_title(p), str(t.get("refId") or "")): i
            for d in dashboards
            for p in iter_panels(d.data)
            for i, t in enumerate(panel_targets(p))
        },
        strict=strict,
        default_off=templates.OPINIONATED,
    )
    return sorted(set(findings), key=lambda f: (f.file, f.dashboard, f.panel, f.ref_id, f.rule, f.message))


def _lookback_seconds(dashboards: list[Dashboard]) -> float:
    """The longest `now-<duration>` time range of the dashboards (6h when none says)."""
    longest = promql.parse_duration("6h")
    for dash in dashboards:
        start = str(as_dict(dash.data.get("time")).get("from") or "")
        if start.startswith("now-"):
            try:
                longest = max(longest, promql.parse_duration(start[4:].split("/")[0]))
            except ValueError:
                continue
    return longest


def format_text(findings: list[Finding]) -> str:
    """One line per finding: `file: SEVERITY [rule] dashboard / panel / refId: message (fix: ...)`."""
    if not findings:
        return "lint: no findings\n"
    lines: list[str] = []
    for f in findings:
        where = " / ".join(
            x
            for x in (
                f"dashboard {f.dashboard}" if f.dashboard else "",
                f"panel {f.panel!r}" if f.panel else "",
                f"refId {f.ref_id}" if f.ref_id else "",
            )
            if x
        )
        message = " ".join(f.message.split())
        lines.append(
            f"{f.file}: {f.severity.upper()} [{f.rule}] {where + ': ' if where else ''}{message} (fix: {f.fix})"
        )
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bo1dash lint",
        description="Lint Grafana dashboard JSON files: Grafana 11 schema, datasources and variables, PromQL "
        "against a metric catalog, SQL against a table catalog, layout. Exit 1 on any error, 2 on bad usage.",
    )
    parser.add_argument(
        "files", nargs="*", type=Path, help="dashboard JSON files (default: infra/grafana/dashboards/*.json)"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="report format (default text)")
    parser.add_argument(
        "--datasources",
        type=Path,
        default=None,
        help="Grafana datasource provisioning dir or file to resolve uids against (default: ours for our own "
        "dashboards; none, so uids are not checked, for files given on the command line)",
    )
    parser.add_argument(
        "--schema-dir",
        type=Path,
        default=None,
        help="Grafana JSON Schema dir (default: grafana-foundation-sdk 11.6 models)",
    )
    parser.add_argument(
        "--retention", default=None, help=f"Prometheus retention (default: Prometheus' own {DEFAULT_RETENTION})"
    )
    parser.add_argument("--scrape-interval", default="15s", help="Prometheus scrape interval (default 15s)")
    parser.add_argument(
        "--catalog",
        default=None,
        metavar="FILE|none",
        help="metric catalog to check PromQL names and labels against (YAML, see docs/lint.md; default: bo1's "
        "and its exporters'); 'none' checks no names (syntax, functions, counters, windows still apply)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help=f"rule settings: severities and exclusions (default: ./{CONFIG_FILE} if present); a dashboard-linter "
        "`.lint` file beside the dashboards is read too",
    )
    parser.add_argument(
        "--target-label",
        action="append",
        default=[],
        metavar="NAME",
        help="a label the scrape adds to every series besides job and instance (relabelling: cluster, "
        "namespace, ...); repeatable",
    )
    parser.add_argument(
        "--scrape-config",
        type=Path,
        default=None,
        metavar="PROMETHEUS_YML",
        help="take the target labels from this prometheus.yml (static_configs labels, relabel_configs "
        "target_label) in addition to job and instance",
    )
    parser.add_argument(
        "--prometheus-url",
        default=None,
        metavar="URL",
        help="check metric names, labels and label values against the series this Prometheus holds over the "
        "dashboards' time range (instead of the catalog's metric list)",
    )
    parser.add_argument(
        "--fix",
        action="store_true",
        help="rewrite the mechanical findings in the files ($__rate_interval windows, the datasource variable, "
        "variable refresh, editable), then report what is left",
    )
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    parser.add_argument(
        "--extra-metric",
        action="append",
        default=[],
        metavar="NAME",
        help="also accept this series (a recording rule); repeatable",
    )
    return parser


def wants_json(argv: list[str]) -> bool:
    """True when `argv` asks for the JSON report (`--format json` or `--format=json`)."""
    args, _ = build_parser().parse_known_args(argv)
    return bool(args.format == "json")


def files_given(argv: list[str]) -> bool:
    """True when `argv` names dashboard files (not just options)."""
    args, _ = build_parser().parse_known_args(argv)
    return bool(args.files)


def _catalog(option: str | None, target_labels: list[str]) -> Catalog | None:
    if option is None:
        catalog = load_catalog() if target_labels else None
    elif option == "none":
        catalog = open_catalog()
    else:
        catalog = load_catalog_file(Path(option))
    if catalog is not None and target_labels:
        labels = tuple(dict.fromkeys([*catalog.target_labels, *target_labels]))
        catalog = dataclasses.replace(catalog, target_labels=labels)
    return catalog


def _usage_error(message: str, fmt: str) -> int:
    print(f"lint: {message}", file=sys.stderr)
    if fmt == "json":
        sys.stdout.write("[]\n")
    return 2


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    files, ds_dir = list(args.files), args.datasources
    if not files:
        default_files, default_ds = _repo_defaults()
        files = default_files
        ds_dir = ds_dir or default_ds
    if not files:
        return _usage_error("no dashboard files to lint (run bo1dash build first)", args.format)
    for option, value in (("--retention", args.retention), ("--scrape-interval", args.scrape_interval)):
        if value is not None:
            try:
                promql.parse_duration(value)
            except ValueError:
                return _usage_error(f"{option} {value!r} is not a Prometheus duration (e.g. 15d, 30s)", args.format)
    if args.schema_dir is not None and not (args.schema_dir / "dashboard.jsonschema.json").is_file():
        return _usage_error(f"--schema-dir {args.schema_dir}: no dashboard.jsonschema.json there", args.format)
    try:
        target_labels = list(args.target_label)
        if args.scrape_config is not None:
            target_labels += scrape_config_labels(args.scrape_config)
        catalog = _catalog(args.catalog, target_labels)
        settings = settings_for(files, args.config)
    except (CatalogError, SettingsError) as exc:
        return _usage_error(str(exc), args.format)
    try:
        findings = _lint(args, files, ds_dir, catalog, settings)
        if args.fix:
            from bo1dash.lint.fix import fix_files

            for line in fix_files(findings):
                print(line, file=sys.stderr)
            findings = _lint(args, files, ds_dir, catalog, settings)
    except CatalogError as exc:
        return _usage_error(f"--prometheus-url: {exc}", args.format)
    except OSError as exc:
        return _usage_error(f"--fix: cannot rewrite {exc.filename}: {exc.strerror or exc}", args.format)
    sys.stdout.write(format_json(findings) if args.format == "json" else format_text(findings))
    return 1 if any(f.severity == ERROR for f in findings) else 0


def _lint(
    args: argparse.Namespace, files: list[Path], ds_dir: Path | None, catalog: Catalog | None, settings: Settings
) -> list[Finding]:
    return lint_dashboards(
        files,
        datasources_dir=ds_dir,
        schema_dir=args.schema_dir,
        retention=args.retention,
        scrape_interval=args.scrape_interval,
        extra_metrics=args.extra_metric,
        catalog=catalog,
        settings=settings,
        strict=args.strict,
        prometheus_url=args.prometheus_url,
    )
