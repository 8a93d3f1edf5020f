"""The Grafana folder of a mixin's dashboards, derived as grizzly derives it.

grizzly (`grr apply mixin.libsonnet`) reads the folder title from `grafanaDashboardFolder` and makes its
uid from the title's letters, digits, `-` and `_`. File provisioning (provision.py) and `bo1dash apply`
use this module so all three put the dashboards in one folder. No title, or "General": Grafana's
General folder (no folder uid).
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from bo1dash.compile import CompiledMixin

GENERAL = "General"
_UID_CHARS = frozenset(string.ascii_letters + string.digits + "-_")
_UID_MAX = 40  # Grafana refuses longer uids


class FolderError(ValueError):
    """`grafanaDashboardFolder` cannot name a folder the three delivery paths agree on."""


@dataclass(frozen=True)
class Folder:
    uid: str
    title: str


def grizzly_uid(title: str) -> str:
    """The folder uid grizzly derives from a title: only letters, digits, `-` and `_` kept."""
    return "".join(ch for ch in title if ch in _UID_CHARS)


def mixin_folder(compiled: CompiledMixin) -> Folder | None:
    """The folder of `compiled`'s dashboards; None for the General folder. Raises FolderError."""
    title = compiled.folder
    if title is None or title == GENERAL:
        return None
    if not isinstance(title, str) or not title.strip():
        raise FolderError(f"grafanaDashboardFolder is {title!r}: set it to the folder's title, a non-empty string")
    uid = grizzly_uid(title)
    if not uid or len(uid) > _UID_MAX:
        raise FolderError(
            f"grafanaDashboardFolder {title!r} gives the folder uid {uid!r} (grizzly keeps letters, digits, - and _), "
            f"which Grafana refuses: choose a title with 1 to {_UID_MAX} such characters"
        )
    configured = (compiled.config.get("grafanaFolder") or {}).get("uid")
    if configured is not None and configured != uid:
        raise FolderError(
            f"_config.grafanaFolder.uid {configured!r} differs from {uid!r}, the uid grizzly derives from the "
            f"title {title!r}: leave the uid derived so every delivery path uses one folder"
        )
    return Folder(uid=uid, title=title)
