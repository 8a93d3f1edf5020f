"""The stack's Redis with a password that needs quoting everywhere: a real redis-server, a real redis-py client.

`bo1dash up --redis-password` passes the user's password: it must reach Redis intact (config syntax), log in
over RESP (AUTH), survive the URL the workload's client and the verifier parse, and never be written to disk.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from bo1dash.stack.binaries import REDIS_SERVER, find_binaries
from bo1dash.stack.process import free_port, stop
from bo1dash.stack.redis import ping, start_redis
from bo1dash.verify.stack_facts import redis_maxmemory

PASSWORDS = [
    "plain-S3cret",
    "with space and 'single' \"double\" quotes",
    "back\\slash \\x41 \\n -c x=y #hash",
    "url/delims:@?&=%20+",
    "unicodé ünïcödé \u2603",
]


@pytest.mark.parametrize("password", PASSWORDS)
def test_redis_takes_the_password_byte_for_byte(password: str, tmp_path: Path) -> None:
    binary = find_binaries((REDIS_SERVER,))["redis-server"]
    (tmp_path / "logs").mkdir()
    info = start_redis(binary, tmp_path, free_port(), password=password, timeout=30)
    try:
        client = redis.Redis.from_url(info.url)  # as the workload connects (REDIS_URL)
        assert client.ping()
        assert client.config_get("requirepass") == {"requirepass": password}
        client.close()
        assert redis_maxmemory(info.url) == 256 * 1024 * 1024  # the verifier's own RESP client
        assert not ping(info.port, password + "x")
        written = [p for p in tmp_path.rglob("*") if p.is_file()]
        assert written and not any(password.encode() in p.read_bytes() for p in written)
    finally:
        stop(info.service)
