"""Where and as whom: grizzly's variables, the token first, every error naming what to set."""

from __future__ import annotations

import pytest

from bo1dash.deliver.client import Grafana
from bo1dash.deliver.connection import connection_from_env
from bo1dash.deliver.errors import DeliverError


def test_the_token_wins_over_user_and_password() -> None:
    env = {"GRAFANA_URL": "http://g:3000/", "GRAFANA_TOKEN": "t", "GRAFANA_USER": "u", "GRAFANA_PASSWORD": "p"}
    conn = connection_from_env(env)
    assert (conn.url, conn.credential, conn.credential_from) == ("http://g:3000", "t", "GRAFANA_TOKEN")
    basic = connection_from_env({"GRAFANA_URL": "http://g", "GRAFANA_USER": "u", "GRAFANA_PASSWORD": "p"})
    assert basic.credential == ("u", "p") and "GRAFANA_PASSWORD" in basic.credential_from


def test_the_url_option_overrides_the_variable_and_is_named_in_errors() -> None:
    conn = connection_from_env({"GRAFANA_URL": "http://a", "GRAFANA_TOKEN": "t"}, "https://b/grafana")
    assert conn.url == "https://b/grafana" and conn.url_from == "--grafana-url"
    assert Grafana(conn).api_url == "https://b/grafana/api"  # a Grafana under a sub-path
    with pytest.raises(DeliverError, match="--grafana-url"):
        connection_from_env({"GRAFANA_TOKEN": "t"}, "127.0.0.1:3001")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "GRAFANA_URL"),
        ({"GRAFANA_URL": "http://g"}, "GRAFANA_TOKEN"),
        ({"GRAFANA_URL": "http://g", "GRAFANA_USER": "u"}, "GRAFANA_PASSWORD"),
        ({"GRAFANA_URL": "http://u:p@g", "GRAFANA_TOKEN": "t"}, "GRAFANA_URL"),
    ],
)
def test_what_is_missing_is_named(env: dict[str, str], named: str) -> None:
    with pytest.raises(DeliverError) as err:
        connection_from_env(env)
    assert named in err.value.message and "\n" not in err.value.message
