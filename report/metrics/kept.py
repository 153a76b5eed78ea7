"""What each process keeps of a snapshot, keyed by the snapshot (its id and folder: a snapshot
never changes, so nothing goes stale); :mod:`report.metrics.access` reads through it.

- :func:`table`: the snapshot's columns, each decoded once (parquet → memory) and read from memory
  by every later query, within ``TABLES_MAX_BYTES``; a period read slices them by binary search
  on the table's time column;
- :func:`remembered`: the last ``REMEMBERED_MAX`` period reads (at most ``REMEMBERED_MAX_BYTES``),
  keyed also by every input of the read;
- :func:`forget`: drop them (a benchmark's cold run).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import polars as pl

from etl.snapshot.schema import SCHEMA
from etl.snapshot.store import Snapshot

REMEMBERED_MAX = 8
#: ... and at most this many bytes of them (the newest is kept whatever its size): a whole
#: year's touches are ~60 MB, and a worker's memory is bounded (issue 10: ≤ 600 MB).
REMEMBERED_MAX_BYTES = 128 * 2**20
_REMEMBERED: OrderedDict[tuple, pl.DataFrame] = OrderedDict()
_LOCK = threading.Lock()

#: Bytes of decoded columns one process keeps (polars' estimated size). Columns, not whole
#: tables: a process holds what the metrics read (the one-year demo account's whole tables take
#: ~160 MB, the five-year one's ~730 MB, more than the bound). Beyond the bound the least recently
#: used column goes; columns that do not fit on their own are scanned from parquet on every read
#: (their row groups outside the period skipped) instead.
TABLES_MAX_BYTES = 512 * 2**20
_COLUMNS: OrderedDict[tuple[str, str, str, str], pl.Series] = OrderedDict()
_NAMES: dict[tuple[str, str, str], tuple[str, ...]] = {}
_TOO_LARGE: set[tuple[str, str, str, tuple[str, ...]]] = set()
_DECODING = threading.Lock()


def remembered(snap: Snapshot, key: tuple, compute: Callable[[], pl.DataFrame]) -> pl.DataFrame:
    """``compute()``, kept for the next metrics of the same view (the last few keys only).
    ``key`` must name every input of ``compute`` but the snapshot."""
    full = (snap.id, str(snap.path), *key)
    with _LOCK:
        hit = _REMEMBERED.get(full)
        if hit is not None:
            _REMEMBERED.move_to_end(full)
            return hit
    df = compute()
    with _LOCK:
        _REMEMBERED[full] = df
        while len(_REMEMBERED) > REMEMBERED_MAX or (
            len(_REMEMBERED) > 1 and sum(d.estimated_size() for d in _REMEMBERED.values()) > REMEMBERED_MAX_BYTES
        ):
            _REMEMBERED.popitem(last=False)
    return df


def forget(*, tables: bool = False) -> None:
    """Drop the period reads kept in this process (:func:`remembered`), and with ``tables`` the
    decoded columns (:func:`table`) too: for a benchmark's cold runs."""
    with _LOCK:
        _REMEMBERED.clear()
        if tables:
            _COLUMNS.clear()
            _TOO_LARGE.clear()


def table(
    snap: Snapshot, name: str, columns: Sequence[str] | None = None, *, within: tuple[str, object, object] | None = None
) -> pl.LazyFrame:
    """The snapshot's table ``name``, only ``columns`` (None = every column), in that order: each
    column decoded once per process, then read from memory (a lazy frame over it: the same rows,
    in the same order, as ``snap.scan(name).select(columns)``).

    ``within`` = (the table's time column, lo, hi): only the rows with lo <= column < hi (None =
    no bound; a bounded read leaves out the rows whose column is null). The
    tables are stored in the order of that column (``Table.sorted_by``, nulls last), so the rows
    are found by two binary searches, not a pass over the whole history.
    """
    base = (snap.id, str(snap.path), name)
    cols = _column_names(snap, base) if columns is None else tuple(columns)
    if within is not None and SCHEMA[name].sorted_by != within[0]:
        raise ValueError(f"{name} is not stored in the order of {within[0]}")
    need = cols if within is None or within[0] in cols else (*cols, within[0])
    got = _kept(base, need)
    if len(got) < len(need):
        if (*base, need) in _TOO_LARGE:
            lf = snap.scan(name)
            if within is not None:
                col, lo, hi = within
                lf = lf.filter(pl.col(col) >= lo) if lo is not None else lf
                lf = lf.filter(pl.col(col) < hi) if hi is not None else lf
            return lf.select(cols)
        with _DECODING:  # one decode per column, whichever thread asks first
            got = _kept(base, need)
            missing = [c for c in need if c not in got]
            if missing:
                decoded = pl.read_parquet(snap.path / f"{name}.parquet", columns=missing)
                got |= {c: decoded.get_column(c) for c in missing}
                _keep(base, need, got)
    df = pl.DataFrame([got[c] for c in cols])
    if within is not None:
        col, lo, hi = within
        key = got[col]
        key = key.slice(0, key.len() - key.null_count())  # nulls are stored last
        first = 0 if lo is None else int(key.search_sorted(pl.Series([lo], dtype=key.dtype), side="left")[0])
        stop = key.len() if hi is None else int(key.search_sorted(pl.Series([hi], dtype=key.dtype), side="left")[0])
        df = df.slice(first, max(stop - first, 0))
    return df.lazy()


def _column_names(snap: Snapshot, base: tuple[str, str, str]) -> tuple[str, ...]:
    names = _NAMES.get(base)
    if names is None:
        names = _NAMES[base] = tuple(pl.read_parquet_schema(snap.path / f"{base[2]}.parquet"))
    return names


def _kept(base: tuple[str, str, str], cols: tuple[str, ...]) -> dict[str, pl.Series]:
    """The columns of ``cols`` decoded already (marked as just used)."""
    got = {}
    with _LOCK:
        for c in cols:
            hit = _COLUMNS.get((*base, c))
            if hit is not None:
                _COLUMNS.move_to_end((*base, c))
                got[c] = hit
    return got


def _keep(base: tuple[str, str, str], cols: tuple[str, ...], got: dict[str, pl.Series]) -> None:
    """Keep ``got`` (the columns ``cols`` of one read), then drop the least recently used other
    columns until the bound holds; a read that alone exceeds it is not kept (scanned next time)."""
    mine = {(*base, c) for c in cols}
    with _LOCK:
        for c in cols:
            _COLUMNS[(*base, c)] = got[c]
        size = sum(s.estimated_size() for s in _COLUMNS.values())
        for key in [k for k in _COLUMNS if k not in mine]:
            if size <= TABLES_MAX_BYTES:
                break
            size -= _COLUMNS.pop(key).estimated_size()
        if size > TABLES_MAX_BYTES:
            for key in mine:
                _COLUMNS.pop(key, None)
            _TOO_LARGE.add((*base, cols))
