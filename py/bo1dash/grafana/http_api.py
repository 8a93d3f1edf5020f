"""A small stand-in for Grafana 11's HTTP API on 127.0.0.1, written from Grafana's HTTP API documentation.

It serves what delivery (`bo1dash apply|diff|pull`) reads and writes, with the answers the documentation
gives: `/api/health`; folders (`/api/folders`, `/api/folders/:uid`); dashboards (`POST /api/dashboards/db`,
`GET /api/dashboards/uid/:uid`); `/api/search`; datasources (`/api/datasources`, `/api/datasources/uid/:uid`).
Service-account tokens (`Authorization: Bearer`) and basic auth with roles (Viewer, Editor, Admin);
401, 403, 404, 409 (folder or datasource name/uid taken), 412 (`version-mismatch`, `name-exists`) and the
400 "Cannot save provisioned dashboard" for a dashboard loaded by file provisioning.

`GrafanaState` holds folders, dashboards and datasources with their versions; `serve(state)` runs it on a free
port in a thread, so a test can stop one server and start another on the same state (a Grafana restart).
`state.writes_left` simulates an outage: once that many writes went through, every request answers 503
(what a proxy in front of a restarting Grafana says).

Run it by hand: `python -m bo1dash.grafana.http_api --port 3009 --token TOKEN`.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

VIEWER, EDITOR, ADMIN = "Viewer", "Editor", "Admin"
_RANK = {VIEWER: 0, EDITOR: 1, ADMIN: 2}

Answer = tuple[int, Any]


def _msg(message: str, **extra: Any) -> dict[str, Any]:
    return {"message": message, **extra}


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class StoredDashboard:
    id: int
    uid: str
    folder_uid: str
    version: int
    model: dict[str, Any]
    provisioned_file: str | None = None  # set for a dashboard loaded by file provisioning
    created: str = field(default_factory=_now)
    updated: str = field(default_factory=_now)


class GrafanaState:
    """Folders, dashboards and datasources of one Grafana organization, behind one lock."""

    def __init__(
        self,
        *,
        tokens: dict[str, str] | None = None,
        users: dict[str, tuple[str, str]] | None = None,
        version: str = "11.6.0",
    ) -> None:
        self.tokens = dict(tokens or {})  # service-account token -> role
        self.users = dict(users or {})  # login -> (password, role)
        self.version = version
        self.folders: dict[str, dict[str, Any]] = {}
        self.dashboards: dict[str, StoredDashboard] = {}
        self.datasources: dict[str, dict[str, Any]] = {}
        self.writes_left: int | None = None
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, in order
        self._next_id = 1
        self._lock = threading.Lock()

    # --- file provisioning (what Grafana does at start) --------------------------------------------

    def provision(self, provisioning_dir: Path, dashboards_dir: Path, env: dict[str, str] | None = None) -> None:
        """Load `provisioning_dir` as Grafana does at start: the datasources of `datasources/*.yml` (read-only,
        `$VAR` expanded from `env`), and the dashboard providers of `dashboards/*.yml` reading `dashboards_dir`:
        the provider's folder (by folderUid and title) is created, its dashboards are provisioned."""
        for path in sorted((provisioning_dir / "datasources").glob("*.y*ml")):
            text = re.sub(
                r"\$\{(\w+)\}|\$(\w+)", lambda m: (env or {}).get(m.group(1) or m.group(2), ""), path.read_text()
            )
            for entry in (yaml.safe_load(text) or {}).get("datasources") or []:
                fixed = {"id": self._id(), "uid": entry["uid"], "orgId": 1, "version": 1, "readOnly": True}
                self.datasources[entry["uid"]] = self._datasource_fields(entry, fixed)
        for path in sorted((provisioning_dir / "dashboards").glob("*.y*ml")):
            for provider in (yaml.safe_load(path.read_text()) or {}).get("providers") or []:
                folder_uid = ""
                if provider.get("folder"):
                    # Without folderUid Grafana finds the folder by title, or creates it with a generated uid.
                    by_title = [f["uid"] for f in self.folders.values() if f["title"] == provider["folder"]]
                    folder_uid = provider.get("folderUid") or (by_title or [f"f{self._next_id:08d}"])[0]
                    if folder_uid not in self.folders:
                        self._store_folder(folder_uid, provider["folder"])
                for file in sorted(dashboards_dir.glob("*.json")):
                    model = json.loads(file.read_text())
                    stored = StoredDashboard(self._id(), model["uid"], folder_uid, 1, {}, provisioned_file=str(file))
                    stored.model = {**model, "id": stored.id, "version": 1}
                    self.dashboards[model["uid"]] = stored

    # --- request handling ------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        url = urlsplit(target)
        path, query = url.path.rstrip("/") or "/", parse_qs(url.query)
        with self._lock:
            self.requests.append((method, path))
            if self.writes_left == 0:
                return 503, "Service Unavailable"
            if method == "GET" and path == "/api/health":
                return 200, {"commit": "stand-in", "database": "ok", "version": self.version}
            role, denied = self._authenticate(headers.get("authorization", ""))
            if denied:
                return denied
            try:
                payload = json.loads(body) if body else {}
            except ValueError:
                return 400, _msg("bad request data")
            answer = self._route(method, path, query, payload, role)
            if method in ("POST", "PUT") and answer[0] == 200 and self.writes_left is not None:
                self.writes_left -= 1
            return answer

    def _authenticate(self, authorization: str) -> tuple[str, Answer | None]:
        scheme, _, credential = authorization.partition(" ")
        if scheme.lower() == "bearer":
            if credential in self.tokens:
                return self.tokens[credential], None
            return "", (401, _msg("Invalid API key", messageId="api-key.invalid", statusCode=401, traceID=""))
        if scheme.lower() == "basic":
            try:
                login, _, password = base64.b64decode(credential).decode().partition(":")
            except ValueError:
                login, password = "", ""
            if login in self.users and self.users[login][0] == password:
                return self.users[login][1], None
            return "", (
                401,
                _msg("Invalid username or password", messageId="password-auth.failed", statusCode=401, traceID=""),
            )
        return "", (401, _msg("Unauthorized", messageId="auth.unauthorized", statusCode=401, traceID=""))

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any, role: str) -> Answer:
        parts = path.split("/")[2:]  # "/api/folders/x" -> ["folders", "x"]
        writes = method in ("POST", "PUT", "DELETE")
        if parts[:1] == ["folders"]:
            if writes and _RANK[role] < _RANK[EDITOR]:
                return _forbidden("folders:create" if method == "POST" else "folders:write")
            if len(parts) == 1 and method == "GET":
                return 200, [{"id": f["id"], "uid": f["uid"], "title": f["title"]} for f in self._folders_by_title()]
            if len(parts) == 1 and method == "POST":
                return self._create_folder(body)
            if len(parts) == 2 and method == "GET":
                folder = self.folders.get(parts[1])
                return (200, folder) if folder else (404, _msg("folder not found"))
            if len(parts) == 2 and method == "PUT":
                return self._update_folder(parts[1], body)
        if parts[:2] == ["dashboards", "db"] and method == "POST":
            if _RANK[role] < _RANK[EDITOR]:
                return _forbidden("dashboards:write")
            return self._save_dashboard(body)
        if parts[:2] == ["dashboards", "uid"] and len(parts) == 3 and method == "GET":
            return self._get_dashboard(parts[2])
        if parts == ["search"] and method == "GET":
            return 200, self._search(query)
        if parts[:1] == ["datasources"]:
            if writes and _RANK[role] < _RANK[ADMIN]:
                return _forbidden("datasources:create" if method == "POST" else "datasources:write")
            if len(parts) == 1 and method == "GET":
                return 200, [self._datasource_view(d) for d in sorted(self.datasources.values(), key=_by_name)]
            if len(parts) == 1 and method == "POST":
                return self._create_datasource(body)
            if len(parts) == 3 and parts[1] == "uid" and method == "GET":
                ds = self.datasources.get(parts[2])
                return (200, self._datasource_view(ds)) if ds else (404, _msg("Data source not found"))
            if len(parts) == 3 and parts[1] == "uid" and method == "PUT":
                return self._update_datasource(parts[2], body)
        return 404, _msg("Not found")

    # --- folders ---------------------------------------------------------------------------------

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def _folders_by_title(self) -> list[dict[str, Any]]:
        return sorted(self.folders.values(), key=lambda f: (f["title"].lower(), f["uid"]))

    def _store_folder(self, uid: str, title: str) -> dict[str, Any]:
        now = _now()
        folder = {
            "id": self._id(),
            "uid": uid,
            "title": title,
            "url": f"/dashboards/f/{uid}/{_slug(title)}",
            "hasAcl": False,
            "canSave": True,
            "canEdit": True,
            "canAdmin": True,
            "canDelete": True,
            "createdBy": "admin",
            "created": now,
            "updatedBy": "admin",
            "updated": now,
            "version": 1,
        }
        self.folders[uid] = folder
        return folder

    def _title_taken(self, title: str, uid: str) -> bool:
        return any(f["title"].lower() == title.lower() and f["uid"] != uid for f in self.folders.values())

    def _create_folder(self, body: dict[str, Any]) -> Answer:
        title = str(body.get("title") or "").strip()
        if not title:
            return 400, _msg("folder title cannot be empty")
        uid = str(body.get("uid") or f"f{self._next_id:08d}")
        if len(uid) > 40:
            return 400, _msg("uid too long, max 40 characters")
        if uid in self.folders or uid in self.dashboards:
            return 409, _msg("a folder/dashboard with the same uid already exists")
        if self._title_taken(title, uid):
            return 409, _msg("a folder or dashboard in the general folder with the same name already exists")
        return 200, self._store_folder(uid, title)

    def _update_folder(self, uid: str, body: dict[str, Any]) -> Answer:
        folder = self.folders.get(uid)
        if folder is None:
            return 404, _msg("folder not found")
        if not body.get("overwrite") and body.get("version") != folder["version"]:
            return 412, _msg("the folder has been changed by someone else", status="version-mismatch")
        title = str(body.get("title") or folder["title"]).strip()
        if self._title_taken(title, uid):
            return 409, _msg("a folder or dashboard in the general folder with the same name already exists")
        folder.update(
            title=title, url=f"/dashboards/f/{uid}/{_slug(title)}", version=folder["version"] + 1, updated=_now()
        )
        return 200, folder

    # --- dashboards ------------------------------------------------------------------------------

    def _save_dashboard(self, body: dict[str, Any]) -> Answer:
        model = body.get("dashboard")
        if not isinstance(model, dict):
            return 400, _msg("bad request data")
        title = str(model.get("title") or "").strip()
        if not title:
            return 400, _msg("Dashboard title cannot be empty")
        folder_uid = str(body.get("folderUid") or "")
        if folder_uid and folder_uid not in self.folders:
            return 400, _msg("folder not found")
        overwrite = bool(body.get("overwrite"))
        uid = str(model.get("uid") or f"d{self._next_id:08d}")
        if len(uid) > 40:
            return 400, _msg("uid too long, max 40 characters")
        existing = self.dashboards.get(uid)
        given_id = model.get("id") or 0
        if existing is not None:
            if given_id != existing.id and not overwrite:
                return 400, _msg("A dashboard with the same uid already exists")
            if model.get("version") != existing.version and not overwrite:
                return 412, _msg("The dashboard has been changed by someone else", status="version-mismatch")
        elif given_id:
            return 404, _msg("Dashboard not found", status="not-found")
        for other in self.dashboards.values():
            same_place = other.folder_uid == folder_uid and other.model.get("title", "").lower() == title.lower()
            if other.uid != uid and same_place and not overwrite:
                return 412, _msg("A dashboard with the same name in the folder already exists", status="name-exists")
        if existing is not None and existing.provisioned_file:
            return 400, _msg("Cannot save provisioned dashboard")
        if existing is None:
            existing = StoredDashboard(self._id(), uid, folder_uid, 0, {})
            self.dashboards[uid] = existing
        existing.version += 1
        existing.folder_uid, existing.updated = folder_uid, _now()
        existing.model = {**model, "id": existing.id, "uid": uid, "version": existing.version}
        slug = _slug(title)
        return 200, {
            "id": existing.id,
            "uid": uid,
            "url": f"/d/{uid}/{slug}",
            "status": "success",
            "version": existing.version,
            "slug": slug,
            "folderUid": folder_uid,
        }

    def _get_dashboard(self, uid: str) -> Answer:
        stored = self.dashboards.get(uid)
        if stored is None:
            return 404, _msg("Dashboard not found")
        folder = self.folders.get(stored.folder_uid)
        slug = _slug(stored.model.get("title", ""))
        meta = {
            "type": "db",
            "canSave": True,
            "canEdit": True,
            "canAdmin": True,
            "canStar": True,
            "canDelete": True,
            "slug": slug,
            "url": f"/d/{uid}/{slug}",
            "expires": "0001-01-01T00:00:00Z",
            "created": stored.created,
            "updated": stored.updated,
            "updatedBy": "admin",
            "createdBy": "admin",
            "version": stored.version,
            "hasAcl": False,
            "isFolder": False,
            "folderId": folder["id"] if folder else 0,
            "folderUid": stored.folder_uid,
            "folderTitle": folder["title"] if folder else "General",
            "folderUrl": folder["url"] if folder else "",
            "provisioned": stored.provisioned_file is not None,
            "provisionedExternalId": Path(stored.provisioned_file).name if stored.provisioned_file else "",
        }
        return 200, {"dashboard": json.loads(json.dumps(stored.model)), "meta": meta}

    def _search(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        text = (query.get("query") or [""])[0].lower()
        kind = (query.get("type") or [""])[0]
        uids = set(query.get("dashboardUIDs") or [])
        folder_uids = set(query.get("folderUIDs") or [])
        limit = int((query.get("limit") or ["1000"])[0])
        hits: list[dict[str, Any]] = []
        if kind in ("", "dash-folder") and not folder_uids:
            for f in self._folders_by_title():
                if text in f["title"].lower() and (not uids or f["uid"] in uids):
                    hits.append(
                        {
                            "id": f["id"],
                            "uid": f["uid"],
                            "title": f["title"],
                            "uri": f"db/{_slug(f['title'])}",
                            "url": f["url"],
                            "slug": "",
                            "type": "dash-folder",
                            "tags": [],
                            "isStarred": False,
                            "sortMeta": 0,
                        }
                    )
        if kind in ("", "dash-db"):
            for d in sorted(self.dashboards.values(), key=lambda d: (d.model.get("title", "").lower(), d.uid)):
                title = d.model.get("title", "")
                in_folder = not folder_uids or d.folder_uid in folder_uids or (not d.folder_uid and "" in folder_uids)
                if text in title.lower() and (not uids or d.uid in uids) and in_folder:
                    folder = self.folders.get(d.folder_uid)
                    hit = {
                        "id": d.id,
                        "uid": d.uid,
                        "title": title,
                        "uri": f"db/{_slug(title)}",
                        "url": f"/d/{d.uid}/{_slug(title)}",
                        "slug": "",
                        "type": "dash-db",
                        "tags": list(d.model.get("tags") or []),
                        "isStarred": False,
                        "sortMeta": 0,
                    }
                    if folder:
                        hit.update(folderId=folder["id"], folderUid=folder["uid"], folderTitle=folder["title"])
                        hit["folderUrl"] = folder["url"]
                    hits.append(hit)
        return hits[:limit]

    # --- datasources -----------------------------------------------------------------------------

    @staticmethod
    def _datasource_view(ds: dict[str, Any]) -> dict[str, Any]:
        """A datasource as the API returns it: secrets never, `secureJsonFields` says which are set."""
        view = {k: v for k, v in ds.items() if k != "secureJsonData"}
        view["secureJsonFields"] = {k: True for k in sorted(ds.get("secureJsonData") or {})}
        return view

    def _create_datasource(self, body: dict[str, Any]) -> Answer:
        name = str(body.get("name") or "").strip()
        if not name or not body.get("type"):
            return 400, _msg("Required fields name and type")
        uid = str(body.get("uid") or f"ds{self._next_id:06d}")
        if uid in self.datasources:
            return 409, _msg("data source with the same uid already exists")
        if any(d["name"] == name for d in self.datasources.values()):
            return 409, _msg("data source with the same name already exists")
        ds = self._datasource_fields(body, {"id": self._id(), "uid": uid, "orgId": 1, "version": 1, "readOnly": False})
        self.datasources[uid] = ds
        return 200, {
            "datasource": self._datasource_view(ds),
            "id": ds["id"],
            "message": "Datasource added",
            "name": name,
        }

    def _update_datasource(self, uid: str, body: dict[str, Any]) -> Answer:
        ds = self.datasources.get(uid)
        if ds is None:
            return 404, _msg("Data source not found")
        if ds.get("readOnly"):
            return 403, _msg("Cannot update read-only data source")
        if "version" in body and body["version"] != ds["version"]:
            return 409, _msg("Datasource has already been updated by someone else. Please reload and try again")
        name = str(body.get("name") or ds["name"])
        if any(d["name"] == name and d["uid"] != uid for d in self.datasources.values()):
            return 409, _msg("data source with the same name already exists")
        secrets = {**(ds.get("secureJsonData") or {}), **(body.get("secureJsonData") or {})}
        updated = self._datasource_fields(body, {k: ds[k] for k in ("id", "uid", "orgId", "readOnly")})
        updated.update(version=ds["version"] + 1, secureJsonData=secrets)
        self.datasources[uid] = updated
        view = self._datasource_view(updated)
        return 200, {"datasource": view, "id": updated["id"], "message": "Datasource updated", "name": name}

    @staticmethod
    def _datasource_fields(body: dict[str, Any], fixed: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": body.get("name", ""),
            "type": body.get("type", ""),
            "access": body.get("access", "proxy"),
            "url": body.get("url", ""),
            "user": body.get("user", ""),
            "database": body.get("database", ""),
            "basicAuth": bool(body.get("basicAuth", False)),
            "isDefault": bool(body.get("isDefault", False)),
            "jsonData": dict(body.get("jsonData") or {}),
            "secureJsonData": dict(body.get("secureJsonData") or {}),
            **fixed,
        }


def _by_name(ds: dict[str, Any]) -> str:
    return str(ds["name"])


def _forbidden(action: str) -> Answer:
    return 403, _msg(f"You'll need additional permissions to perform this action. Permissions needed: {action}")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, payload = self.server.state.handle(self.command, self.path, headers, body)
        if isinstance(payload, str):
            data, ctype = payload.encode(), "text/plain; charset=utf-8"
        else:
            data, ctype = json.dumps(payload).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, state: GrafanaState) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.state = state


@contextlib.contextmanager
def serve(state: GrafanaState, port: int = 0) -> Iterator[str]:
    """Serve `state` on 127.0.0.1 (a free port when 0) in a thread; yields the base URL, stops on exit."""
    server = _Server(port, state)
    thread = threading.Thread(target=server.serve_forever, name="grafana-stand-in", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bo1dash.grafana.http_api", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=3009)
    parser.add_argument("--token", action="append", default=[], help="an Admin service-account token (repeatable)")
    parser.add_argument("--user", default="admin:admin", help="LOGIN:PASSWORD of an Admin user")
    args = parser.parse_args(argv)
    login, _, password = args.user.partition(":")
    state = GrafanaState(tokens={t: ADMIN for t in args.token}, users={login: (password, ADMIN)})
    with serve(state, args.port) as url:
        print(f"Grafana stand-in on {url} (Ctrl-C stops it)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
