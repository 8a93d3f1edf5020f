"""The one error type of delivery: a single line that says what failed and how to fix it."""

from __future__ import annotations


class DeliverError(Exception):
    """One line for the user; `status` is Grafana's HTTP status when Grafana answered, else 0.

    `fatal`: nothing after this can work either (unreachable, refused credentials, a server error).
    """

    def __init__(self, message: str, *, status: int = 0, fatal: bool = False, grafana_status: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.fatal = fatal
        self.grafana_status = grafana_status  # Grafana's `status` field, e.g. "version-mismatch"
