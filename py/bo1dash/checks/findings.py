"""The value every check returns: where, what, how bad and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    file: str
    rule: str  # the check that produced it, e.g. "promtool-check-rules"
    severity: str  # "error" | "warning"
    message: str
    fix: str = ""

    def __str__(self) -> str:
        text = f"{self.file}: [{self.severity}] {self.rule}: {self.message}"
        return f"{text} (fix: {self.fix})" if self.fix else text
