"""What a pull can end with: an :class:`AmoError` of a known kind, or :class:`Cancelled`.

Apart from the client so that the token, pacing and staging modules can raise them without
importing the HTTP client (and without an import cycle).
"""

from __future__ import annotations

#: Error kinds the refresh UI shows (issue 6 contract).
ERROR_KINDS = ("auth", "blocked", "unpaid", "network", "rate_limit", "data", "guard", "disk", "internal")


class AmoError(Exception):
    """A pull failed; ``kind`` is one of :data:`ERROR_KINDS`, ``message`` is Russian + English."""

    def __init__(self, kind: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status  # the HTTP status behind it, when there was one


class Cancelled(Exception):
    """The pull was asked to stop (SIGTERM / cancel button)."""
