"""Fault switches: make the emulator misbehave like the real thing does on a bad day."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Faults:
    """Switches that make the emulator misbehave like the real thing does on a bad day."""

    phantom_next: bool = False  # last page still carries a "next" link
    error_rate: float = 0.0  # fraction of API requests answered with error_status
    error_status: int = 503
    fail_after: int | None = None  # after this many more API requests, every one fails (outage)
    slow_s: float = 0.0  # delay before answering ...
    slow_rate: float = 1.0  # ... this fraction of API requests
    drop_rate: float = 0.0  # connection closed half-way through the body
    malformed_rate: float = 0.0  # 200 with a truncated JSON body
    block: bool = False  # everything answers 403 with an HTML page
    unpaid: bool = False  # API answers 402 (account not paid)
    users_forbidden: bool = False  # /users answers 403 problem+json (no admin rights)
    touch_per_request: int = 0  # records updated on each list request of a touchable collection
    touch_budget: int = 50  # at most this many touches in total (then the business calms down)
    seed: int = 7

    def update(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if not hasattr(self, key):
                raise ValueError(f"unknown fault {key!r}; known: {', '.join(self.__dataclass_fields__)}")
            setattr(self, key, value)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}
