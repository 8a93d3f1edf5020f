"""The Grafana stand-in answers as Grafana 11's HTTP API documentation says (raw HTTP, no client library)."""

from __future__ import annotations

import httpx
from standin import LOGIN, PASSWORD, TOKEN, StandIn

from bo1dash.grafana.http_api import VIEWER

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _dashboard(uid: str, title: str, **extra) -> dict:
    return {"id": None, "uid": uid, "title": title, "panels": [], **extra}


def test_health_needs_no_credential_and_everything_else_does(standin: StandIn) -> None:
    health = httpx.get(f"{standin.url}/api/health")
    assert health.status_code == 200 and health.json()["database"] == "ok"
    assert httpx.get(f"{standin.url}/api/folders").status_code == 401
    assert httpx.get(f"{standin.url}/api/folders", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert httpx.get(f"{standin.url}/api/folders", auth=(LOGIN, "nope")).status_code == 401
    assert httpx.get(f"{standin.url}/api/folders", auth=(LOGIN, PASSWORD)).json() == []
    assert httpx.get(f"{standin.url}/api/folders", headers=AUTH).status_code == 200


def test_a_viewer_reads_but_may_not_write(standin: StandIn) -> None:
    standin.state.tokens["viewer"] = VIEWER
    viewer = {"Authorization": "Bearer viewer"}
    assert httpx.get(f"{standin.url}/api/search", headers=viewer).status_code == 200
    answer = httpx.post(f"{standin.url}/api/folders", json={"uid": "x", "title": "X"}, headers=viewer)
    assert answer.status_code == 403 and "permissions" in answer.json()["message"]


def test_folders_refuse_a_taken_uid_or_title_and_a_stale_version(standin: StandIn) -> None:
    url = f"{standin.url}/api/folders"
    created = httpx.post(url, json={"uid": "ops", "title": "Ops"}, headers=AUTH).json()
    assert created["version"] == 1 and created["uid"] == "ops"
    assert httpx.post(url, json={"uid": "ops", "title": "Other"}, headers=AUTH).status_code == 409
    assert httpx.post(url, json={"uid": "ops2", "title": "Ops"}, headers=AUTH).status_code == 409
    assert httpx.get(f"{url}/missing", headers=AUTH).status_code == 404
    renamed = httpx.put(f"{url}/ops", json={"title": "Ops team", "version": 1}, headers=AUTH)
    assert renamed.json()["version"] == 2
    stale = httpx.put(f"{url}/ops", json={"title": "Again", "version": 1}, headers=AUTH)
    assert stale.status_code == 412 and stale.json()["status"] == "version-mismatch"


def test_dashboards_keep_versions_and_refuse_conflicting_saves(standin: StandIn) -> None:
    db = f"{standin.url}/api/dashboards/db"
    first = httpx.post(db, json={"dashboard": _dashboard("a", "A")}, headers=AUTH).json()
    assert first["status"] == "success" and first["version"] == 1
    got = httpx.get(f"{standin.url}/api/dashboards/uid/a", headers=AUTH).json()
    assert got["dashboard"]["version"] == 1 and got["meta"]["provisioned"] is False
    again = httpx.post(db, json={"dashboard": _dashboard("a", "A")}, headers=AUTH)  # id null, uid taken
    assert again.status_code == 400
    stale = httpx.post(db, json={"dashboard": {**got["dashboard"], "version": 0}}, headers=AUTH)
    assert stale.status_code == 412 and stale.json()["status"] == "version-mismatch"
    same_title = httpx.post(db, json={"dashboard": _dashboard("b", "A")}, headers=AUTH)
    assert same_title.status_code == 412 and same_title.json()["status"] == "name-exists"
    saved = httpx.post(db, json={"dashboard": {**got["dashboard"], "title": "A2"}}, headers=AUTH).json()
    assert saved["version"] == 2
    assert httpx.get(f"{standin.url}/api/dashboards/uid/missing", headers=AUTH).status_code == 404
    hits = httpx.get(f"{standin.url}/api/search", params={"type": "dash-db"}, headers=AUTH).json()
    assert [(h["uid"], h["title"]) for h in hits] == [("a", "A2")]


def test_datasources_hide_secrets_and_refuse_a_taken_name(standin: StandIn) -> None:
    url = f"{standin.url}/api/datasources"
    body = {"uid": "pg", "name": "PG", "type": "postgres", "url": "db:5432", "secureJsonData": {"password": "s"}}
    created = httpx.post(url, json=body, headers=AUTH).json()
    assert created["message"] == "Datasource added"
    shown = httpx.get(f"{url}/uid/pg", headers=AUTH).json()
    assert "secureJsonData" not in shown and shown["secureJsonFields"] == {"password": True}
    assert httpx.post(url, json={**body, "uid": "pg2"}, headers=AUTH).status_code == 409
    assert httpx.get(f"{url}/uid/missing", headers=AUTH).status_code == 404


def test_an_outage_answers_503_until_it_ends(standin: StandIn) -> None:
    standin.state.writes_left = 1
    folders = f"{standin.url}/api/folders"
    assert httpx.post(folders, json={"uid": "a", "title": "A"}, headers=AUTH).status_code == 200
    assert httpx.get(folders, headers=AUTH).status_code == 503
    standin.state.writes_left = None
    assert [f["uid"] for f in httpx.get(folders, headers=AUTH).json()] == ["a"]
