"""Where Grafana is and who we are there, from grizzly's environment variables.

`GRAFANA_URL` (or `--grafana-url`), and either `GRAFANA_TOKEN` (a service-account token; it wins, as in
grafanactl) or `GRAFANA_USER` + `GRAFANA_PASSWORD` (basic auth). Errors name the variable to set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bo1dash.deliver.errors import DeliverError

URL, TOKEN, USER, PASSWORD = "GRAFANA_URL", "GRAFANA_TOKEN", "GRAFANA_USER", "GRAFANA_PASSWORD"


@dataclass(frozen=True)
class Connection:
    url: str  # without trailing slash
    url_from: str  # "GRAFANA_URL" or "--grafana-url"
    credential: str | tuple[str, str] = field(repr=False)  # token, or (user, password)
    credential_from: str  # the variable(s) to fix when Grafana refuses the credential

    @property
    def uses_token(self) -> bool:
        return isinstance(self.credential, str)


def connection_from_env(env: Mapping[str, str], url: str | None = None) -> Connection:
    """The connection the environment (and an explicit `url`) describe; DeliverError naming what to set."""
    url_from = "--grafana-url" if url else URL
    url = (url or env.get(URL, "")).strip()
    if not url:
        raise DeliverError(
            f"no Grafana address: set {URL} (or pass --grafana-url), e.g. {URL}=http://127.0.0.1:3001", fatal=True
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliverError(f"{url_from}={url!r} is not an http(s) URL: set it like http://127.0.0.1:3001", fatal=True)
    if parts.username or parts.password:
        raise DeliverError(
            f"{url_from} carries credentials: drop them from the URL and set {TOKEN} "
            f"(or {USER} and {PASSWORD}) instead",
            fatal=True,
        )
    url = url.rstrip("/")
    token = env.get(TOKEN, "").strip()
    if token:
        return Connection(url, url_from, token, TOKEN)
    user, password = env.get(USER, ""), env.get(PASSWORD, "")
    if user and password:
        return Connection(url, url_from, (user, password), f"{USER}/{PASSWORD}")
    if user:
        raise DeliverError(f"{USER} is set but {PASSWORD} is not: set {PASSWORD} (or use {TOKEN})", fatal=True)
    raise DeliverError(
        f"no Grafana credentials: set {TOKEN} to a service-account token (or {USER} and {PASSWORD})", fatal=True
    )
