"""nox sessions: thin callers of `bo1dash` (see README.md)."""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.sessions = ["build", "lint"]
nox.options.reuse_existing_virtualenvs = True
nox.options.default_venv_backend = "venv"

ALL_EXTRAS = ".[workload,preview,test]"


def _install(session: nox.Session, spec: str = ".") -> None:
    session.install("-q", "-e", spec)


@nox.session
def build(session: nox.Session) -> None:
    """Compile the mixin and write dashboards + provisioning (`-- --vendor DIR --out DIR`)."""
    _install(session)
    session.run("bo1dash", "build", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Lint dashboards (ours, or the JSON files after `--`); `-- --format json FILES` for JSON."""
    _install(session)
    session.run("bo1dash", "lint", *session.posargs)


@nox.session
def check(session: nox.Session) -> None:
    """Static checks: ruff (lint + format), mypy on py/, jsonnetfmt on every Jsonnet file of jsonnet/."""
    # mypy reads the optional dependencies' types too (fastapi, matplotlib, ...).
    _install(session, ".[workload,preview,check]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
    jsonnet = sorted(str(p) for pattern in ("*.jsonnet", "*.libsonnet") for p in Path("jsonnet").rglob(pattern))
    session.run("jsonnetfmt", "--test", *jsonnet, external=True)


@nox.session
def test(session: nox.Session) -> None:
    """The whole test suite, live stack tests included (needs scripts/install-debian-deps)."""
    _install(session, ALL_EXTRAS)
    session.run("pytest", *(session.posargs or ["-q", "-rs"]))


@nox.session
def verify(session: nox.Session) -> None:
    """Start the local stack, run the scenario, prove every panel (`-- FILE...` for other dashboards)."""
    _install(session, ".[workload]")
    # cAdvisor has no Debian package and needs a container runtime: its panels cannot be proven on
    # a machine without one, and are reported as such (never as passed).
    session.run("bo1dash", "verify", "--allow-unprovable", "cadvisor", *session.posargs)


@nox.session
def up(session: nox.Session) -> None:
    """Start the local stack with the scenario's data and keep it up until Ctrl-C."""
    _install(session, ".[workload]")
    session.run("bo1dash", "up", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """30 days of production-scale history; time every panel at 1h/24h/7d/30d, rules vs raw."""
    _install(session, ".[workload]")
    session.run("bo1dash", "bench", *session.posargs)


@nox.session
def preview(session: nox.Session) -> None:
    """Render every dashboard to a PNG from live query results (results/preview/)."""
    _install(session, ".[workload,preview]")
    session.run("bo1dash", "preview", *session.posargs)


@nox.session
def export(session: nox.Session) -> None:
    """Write the mixin as resource files: `-- --format grizzly|manifest --out DIR`."""
    _install(session)
    session.run("bo1dash", "export", *session.posargs)


@nox.session
def apply(session: nox.Session) -> None:
    """Create/update the folder and dashboards in Grafana ($GRAFANA_URL, $GRAFANA_TOKEN); `-- --dry-run`."""
    _install(session)
    session.run("bo1dash", "apply", *session.posargs)


@nox.session
def diff(session: nox.Session) -> None:
    """What apply would change; `bo1dash diff` exits 0 equal, 1 differs, 2 error (nox fails on 1 and 2)."""
    _install(session)
    session.run("bo1dash", "diff", *session.posargs)


@nox.session
def pull(session: nox.Session) -> None:
    """Write live dashboards as normalized JSON: `-- --out DIR [UID ...]`."""
    _install(session)
    session.run("bo1dash", "pull", *session.posargs)


@nox.session
def watch(session: nox.Session) -> None:
    """Rebuild and lint on every change under jsonnet/ and vendor/ (`-- --apply` pushes); Ctrl-C ends."""
    _install(session)
    session.run("bo1dash", "watch", *session.posargs)
