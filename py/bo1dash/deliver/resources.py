"""What a compiled mixin delivers: the dashboards' folder, the dashboards, the datasources, the rule groups.

The folder is the one grizzly derives (bo1dash.folder); datasources are the provisioning entries of
`_config.datasources` (secrets as `$VAR` references, resolved only in memory by apply); rule groups are
grizzly's PrometheusRuleGroups (a mixin's un-namespaced `groups` go to grizzly's default namespace).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bo1dash import paths
from bo1dash.compile import CompiledMixin, CompileError, compile_mixin
from bo1dash.deliver.errors import DeliverError
from bo1dash.folder import Folder, FolderError, mixin_folder
from bo1dash.provision import ProvisionError, check_consistency, datasources_provisioning

# grizzly puts the groups of a mixin's prometheusRules/prometheusAlerts that have no namespace here.
GRIZZLY_RULE_NAMESPACE = "grizzly_rules"


@dataclass(frozen=True)
class DashboardResource:
    uid: str
    title: str
    file: str  # its key in grafanaDashboards
    model: dict[str, Any]


@dataclass(frozen=True)
class RuleGroup:
    namespace: str
    name: str
    rules: list[dict[str, Any]]


@dataclass(frozen=True)
class Resources:
    folder: Folder | None  # None: Grafana's General folder
    dashboards: tuple[DashboardResource, ...]  # sorted by uid
    datasources: tuple[dict[str, Any], ...]  # provisioning entries, sorted by uid
    rule_groups: tuple[RuleGroup, ...]  # sorted by namespace, name


def load_resources(mixin: Path | None = None, vendor_dirs: list[Path] | None = None) -> Resources:
    """Compile the mixin (default: ours) and return its resources. Raises DeliverError naming file and line."""
    root = paths.repo_root()
    entry = mixin or paths.mixin_entry(root)
    try:
        compiled = compile_mixin(entry, root=root, vendor_dirs=vendor_dirs)
    except CompileError as exc:
        raise DeliverError(f"build failed: {exc}") from None
    return mixin_resources(compiled)


def mixin_resources(compiled: CompiledMixin) -> Resources:
    """The resources of a compiled mixin; DeliverError when the mixin is inconsistent."""
    try:
        check_consistency(compiled)
        folder = mixin_folder(compiled)
    except (ProvisionError, FolderError) as exc:
        raise DeliverError(f"{compiled.entry}: {exc}") from None
    dashboards = tuple(
        sorted(
            (DashboardResource(d["uid"], d["title"], name, d) for name, d in compiled.dashboards.items()),
            key=lambda d: d.uid,
        )
    )
    datasources: tuple[dict[str, Any], ...] = ()
    if "datasources" in compiled.config:
        entries = datasources_provisioning(compiled.config)["datasources"]
        datasources = tuple(sorted(entries, key=lambda d: str(d["uid"])))
    return Resources(folder, dashboards, datasources, _rule_groups(compiled))


def _rule_groups(compiled: CompiledMixin) -> tuple[RuleGroup, ...]:
    groups: dict[tuple[str, str], RuleGroup] = {}
    for field, doc in (("prometheusRules", compiled.rules), ("prometheusAlerts", compiled.alerts)):
        if not doc:
            continue
        namespaced = {GRIZZLY_RULE_NAMESPACE: doc} if "groups" in doc else doc
        for namespace, grouping in sorted(namespaced.items()):
            for group in grouping.get("groups") or []:
                key = (namespace, group["name"])
                if key in groups:
                    raise DeliverError(
                        f"{compiled.entry}: {field} group {group['name']!r} is defined twice in namespace "
                        f"{namespace!r}; grizzly would keep only one: rename one of them"
                    )
                groups[key] = RuleGroup(namespace, group["name"], list(group.get("rules") or []))
    return tuple(groups[k] for k in sorted(groups))
