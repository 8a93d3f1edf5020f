"""An httpx client that counts every request by route template, method and status class."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

EXCLUDED = ("/health", "/ready", "/metrics", "/api/health", "/api/ready")


def status_class(code: int) -> str:
    return f"{str(code)[0]}xx"


@dataclass
class RecordingClient:
    client: httpx.AsyncClient
    counts: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    untemplated: int = 0
    excluded: int = 0
    # every counted 4xx / 5xx answer: (when it was counted, handler, method, status class)
    errors: list[tuple[datetime, str, str, str]] = field(default_factory=list)

    def record(self, template: str | None, method: str, code: int) -> None:
        if template is None:
            self.untemplated += 1
        elif any(e in template for e in EXCLUDED):
            self.excluded += 1
        else:
            self.counts[(template, method, status_class(code))] += 1
            if code >= 400:
                self.errors.append((datetime.now(UTC), template, method, status_class(code)))

    async def call(self, method: str, template: str | None, path: str, **kwargs: object) -> httpx.Response:
        response = await self.client.request(method, path, **kwargs)  # type: ignore[arg-type]
        self.record(template, method, response.status_code)
        return response
