"""Request pacing: amoCRM allows 7 requests/s and blocks IPs that lean on 429s (``AMOCRM.md``).

So the client paces itself rather than reacting to 429s; see :class:`Pacer` for the rule.
"""

from __future__ import annotations

import collections
import threading
import time

from etl.extract.errors import Cancelled


class Pacer:
    """At most ``n = floor(rate)`` requests per window, the window anchored at *answers*.

    Request ``k + n`` may start only ``window`` seconds after request ``k``'s answer arrived.  The
    server counts a request at some moment between its start and its answer, so any ``n + 1``
    consecutive requests are counted at least ``window`` (> 1 s) apart, however late the server
    saw them: no jitter on the way can put 8 requests into one second at 7/s.  The window is
    ``n / rate × (1 + margin)``; requests are also kept at least half the average spacing apart
    (no bursts).  The sustained rate is about ``n / (window + latency)``.
    """

    def __init__(self, rate_per_s: float, margin: float = 0.01, cancel: threading.Event | None = None) -> None:
        self.n = max(1, int(rate_per_s))
        self.window_s = self.n / rate_per_s * (1.0 + margin) + 0.001
        self._ceiling = self.window_s * 1.3
        self.cancel = cancel or threading.Event()
        self._ends: collections.deque[float] = collections.deque(maxlen=self.n)
        self._last_start: float | None = None
        self._lock = threading.Lock()

    @property
    def interval(self) -> float:
        """The average spacing between starts (seconds), answers taking no time."""
        return self.window_s / self.n

    def wait(self) -> None:
        """Block until the next request may start (call :meth:`done` when its answer is in)."""
        with self._lock:
            now = time.monotonic()
            due = now
            if self._last_start is not None:
                due = max(due, self._last_start + self.interval / 2)
            if len(self._ends) == self.n:
                due = max(due, self._ends[0] + self.window_s)
            if due > now and self.cancel.wait(due - now):
                raise Cancelled()
            if self.cancel.is_set():
                raise Cancelled()
            self._last_start = time.monotonic()

    def done(self) -> None:
        """The answer (or the failure) of the request started last has arrived."""
        with self._lock:
            self._ends.append(time.monotonic())

    def slow_down(self) -> None:
        """A 429 means the server counts differently than we think: widen the window by 5 %."""
        self.window_s = min(self.window_s * 1.05, self._ceiling)

    def sleep(self, seconds: float) -> None:
        if seconds > 0 and self.cancel.wait(seconds):
            raise Cancelled()
