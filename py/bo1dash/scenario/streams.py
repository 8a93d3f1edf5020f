"""SSE viewers the scenario keeps open after it returns, on an event loop of their own thread."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field

import httpx


async def read_stream(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], connected: asyncio.Event | None = None
) -> tuple[int, list[str]]:
    """Read an SSE stream to its end; returns (status code, event types seen)."""
    events: list[str] = []
    async with client.stream("GET", path, headers=headers) as response:
        if connected is not None:
            connected.set()
        async for line in response.aiter_lines():
            if connected is not None and not connected.is_set():
                connected.set()
            if line.startswith("event:"):
                events.append(line.split(":", 1)[1].strip())
        return response.status_code, events


@dataclass
class StreamHolder:
    """Opens SSE streams that stay open until close(); each is one in-progress request server side."""

    base_url: str
    _loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    _futures: list[Future[object]] = field(default_factory=list)
    _thread: threading.Thread | None = None
    _client: httpx.AsyncClient | None = None

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._loop.run_forever, name="sse-holder", daemon=True)
        self._thread.start()

    async def _make_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, timeout=httpx.Timeout(10.0, read=None))

    def open(self, path: str, headers: dict[str, str]) -> None:
        """Open a stream and return once the server has answered its headers."""
        if self._client is None:
            self._client = asyncio.run_coroutine_threadsafe(self._make_client(), self._loop).result()
        connected = threading.Event()

        async def hold() -> tuple[int, list[str]]:
            flag = asyncio.Event()
            watcher = asyncio.ensure_future(_signal(flag, connected))
            try:
                assert self._client is not None
                return await read_stream(self._client, path, headers, flag)
            finally:
                watcher.cancel()

        self._futures.append(asyncio.run_coroutine_threadsafe(hold(), self._loop))
        if not connected.wait(timeout=30):
            raise RuntimeError(f"SSE stream {path} did not open")

    @property
    def open_count(self) -> int:
        return sum(1 for f in self._futures if not f.done())

    def close(self) -> None:
        for future in self._futures:
            future.cancel()
        if self._client is not None:
            asyncio.run_coroutine_threadsafe(self._client.aclose(), self._loop).result(timeout=30)
            self._client = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=30)


async def _signal(flag: asyncio.Event, connected: threading.Event) -> None:
    await flag.wait()
    connected.set()
