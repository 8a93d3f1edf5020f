"""Where things live in the repository, found from the current directory or this package."""

from __future__ import annotations

import os
from pathlib import Path

_MARKER = "jsonnetfile.json"


def repo_root(start: Path | None = None) -> Path:
    """The repository root: $BO1DASH_REPO, else the nearest parent holding jsonnetfile.json.

    Searched from `start` (default: the current directory), then from this package's location
    (an editable install lives inside the repository).
    """
    env = os.environ.get("BO1DASH_REPO")
    if env:
        return Path(env).resolve()
    for base in (start or Path.cwd(), Path(__file__).resolve()):
        for candidate in (base, *base.parents):
            if (candidate / _MARKER).is_file():
                return candidate
    raise FileNotFoundError(
        f"no {_MARKER} found above {start or Path.cwd()}: run from the bo1 dashboards repository "
        "or set BO1DASH_REPO to its root"
    )


def mixin_entry(root: Path) -> Path:
    return root / "jsonnet" / "mixin.libsonnet"


def vendor_dir(root: Path) -> Path:
    return root / "vendor"


def grafonnet_compat_dir(root: Path) -> Path:
    return root / "jsonnet" / "grafonnet-compat"


def infra_dir(root: Path) -> Path:
    return root / "infra"


def dashboards_dir(infra: Path) -> Path:
    return infra / "grafana" / "dashboards"


def datasources_dir(infra: Path) -> Path:
    return infra / "grafana" / "provisioning" / "datasources"


def dashboard_providers_dir(infra: Path) -> Path:
    return infra / "grafana" / "provisioning" / "dashboards"


def rules_dir(infra: Path) -> Path:
    return infra / "prometheus" / "rules"


# The rule files the build writes into rules_dir (recording rules, alerts); Prometheus loads them by these
# names, and the promtool tests under tests/rules/ name them too.
RULE_FILE_NAMES = {"rules": "bo1-rules.yml", "alerts": "bo1-alerts.yml"}


def rule_file(infra: Path, kind: str) -> Path:
    """The rules (`kind` "rules") or alerts ("alerts") file of the build under `infra`."""
    return rules_dir(infra) / RULE_FILE_NAMES[kind]


def results_dir(root: Path) -> Path:
    return root / "results"
