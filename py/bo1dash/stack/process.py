"""Child processes of the stack: start with a log file, health-check, stop, quote the log on failure."""

from __future__ import annotations

import ctypes
import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

_PR_SET_PDEATHSIG = 1


class StackError(RuntimeError):
    """A service of the local stack failed to start or to become healthy."""


@dataclass
class Service:
    """A running child process and where its output goes."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    stop_signal: int = signal.SIGTERM
    argv: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the parent dies, so a killed test run leaves nothing."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def spawn(
    name: str,
    argv: Sequence[str],
    log_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
    stop_signal: int = signal.SIGTERM,
    stdin_data: bytes | None = None,
) -> Service:
    """Start `argv` in its own session (Ctrl-C reaches only us; we stop children in order), output to log_path.

    `stdin_data` is written to the child's stdin, then closed (a secret the child reads at start: not on disk,
    not on the command line).

    The child is sent SIGTERM if the starting thread dies, so start the stack from a thread that outlives it.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    uid: int | None = None
    gid: int | None = None
    groups: list[int] | None = None
    if user is not None:
        entry = pwd.getpwnam(user)
        uid, gid, groups = entry.pw_uid, entry.pw_gid, []
    with open(log_path, "ab") as log:
        popen = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL if stdin_data is None else subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_die_with_parent,
            user=uid,
            group=gid,
            extra_groups=groups,
        )
    if popen.stdin is not None:
        with popen.stdin:
            try:
                popen.stdin.write(stdin_data or b"")
            except BrokenPipeError:
                pass  # it exited before reading: its log says why
    return Service(name=name, popen=popen, log_path=log_path, stop_signal=stop_signal, argv=list(argv))


def stop(service: Service, timeout: float = 15.0) -> None:
    """Send the service its stop signal, wait, then SIGKILL its whole process group if it lingers."""
    if service.running():
        try:
            os.kill(service.pid, service.stop_signal)
        except ProcessLookupError:
            pass
        try:
            service.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    _kill_group(service.pid)
    try:
        service.popen.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return
    # Wait until the group is gone (children reparented to init are reaped by it).
    for _ in range(100):
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.02)


def log_tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log written)"
    tail = text.splitlines()[-lines:]
    return "\n".join(f"    | {line}" for line in tail) if tail else "(log is empty)"


def failure(service: Service, what: str) -> StackError:
    state = f"exited with status {service.popen.returncode}" if not service.running() else "still running"
    return StackError(
        f"{service.name} {what} ({state}). Last lines of {service.log_path}:\n{log_tail(service.log_path)}"
    )


def wait_until(
    service: Service,
    check: Callable[[], bool],
    *,
    what: str,
    timeout: float = 30.0,
    interval: float = 0.05,
) -> None:
    """Poll `check` until it is true; fail with the log tail when the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        if not service.running():
            raise failure(service, f"exited before it was {what}")
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - any error means "not yet"
            pass
        if time.monotonic() > deadline:
            raise failure(service, f"was not {what} after {timeout:.0f}s")
        time.sleep(interval)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
