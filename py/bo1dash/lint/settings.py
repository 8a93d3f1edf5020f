"""Rule settings kept in the repository: `.bo1dash-lint.yaml`, and dashboard-linter's `.lint` files.

`.bo1dash-lint.yaml` (read from the working directory, or `--config FILE`):

    rules:                          # per rule (or `family/*`): error | warning | off
      layout/missing-description: off
      promql/rate-on-gauge: error
    exclude:                        # findings to drop; every given key must match
      - rule: promql/unknown-metric # a rule or `family/*`; absent: every rule
        dashboard: node-exporter    # dashboard uid
        panel: CPU Busy             # panel title
        ref_id: A                   # query refId
        reason: recorded by the platform team's rules

dashboard-linter's `.lint` (next to the dashboards, or `--config path/.lint`) is read as that tool
reads it: `exclusions:` and `warnings:` map its rule names to `{reason, entries: [{dashboard, panel,
targetIdx}]}` (dashboard and panel by title, the target by position); a rule with no entries applies
everywhere. Its rule names are mapped to ours by DASHBOARD_LINTER_RULES (see docs/lint.md).

Applied in order: severities, exclusions, `.lint` warnings, then `--strict` (warnings become errors).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bo1dash.lint.model import ERROR, WARNING, Finding

CONFIG_FILE = ".bo1dash-lint.yaml"
DASHBOARD_LINTER_FILE = ".lint"
OFF = "off"
SEVERITIES = (ERROR, WARNING, OFF)
RULE_FAMILIES = ("file", "schema", "datasource", "variable", "promql", "sql", "layout", "panel", "template")

# dashboard-linter rule -> our rules that check the same thing (empty: no counterpart; see docs/lint.md).
DASHBOARD_LINTER_RULES: Mapping[str, tuple[str, ...]] = {
    "template-datasource-rule": ("template/datasource",),
    "template-job-rule": ("promql/target-job",),
    "template-instance-rule": (),
    "template-label-promql-rule": ("template/label-promql",),
    "template-on-time-change-reload-rule": ("template/on-time-change-reload",),
    "template-required-variables-rule": (),
    "template-uneditable-rule": ("template/uneditable",),
    "uneditable-dashboard": ("template/uneditable",),
    "panel-datasource-rule": ("datasource/implicit-default", "datasource/legacy-ref"),
    "panel-title-description-rule": ("layout/missing-description",),
    "panel-units-rule": ("layout/missing-unit",),
    "panel-no-targets-rule": ("panel/no-targets",),
    "panel-promql-rule": ("promql/parse",),
    "target-promql-rule": ("promql/parse",),
    "panel-rate-interval-rule": ("promql/rate-interval",),
    "target-rate-interval-rule": ("promql/rate-interval",),
    "target-counter-agg-rule": ("promql/counter-without-rate",),
    "target-job-rule": ("promql/target-job",),
    "target-instance-rule": (),
    "target-logql-rule": (),
    "target-logql-auto-rule": (),
    "target-required-matchers-rule": (),
}


class SettingsError(ValueError):
    """A settings file that cannot be used: the message names the file and the key."""


@dataclass(frozen=True)
class Match:
    """Which findings an exclusion (or a `.lint` warning) applies to; empty fields match anything."""

    rules: tuple[str, ...] = ()
    dashboard: str = ""  # uid
    dashboard_title: str = ""  # dashboard-linter matches dashboards by title
    panel: str = ""
    ref_id: str = ""
    target_index: int | None = None
    directory: str = ""  # a `.lint` file applies to the dashboards beside it

    def matches(self, f: Finding, titles: Mapping[str, str], target_index: Mapping[tuple[str, str, str], int]) -> bool:
        if self.rules and not any(_rule_matches(r, f.rule) for r in self.rules):
            return False
        if self.directory and str(Path(f.file).resolve().parent) != self.directory:
            return False
        if self.dashboard and f.dashboard != self.dashboard:
            return False
        if self.dashboard_title and titles.get(f.file) != self.dashboard_title:
            return False
        if self.panel and f.panel != self.panel:
            return False
        if self.ref_id and f.ref_id != self.ref_id:
            return False
        if self.target_index is not None and target_index.get((f.file, f.panel, f.ref_id)) != self.target_index:
            return False
        return True


@dataclass(frozen=True)
class Settings:
    severities: Mapping[str, str] = dataclasses.field(default_factory=dict)
    exclusions: tuple[Match, ...] = ()
    warnings: tuple[Match, ...] = ()

    def merged(self, other: Settings) -> Settings:
        return Settings(
            {**self.severities, **other.severities}, self.exclusions + other.exclusions, self.warnings + other.warnings
        )


def _rule_matches(pattern: str, rule: str) -> bool:
    return pattern == rule or (pattern.endswith("/*") and rule.startswith(pattern[:-1]))


def _check_rule_name(path: Path, where: str, name: Any) -> str:
    text = str(name)
    family, _, rest = text.partition("/")
    if family not in RULE_FAMILIES or not rest:
        raise SettingsError(
            f"{path}: {where}: {text!r} is not a rule name (family/rule, or family/* — families: "
            f"{', '.join(RULE_FAMILIES)})"
        )
    return text


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SettingsError(f"{path}: not a UTF-8 text file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise SettingsError(f"{path}: {where}{getattr(exc, 'problem', None) or 'invalid YAML'}") from None


def load_settings(path: Path) -> Settings:
    """`.bo1dash-lint.yaml` (or a dashboard-linter `.lint` file, by its name)."""
    if path.name == DASHBOARD_LINTER_FILE:
        return load_dashboard_linter_file(path)
    data = _read_yaml(path)
    if data is None:
        return Settings()
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: expected a mapping with `rules:` and `exclude:`, found a {type(data).__name__}")
    unknown = sorted(set(data) - {"rules", "exclude"})
    if unknown:
        raise SettingsError(f"{path}: unknown key {unknown[0]!r} (known: rules, exclude)")
    rules = data.get("rules") or {}
    if not isinstance(rules, dict):
        raise SettingsError(f"{path}: rules: expected a mapping of rule -> {'|'.join(SEVERITIES)}")
    severities: dict[str, str] = {}
    for name, severity in rules.items():
        rule = _check_rule_name(path, "rules", name)
        value = OFF if severity is False else str(severity)
        if value not in SEVERITIES:
            raise SettingsError(f"{path}: rules: {rule}: {severity!r} is not one of {', '.join(SEVERITIES)}")
        severities[rule] = value
    excludes = data.get("exclude") or []
    if not isinstance(excludes, list):
        raise SettingsError(f"{path}: exclude: expected a list of {{rule, dashboard, panel, ref_id, reason}}")
    matches: list[Match] = []
    for i, entry in enumerate(excludes):
        if not isinstance(entry, dict):
            raise SettingsError(f"{path}: exclude[{i}]: expected a mapping of rule, dashboard, panel, ref_id, reason")
        extra = sorted(set(entry) - {"rule", "dashboard", "panel", "ref_id", "reason"})
        if extra:
            raise SettingsError(
                f"{path}: exclude[{i}]: unknown key {extra[0]!r} (known: rule, dashboard, panel, ref_id, reason)"
            )
        rule_name = entry.get("rule")
        matches.append(
            Match(
                rules=(_check_rule_name(path, f"exclude[{i}].rule", rule_name),) if rule_name else (),
                dashboard=str(entry.get("dashboard") or ""),
                panel=str(entry.get("panel") or ""),
                ref_id=str(entry.get("ref_id") or ""),
            )
        )
    return Settings(severities, tuple(matches))


def _linter_matches(path: Path, section: str, body: Any) -> list[Match]:
    if body is None:
        return []
    if not isinstance(body, dict):
        raise SettingsError(f"{path}: {section}: expected a mapping of dashboard-linter rule -> {{reason, entries}}")
    directory = str(path.resolve().parent)
    matches: list[Match] = []
    for name, spec in body.items():
        ours = DASHBOARD_LINTER_RULES.get(str(name), ())
        if not ours:
            continue  # no counterpart here (or a rule of a newer dashboard-linter): nothing to apply, as it does
        entries = (spec or {}).get("entries") if isinstance(spec, dict) or spec is None else None
        if spec is not None and not isinstance(spec, dict):
            raise SettingsError(f"{path}: {section}: {name}: expected {{reason, entries}}")
        if not entries:
            matches.append(Match(rules=ours, directory=directory))
            continue
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise SettingsError(
                    f"{path}: {section}: {name}: entries[{i}]: expected {{dashboard, panel, targetIdx}}"
                )
            raw_idx = entry.get("targetIdx", entry.get("targetidx"))
            try:
                index = None if raw_idx in (None, "") else int(raw_idx)
            except (TypeError, ValueError):
                raise SettingsError(
                    f"{path}: {section}: {name}: entries[{i}]: targetIdx {raw_idx!r} is not a number"
                ) from None
            matches.append(
                Match(
                    rules=ours,
                    dashboard_title=str(entry.get("dashboard") or ""),
                    panel=str(entry.get("panel") or ""),
                    target_index=index,
                    directory=directory,
                )
            )
    return matches


def load_dashboard_linter_file(path: Path) -> Settings:
    data = _read_yaml(path)
    if data is None:
        return Settings()
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: expected a mapping with `exclusions:` and `warnings:`")
    return Settings(
        exclusions=tuple(_linter_matches(path, "exclusions", data.get("exclusions"))),
        warnings=tuple(_linter_matches(path, "warnings", data.get("warnings"))),
    )


def settings_for(files: Iterable[Path], config: Path | None) -> Settings:
    """The repository settings (`config`, else ./.bo1dash-lint.yaml) plus every `.lint` beside the files."""
    settings = Settings()
    chosen = config if config is not None else (Path(CONFIG_FILE) if Path(CONFIG_FILE).is_file() else None)
    if chosen is not None:
        settings = load_settings(chosen)
    for directory in sorted({Path(f).resolve().parent for f in files}):
        linter_file = directory / DASHBOARD_LINTER_FILE
        if linter_file.is_file() and (chosen is None or linter_file.resolve() != chosen.resolve()):
            settings = settings.merged(load_dashboard_linter_file(linter_file))
    return settings


def _severity(rule: str, default: str, severities: Mapping[str, str]) -> str:
    if rule in severities:
        return severities[rule]
    family = rule.split("/")[0] + "/*"
    return severities.get(family, default)


def apply(
    findings: list[Finding],
    settings: Settings,
    *,
    titles: Mapping[str, str],
    target_index: Mapping[tuple[str, str, str], int],
    strict: bool = False,
    default_off: frozenset[str] = frozenset(),
) -> list[Finding]:
    """`findings` with the settings applied (`titles`: file -> dashboard title; `target_index`:
    (file, panel title, refId) -> position of the target in its panel; `default_off`: rules dropped unless
    the settings name them or their family)."""
    out: list[Finding] = []
    for f in findings:
        default = OFF if f.rule in default_off else f.severity
        severity = _severity(f.rule, default, settings.severities)
        if severity == OFF:
            continue
        if any(m.matches(f, titles, target_index) for m in settings.exclusions):
            continue
        if any(m.matches(f, titles, target_index) for m in settings.warnings):
            severity = WARNING
        if strict and severity == WARNING:
            severity = ERROR
        out.append(f if severity == f.severity else dataclasses.replace(f, severity=severity))
    return out
