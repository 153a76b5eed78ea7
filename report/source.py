"""The snapshot the report shows: re-read only when ``CURRENT`` changes (an atomic switch needs no restart)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from etl.snapshot.store import Snapshot, SnapshotError, open_current


@dataclass(frozen=True)
class SnapshotInfo:
    """A snapshot plus what the frame needs from it, read once per snapshot."""

    snap: Snapshot
    cities: tuple[str, ...]
    users: pl.DataFrame  # user_id, name, city
    today: date  # the data's "today": data_as_of as a date in the report time zone

    @property
    def user_ids(self) -> set[int]:
        return set(self.users["user_id"].to_list())


class SnapshotSource:
    """The current snapshot, re-read only when ``CURRENT`` changes (an atomic switch needs no restart)."""

    def __init__(self, snapshots_dir: Path, loader: Callable[[], Snapshot] | None = None) -> None:
        self._dir = snapshots_dir
        self._loader = loader
        self._lock = threading.Lock()
        self._key: object = None
        self._info: SnapshotInfo | None = None

    def _current_key(self) -> object:
        try:
            st = (self._dir / "CURRENT").stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def get(self) -> SnapshotInfo | None:
        if self._loader is not None:
            snap = self._loader()
            with self._lock:
                if self._info is None or self._info.snap.id != snap.id:
                    self._info = _read_info(snap)
                return self._info
        key = self._current_key()
        with self._lock:
            if key is not None and key == self._key and self._info is not None:
                return self._info
            try:
                snap = open_current(self._dir)
            except SnapshotError:
                self._key, self._info = None, None
                return None
            if self._info is None or self._info.snap.id != snap.id:
                self._info = _read_info(snap)
            self._key = key
            return self._info


def _read_info(snap: Snapshot) -> SnapshotInfo:
    cities = tuple(sorted(snap.read("cities")["city"].to_list()))
    users = snap.read("users").select("user_id", "name", "city").sort("name")
    today = snap.data_as_of.astimezone(ZoneInfo(snap.timezone)).date()
    return SnapshotInfo(snap=snap, cities=cities, users=users, today=today)
