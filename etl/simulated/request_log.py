"""The emulator's request log, and the pacing check tests run on it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass
class LogEntry:
    t: float  # time.time() when the request arrived
    mono: float  # time.monotonic() when the request arrived
    token_id: str | None
    method: str
    path: str
    query: str
    status: int = 0


def sliding_window_max(times: Iterable[float], window_s: float = 1.0) -> int:
    """The most requests in any ``window_s`` window (half-open), for checking a client's pacing."""
    ordered = sorted(times)
    best = 0
    lo = 0
    for hi, moment in enumerate(ordered):
        while moment - ordered[lo] >= window_s:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def iter_log_times(entries: Iterable[LogEntry], token_id: str | None = None) -> Iterator[float]:
    for entry in entries:
        if token_id is None or entry.token_id == token_id:
            yield entry.mono
