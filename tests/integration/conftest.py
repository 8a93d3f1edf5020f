"""The live stack, started once per test session and shared by every live test that asks for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bo1dash.stack import RunningStack, StackOptions, start_stack


@pytest.fixture(scope="session")
def live_stack() -> Iterator[RunningStack]:
    """PostgreSQL, Redis, exporters, the bo1 look-alike workload and Prometheus on 127.0.0.1.

    Session-scoped: starting it costs several seconds (Prometheus's first scrapes). Tests must not stop it.
    """
    with start_stack(StackOptions(seed=1)) as stack:
        yield stack
