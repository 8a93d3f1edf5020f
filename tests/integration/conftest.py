"""The live stack, started once per test session and shared by every live test that asks for it."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import pytest
from bo1dash.stack import RunningStack, StackOptions, start_stack


def workload_available() -> bool:
    """True once `python -m bo1dash.workload` can run (the workload package has its __main__)."""
    try:
        return importlib.util.find_spec("bo1dash.workload.__main__") is not None
    except ImportError:
        return False


@pytest.fixture(scope="session")
def live_stack() -> Iterator[RunningStack]:
    """PostgreSQL, Redis, exporters, the workload (when present) and Prometheus on 127.0.0.1.

    Session-scoped: starting it costs several seconds (Prometheus's first scrapes). Tests must not stop it.
    """
    with start_stack(StackOptions(seed=1, workload=workload_available())) as stack:
        yield stack
