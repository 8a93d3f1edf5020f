"""Shared fixtures: the repository root and the data shared beside it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "py") not in sys.path:  # running pytest without an install
    sys.path.insert(0, str(ROOT / "py"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    path = ROOT.parent / "shared"
    if not path.is_dir():
        pytest.skip("cross-check only: ../shared (bo1 contract, Grafana JSON Schema) is not beside the repository")
    return path


# A bare PostgreSQL and redis-server for the workload and scenario tests (see servers.py).
# The lint tests' temporary provisioning directory (see lintcases.py).
from lintcases import env  # noqa: E402,F401
from servers import postgres_url, redis_url  # noqa: E402,F401
