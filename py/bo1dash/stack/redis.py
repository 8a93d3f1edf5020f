"""A Redis 7 on 127.0.0.1 configured like bo1's dev compose: maxmemory 256mb, allkeys-lru, AOF + RDB."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from bo1dash.stack.process import Service, spawn, wait_until


@dataclass(frozen=True)
class RedisInfo:
    service: Service
    port: int
    url: str
    password: str | None


def redis_conf(port: int, data_dir: Path, password: str | None) -> str:
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
    if password:
        lines.append(f"requirepass {password}")
    return "\n".join(lines) + "\n"


def ping(port: int, password: str | None) -> bool:
    """Speak just enough RESP to ask for PONG."""
    with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
        if password:
            sock.sendall(f"AUTH {password}\r\n".encode())
            if not sock.recv(64).startswith(b"+OK"):
                return False
        sock.sendall(b"PING\r\n")
        return sock.recv(64).startswith(b"+PONG")


def start_redis(binary: str, root: Path, port: int, *, password: str | None, timeout: float) -> RedisInfo:
    base = root / "redis"
    base.mkdir()
    conf = base / "redis.conf"
    conf.write_text(redis_conf(port, base, password))
    conf.chmod(0o600)
    service = spawn("redis-server", [binary, str(conf)], root / "logs" / "redis-server.log", cwd=base)
    wait_until(service, lambda: ping(port, password), what="answering PING", timeout=timeout)
    auth = f":{password}@" if password else ""
    return RedisInfo(service=service, port=port, url=f"redis://{auth}127.0.0.1:{port}/0", password=password)
