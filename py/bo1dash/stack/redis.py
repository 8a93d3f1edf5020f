"""A Redis 7 on 127.0.0.1 configured like bo1's dev compose: maxmemory 256mb, allkeys-lru, AOF + RDB.

The password (if any) may hold any character: Redis reads it from its stdin (never written to disk), as a
config string with every byte but letters and digits escaped; AUTH sends it as a RESP bulk string; the URL
carries it percent-encoded (Redis clients decode it).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from bo1dash.stack.process import Service, spawn, wait_until


@dataclass(frozen=True)
class RedisInfo:
    service: Service
    port: int
    url: str
    password: str | None


def resp_command(*args: str) -> bytes:
    """One command as a RESP array of bulk strings: any byte may be in an argument."""
    out = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        out += [f"${len(data)}\r\n".encode(), data, b"\r\n"]
    return b"".join(out)


def config_string(value: str) -> str:
    """`value` as a double-quoted string of Redis's config syntax (every byte but [A-Za-z0-9] as \\xHH)."""
    return (
        '"' + "".join(chr(b) if chr(b).isascii() and chr(b).isalnum() else f"\\x{b:02x}" for b in value.encode()) + '"'
    )


def password_conf(password: str) -> bytes:
    """The config line Redis reads from stdin (`redis-server FILE -`)."""
    return f"requirepass {config_string(password)}\n".encode()


def redis_url(port: int, password: str | None) -> str:
    auth = f":{quote(password, safe='')}@" if password else ""
    return f"redis://{auth}127.0.0.1:{port}/0"


def redis_conf(port: int, data_dir: Path) -> str:
    """The config file (no secret in it: the password comes on stdin)."""
    lines = [
        "bind 127.0.0.1",
        f"port {port}",
        "protected-mode yes",
        "daemonize no",
        f'dir "{data_dir}"',
        'logfile ""',
        "maxmemory 256mb",
        "maxmemory-policy allkeys-lru",
        "appendonly yes",
        "save 60 1000",
        "databases 16",
    ]
    return "\n".join(lines) + "\n"


def ping(port: int, password: str | None) -> bool:
    """Speak just enough RESP to ask for PONG."""
    with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
        if password:
            sock.sendall(resp_command("AUTH", password))
            if not sock.recv(64).startswith(b"+OK"):
                return False
        sock.sendall(b"PING\r\n")
        return sock.recv(64).startswith(b"+PONG")


def start_redis(binary: str, root: Path, port: int, *, password: str | None, timeout: float) -> RedisInfo:
    base = root / "redis"
    base.mkdir()
    conf = base / "redis.conf"
    conf.write_text(redis_conf(port, base))
    # `-`: Redis reads more config from stdin after the file: the password, which so never touches the disk.
    argv = [binary, str(conf)] + (["-"] if password else [])
    stdin = password_conf(password) if password else None
    service = spawn("redis-server", argv, root / "logs" / "redis-server.log", cwd=base, stdin_data=stdin)
    wait_until(service, lambda: ping(port, password), what="answering PING", timeout=timeout)
    return RedisInfo(service=service, port=port, url=redis_url(port, password), password=password)
