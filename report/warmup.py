"""Warm-up: the views most people open first, computed into the shared caches before they ask.

After a new snapshot is published (and when a server process starts), each tab's default view
and the common periods (:data:`PRESETS`) are rendered once, KPI cards and every panel, so their
metric tables and rendered panels are in ``report.cache`` when the first viewer arrives.

Choices where the spec is silent:

* One daemon thread per server process (:class:`Warmer`), which looks at the snapshot source
  every :data:`POLL_S` seconds (a ``stat`` of ``CURRENT``) and warms each new snapshot once;
  viewers are never made to wait for it. Of the processes sharing the cache (workers, hosts on
  one Redis) only the first to claim a snapshot (``report.cache.claim``) warms it: under load
  two workers warming at once cost viewers a fifth of the views per second (bench/README.md).
* Bounded: it stops after :data:`BUDGET_S` seconds of work per snapshot, runs at the lowest
  CPU priority (Linux: a thread has its own nice value) and yields between panels, so a
  viewer's request is not stuck behind it.
* In the default language and the default filters (all cities, all managers); the order puts
  each tab's default view first.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable

from etl.config import Config
from report import cache
from report.source import SnapshotInfo, SnapshotSource
from report.urlstate import DEFAULT_PERIOD, TAB_PATHS, ViewState

log = logging.getLogger(__name__)

PRESETS = ("this_month", "last_month", "this_year")
BUDGET_S = 180.0
POLL_S = 30.0
PAUSE_S = 0.02  # between two panels: lets a viewer's request take the interpreter


def views(lang: str) -> list[ViewState]:
    """Each tab's default view, then each tab in each preset period (no view twice)."""
    periods = dict.fromkeys([DEFAULT_PERIOD, *PRESETS])
    states = [ViewState(tab=tab, lang=lang, period=p) for p in periods for tab in TAB_PATHS]
    return list(dict.fromkeys(states))


def warm(
    info: SnapshotInfo,
    config: Config,
    lang: str,
    budget_s: float = BUDGET_S,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Render :func:`views` of ``info``'s snapshot through the caches until ``budget_s`` is
    spent; the number of panels rendered (or found rendered)."""
    from report.views import render_panel, render_tab, tab_panels

    deadline = clock() + budget_s
    done = 0
    for state in views(lang):
        if clock() > deadline:
            break
        render_tab(state, info.snap, info.today, config)
        for panel in tab_panels(state):
            if clock() > deadline:
                break
            render_panel(panel.id, state, info.snap, info.today)
            done += 1
            time.sleep(PAUSE_S)
    return done


class Warmer:
    """The background thread of one server process that warms each new snapshot once."""

    def __init__(self, source: SnapshotSource, config: Config, lang: str, poll_s: float = POLL_S) -> None:
        self._source, self._config, self._lang, self._poll_s = source, config, lang, poll_s
        self._warmed: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="report-warmup", daemon=True)

    def start(self) -> Warmer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)  # this thread only (Linux)
        while not self._stop.is_set():
            self.once()
            self._stop.wait(self._poll_s)

    def once(self) -> int:
        """Warm the current snapshot if it is new to this process; panels rendered (0: nothing new)."""
        try:
            info = self._source.get()
            if info is None or info.snap.id == self._warmed:
                return 0
            self._warmed = info.snap.id
            if not cache.claim(f"warm-up|{info.snap.id}", BUDGET_S * 2):
                return 0  # another process warms this snapshot
            started = time.monotonic()
            done = warm(info, self._config, self._lang)
            log.info("warm-up of %s: %d panels in %.1f s", info.snap.id, done, time.monotonic() - started)
            return done
        except Exception:  # a failed warm-up only means colder first views
            log.exception("warm-up failed")
            return 0
