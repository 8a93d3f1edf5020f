"""Grafana's HTTP API through grafana-client, every failure turned into one DeliverError line.

`open_grafana(connection)` checks that Grafana answers and accepts the credential before anything is
read or written, so a wrong token or an unreachable address fails first, having changed nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import niquests
from grafana_client import GrafanaApi
from grafana_client.client import GrafanaException, GrafanaTimeoutError

from bo1dash.deliver.connection import Connection
from bo1dash.deliver.errors import DeliverError

TIMEOUT_SECONDS = 10.0
T = TypeVar("T")


class Grafana:
    """The calls delivery makes. Getters answer None for 404; everything else raises DeliverError."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.url = connection.url
        # grafana-client appends "api" to the URL's path: a Grafana under a sub-path needs the trailing slash.
        self._api = GrafanaApi.from_url(connection.url + "/", credential=connection.credential, timeout=TIMEOUT_SECONDS)

    @property
    def api_url(self) -> str:
        return str(self._api.client.url)

    # --- reads -----------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return self._call("read /api/health", lambda: self._api.client.GET("/health"))

    def check_credential(self) -> None:
        """An authenticated read: raises the 401 line (naming the variable) when the credential is refused."""
        self._call("search dashboards", lambda: self._api.search.search_dashboards(limit=1))

    def folder(self, uid: str) -> dict[str, Any] | None:
        return self._get(f"read folder {uid}", lambda: self._api.folder.get_folder(uid))

    def folders(self) -> list[dict[str, Any]]:
        return self._call("list folders", self._api.folder.get_all_folders)

    def dashboard(self, uid: str) -> dict[str, Any] | None:
        """`{"dashboard": model, "meta": {...}}`, or None when Grafana has no dashboard of that uid."""
        return self._get(f"read dashboard {uid}", lambda: self._api.dashboard.get_dashboard(uid))

    def search(self, **params: Any) -> list[dict[str, Any]]:
        return self._call("search dashboards", lambda: self._api.search.search_dashboards(**params))

    def datasource(self, uid: str) -> dict[str, Any] | None:
        return self._get(f"read datasource {uid}", lambda: self._api.datasource.get_datasource_by_uid(uid))

    # --- writes ----------------------------------------------------------------------------------

    def create_folder(self, uid: str, title: str) -> dict[str, Any]:
        return self._call(f"create folder {uid}", lambda: self._api.folder.create_folder(title, uid=uid))

    def update_folder(self, uid: str, title: str, version: int) -> dict[str, Any]:
        return self._call(
            f"update folder {uid}", lambda: self._api.folder.update_folder(uid, title=title, version=version)
        )

    def save_dashboard(self, model: dict[str, Any], folder_uid: str, message: str) -> dict[str, Any]:
        body = {"dashboard": model, "folderUid": folder_uid, "overwrite": False, "message": message}
        return self._call(f"save dashboard {model.get('uid')}", lambda: self._api.dashboard.update_dashboard(body))

    def create_datasource(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call(f"create datasource {body['uid']}", lambda: self._api.datasource.create_datasource(body))

    def update_datasource(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call(f"update datasource {uid}", lambda: self._api.datasource.update_datasource_by_uid(uid, body))

    # --- errors ----------------------------------------------------------------------------------

    def _get(self, what: str, call: Callable[[], T]) -> T | None:
        try:
            return self._call(what, call)
        except DeliverError as exc:
            if exc.status == 404:
                return None
            raise

    def _call(self, what: str, call: Callable[[], T]) -> T:
        conn = self.connection
        try:
            return call()
        except niquests.exceptions.ConnectionError:
            raise DeliverError(
                f"cannot reach Grafana at {self.url} ({conn.url_from}): nothing answers there; "
                f"start Grafana or fix {conn.url_from}",
                fatal=True,
            ) from None
        except GrafanaTimeoutError:
            raise DeliverError(
                f"Grafana at {self.url} did not answer within {TIMEOUT_SECONDS:g}s to {what}", fatal=True
            ) from None
        except GrafanaException as exc:
            raise self._refused(what, exc) from None
        except niquests.exceptions.RequestException as exc:
            raise DeliverError(f"cannot {what} at {self.url}: {exc}", fatal=True) from None

    def _refused(self, what: str, exc: GrafanaException) -> DeliverError:
        status = int(exc.status_code or 0)
        body = exc.response if isinstance(exc.response, dict) else {}
        said = str(body.get("message") or exc.response or exc.message).strip()
        conn = self.connection
        if status == 401:
            fix = (
                f"set {conn.credential_from} to a valid service-account token"
                if conn.uses_token
                else f"set {conn.credential_from} to a Grafana login"
            )
            return DeliverError(
                f"Grafana at {self.url} refused {conn.credential_from} (401 {said}): {fix}", status=401, fatal=True
            )
        if status == 403:
            return DeliverError(
                f"the account of {conn.credential_from} may not {what} (403 {said}): give it the Editor role "
                "(Admin to apply datasources)",
                status=403,
                fatal=True,
            )
        return DeliverError(
            f"Grafana answered {status} to {what}: {said}",
            status=status,
            fatal=status >= 500 or status == 0,
            grafana_status=str(body.get("status") or ""),
        )


def open_grafana(connection: Connection) -> Grafana:
    """A client for `connection`, after checking that Grafana answers and accepts the credential."""
    grafana = Grafana(connection)
    grafana.health()
    grafana.check_credential()
    return grafana
