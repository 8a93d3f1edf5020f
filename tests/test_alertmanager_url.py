"""The Alertmanager receiver URL reaches Alertmanager byte for byte, whatever it contains.

The alertmanager service of docker-compose.yml runs here as its container would (tests/compose_run.py):
`docker-compose config` interpolates the environment, the entrypoint runs with the container's mounts
mapped to host paths, and the real Alertmanager (Debian: prometheus-alertmanager) starts on 127.0.0.1
with what it wrote. A local webhook receiver proves a notification arrives at the URL given.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx
import pytest
import yaml
from compose_run import ROOT, HostRun, container_env, host_argv, resolved_service

from bo1dash.checks import check_alertmanager_config
from bo1dash.checks.tools import COMPOSE_DUMMY_ENV
from bo1dash.stack.process import free_port

ALERTMANAGER = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"

# What webhook URLs look like in the wild (a token and a channel), plus every character that has a meaning
# to sed, sh, YAML or Go's URL parser: & | \1 $ # quotes, spaces.
TRICKY_URLS = [
    "https://hooks.example.com/services/T0/B1?token=abc&channel=ops",
    "https://hooks.example.com/a|b\\1/c?x=1&y=2|3&z=\\1&w=$HOME&v=${PATH}#frag",
    "https://hooks.example.com/with space/and%09tab?q=a b&r='single'&s=\"double\"&t=#x y",
    "https://hooks.example.com/p?sed=s|a|b|g&amp=&&ref=\\0\\\\&dollar=$$1",
    "https://user:p%40ss@hooks.example.com:8443/x?y=-c x=y # not a comment",
]


def _env(url: str) -> dict[str, str]:
    return {**os.environ, **COMPOSE_DUMMY_ENV, "ALERTMANAGER_WEBHOOK_URL": url}


def _render(url: str, scratch: Path, alertmanager: str) -> tuple[HostRun, subprocess.Popen[bytes]]:
    service = resolved_service("alertmanager", _env(url))
    run = host_argv(service, scratch, {"/bin/alertmanager": alertmanager})
    proc = subprocess.Popen(
        run.argv, env={**os.environ, **container_env(service)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    return run, proc


def _rendered_config(run: HostRun) -> Path:
    written = [p for target, d in run.mounts.items() if target.startswith("/run/") for p in d.iterdir()]
    assert len(written) == 1, written
    return written[0]


@pytest.mark.parametrize("url", TRICKY_URLS)
def test_the_config_alertmanager_reads_holds_the_url_byte_for_byte(url: str, tmp_path: Path) -> None:
    # The program the entrypoint execs in the image, here a stand-in that only says what it was given.
    argv_file = tmp_path / "argv.json"
    stand_in = tmp_path / "alertmanager"
    stand_in.write_text(
        f'#!/bin/sh\nexec python3 -c \'import json, sys; json.dump(sys.argv[1:], open("{argv_file}", "w"))\' "$@"\n'
    )
    stand_in.chmod(0o755)
    run, proc = _render(url, tmp_path, str(stand_in))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    config = _rendered_config(run)
    assert json.loads(argv_file.read_text())[-1] == f"--config.file={config}"
    assert check_alertmanager_config(config) == []
    doc = yaml.safe_load(config.read_text())
    urls = [w["url"] for r in doc["receivers"] for w in r.get("webhook_configs", [])]
    assert urls and all(u == url for u in urls), urls
    # Only the URL differs from the committed config, and the copy is the container user's alone.
    committed = yaml.safe_load((ROOT / "infra" / "alertmanager" / "config.yml").read_text())
    for receiver in committed["receivers"]:
        for webhook in receiver["webhook_configs"]:
            webhook["url"] = url
    assert doc == committed
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


def test_the_rendered_config_lives_on_a_tmpfs_only() -> None:
    """The URL is a secret: the copy with it goes to a tmpfs of the container, never to a volume."""
    service = resolved_service("alertmanager", _env(TRICKY_URLS[0]))
    tmpfs = service.get("tmpfs", [])
    tmpfs = [tmpfs] if isinstance(tmpfs, str) else tmpfs
    config_flags = [a for a in service["command"] if a.startswith("/run/")]
    assert config_flags and all(any(a.startswith(t + "/") for t in tmpfs) for a in config_flags), (tmpfs, config_flags)
    volumes = [v.split(":")[1] for v in service["volumes"] if not v.startswith("/")]
    assert not any(a.startswith(v + "/") for a in config_flags for v in volumes)


@pytest.mark.parametrize(
    "url, says",
    [("", "empty"), ("https://a.example/x\nhttps://b.example/", "line break"), ("https://a.example/\r", "line break")],
)
def test_an_unusable_url_stops_the_container_with_one_line(url: str, says: str, tmp_path: Path) -> None:
    env = {**_env("https://placeholder.example/"), "ALERTMANAGER_WEBHOOK_URL": "x"}
    service = resolved_service("alertmanager", env)
    run = host_argv(service, tmp_path, {"/bin/alertmanager": "/bin/true"})
    proc = subprocess.run(
        run.argv, env={**os.environ, "ALERTMANAGER_WEBHOOK_URL": url}, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "ALERTMANAGER_WEBHOOK_URL" in lines[0] and says in lines[0], proc.stderr
    assert not [p for t, d in run.mounts.items() if t.startswith("/run/") for p in d.iterdir()]


class _Receiver(BaseHTTPRequestHandler):
    hits: list[tuple[str, dict]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).hits.append((self.path, json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[int, list[tuple[str, dict]]]]:
    hits: list[tuple[str, dict]] = []
    handler = type("Receiver", (_Receiver,), {"hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], hits
    finally:
        server.shutdown()
        thread.join(timeout=30)


@pytest.mark.skipif(not Path(ALERTMANAGER).exists(), reason="prometheus-alertmanager (Debian) missing")
def test_alertmanager_posts_a_critical_alert_to_exactly_that_url(receiver, tmp_path: Path) -> None:
    port, hits = receiver
    path = "/hook/a|b\\1/with space"
    query = "token=t0k&channel=ops|on-call&re=\\1&cost=$5"
    url = f"http://127.0.0.1:{port}{path}?{query}#frag"
    web = free_port()
    wrapper = tmp_path / "alertmanager"
    # Only on 127.0.0.1 and without clustering here; everything else as in the container.
    wrapper.write_text(
        f'#!/bin/sh\nexec {ALERTMANAGER} "$@" --web.listen-address=127.0.0.1:{web} --cluster.listen-address=\n'
    )
    wrapper.chmod(0o755)
    run, proc = _render(url, tmp_path, str(wrapper))
    try:
        base = f"http://127.0.0.1:{web}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
            try:
                if httpx.get(f"{base}/-/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        alert = [{"labels": {"alertname": "UrlProbe", "severity": "critical", "job": "probe"}}]
        assert httpx.post(f"{base}/api/v2/alerts", json=alert, timeout=10).status_code == 200
        deadline = time.monotonic() + 90  # the critical route's group_wait is 10s
        while not hits and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.communicate(timeout=60)
    assert hits, "no notification reached the webhook"
    got, body = hits[0]
    got_path, _, got_query = got.partition("?")
    assert unquote(got_path) == urlsplit(url).path == path
    assert got_query == query
    assert body["commonLabels"]["alertname"] == "UrlProbe"
