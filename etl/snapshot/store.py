"""Snapshot storage: atomic publish, pruning, and the reader the report uses (the DAO).

Layout (docs/data-model.md)::

    <snapshots>/<id>/*.parquet + manifest.json
    <snapshots>/CURRENT            the id being served

A build writes into ``.tmp-<id>``, renames it to ``<id>`` and then replaces ``CURRENT`` with
``os.replace``: a reader sees either the old snapshot or the new one, never a half-written one.
The tables are validated against etl/snapshot/schema.py before anything is written, and a
snapshot of another schema version is refused on open with the command that rebuilds it.
"""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from etl.diskio import writing
from etl.snapshot.errors import SchemaError, SnapshotError
from etl.snapshot.schema import SCHEMA, SCHEMA_VERSION, TABLES, validate

__all__ = ["CURRENT", "ROW_GROUP_ROWS", "SCHEMA_VERSION", "TABLES", "SchemaError", "Snapshot", "SnapshotError"]
__all__ += ["current_id", "in_time_order", "list_snapshots", "open_current", "prune", "publish", "write_tables"]

CURRENT = "CURRENT"

#: Rows per parquet row group.  Each group carries min/max statistics of every column, and a
#: period query (polars ``scan_parquet``, DuckDB ``read_parquet``) skips the groups whose time
#: column lies outside the period.  Polars' default (512² rows) makes one or two groups of a
#: year's table, so a month's query decoded the whole year; at 64k rows a one-year account's
#: touches are 9 groups of about 40 days each.  Smaller groups would skip more of a month but
#: cost metadata and compression on whole-year reads (bench/README.md has the figures).
ROW_GROUP_ROWS = 65_536


def in_time_order(name: str, df: pl.DataFrame) -> pl.DataFrame:
    """``df`` sorted by the table's main time column (``Table.sorted_by``, nulls last), for the
    row-group statistics to bound each group's period.  The build already writes them in that
    order (ties broken by id), and a table in order is returned as it is."""
    col = SCHEMA[name].sorted_by
    if col is None or df.get_column(col).is_sorted(nulls_last=True):
        return df
    return df.sort(col, maintain_order=True, nulls_last=True)


def write_parquet(df: pl.DataFrame, path: Path, row_group_rows: int) -> None:
    """``df`` as zstd parquet with statistics, in ``ceil(rows / row_group_rows)`` row groups of
    (nearly) equal size.  Polars cuts a frame into ``rows // row_group_size`` equal groups (a
    95k-row table asked for 64k-row groups comes out as one group), so the size passed is the one
    that gives that count (a table of fewer than a few groups² rows may come out in more, smaller
    groups: never larger ones)."""
    groups = max(1, math.ceil(df.height / row_group_rows))
    size = max(1, df.height // groups)
    # Encoded in memory, written by Python: polars reports a full disk as "Invalid thrift:
    # transport error", Python as ENOSPC, which :func:`writing` names with the file.
    encoded = io.BytesIO()
    df.rechunk().write_parquet(encoded, compression="zstd", statistics=True, row_group_size=size)
    with writing(path), open(path, "wb") as fh:
        fh.write(encoded.getbuffer())


def write_tables(
    folder: Path, tables: dict[str, pl.DataFrame], manifest: dict[str, Any], *, row_group_rows: int | None = None
) -> None:
    """Validate ``tables`` against the schema, then write every table as parquet plus
    ``manifest.json`` into ``folder`` (which must be new).

    Raises :class:`SchemaError` before creating ``folder`` when a table does not match, so a
    build never stages, let alone publishes, a snapshot the report cannot read.  The manifest's
    ``schema_version`` is set here to the version just validated against, whatever the caller
    passed: only this function can vouch for it.  Each table is written in its time order
    (:func:`in_time_order`) in row groups of about ``row_group_rows`` (default
    :data:`ROW_GROUP_ROWS`, read when called so a test can make it small) with statistics.
    """
    validate(tables)
    rows = row_group_rows or ROW_GROUP_ROWS
    folder.mkdir(parents=True, exist_ok=False)
    for name in TABLES:
        write_parquet(in_time_order(name, tables[name]), folder / f"{name}.parquet", rows)
    tmp = folder / "manifest.json.tmp"
    stamped = {**manifest, "schema_version": SCHEMA_VERSION}
    with writing(tmp):
        tmp.write_text(json.dumps(stamped, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, folder / "manifest.json")


def publish(snapshots_dir: Path, staged: Path, snapshot_id: str, keep: int) -> Path:
    """Move a fully written ``staged`` folder into place, point ``CURRENT`` at it, prune old ones.

    Killed at any point (even SIGKILL), ``CURRENT`` names either the previous snapshot or this one,
    complete; what is left (``.tmp-*``, ``CURRENT.tmp``) is removed by the next :func:`prune`.  A
    write refused before the switch (a full disk) removes the new folder and the pointer's temp file.
    """
    _pause_point("staged")
    final = snapshots_dir / snapshot_id
    if final.exists():  # same content hash and second: the old one is identical, replace it
        shutil.rmtree(final)
    os.rename(staged, final)
    tmp = snapshots_dir / f"{CURRENT}.tmp"
    try:
        _fsync_dir(snapshots_dir)
        _pause_point("moved")
        with writing(tmp), open(tmp, "w", encoding="utf-8") as fh:
            fh.write(snapshot_id + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        _pause_point("pointer_written")
        os.replace(tmp, snapshots_dir / CURRENT)
    except BaseException:
        tmp.unlink(missing_ok=True)
        if current_id(snapshots_dir) != snapshot_id:
            shutil.rmtree(final, ignore_errors=True)
        raise
    _fsync_dir(snapshots_dir)
    prune(snapshots_dir, keep)
    return final


#: Tests only: ``ETL_TEST_PAUSE_AT=<point>`` makes :func:`publish` write the point's name into
#: ``ETL_TEST_PAUSE_FILE`` and wait there, so that a test can SIGKILL it at a known step.
PAUSE_POINTS = ("staged", "moved", "pointer_written")


def _pause_point(name: str) -> None:
    if os.environ.get("ETL_TEST_PAUSE_AT") != name:
        return
    Path(os.environ["ETL_TEST_PAUSE_FILE"]).write_text(name, encoding="utf-8")
    while True:
        time.sleep(60)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def current_id(snapshots_dir: Path) -> str | None:
    try:
        value = (snapshots_dir / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return value or None


def list_snapshots(snapshots_dir: Path) -> list[str]:
    """Published snapshot ids, oldest first (ids sort by build time)."""
    if not snapshots_dir.is_dir():
        return []
    return sorted(
        p.name
        for p in snapshots_dir.iterdir()
        if p.is_dir() and not p.name.startswith(".") and (p / "manifest.json").exists()
    )


def prune(snapshots_dir: Path, keep: int) -> list[str]:
    """Remove published snapshots beyond the newest ``keep`` and stale temp folders; never CURRENT."""
    cur = current_id(snapshots_dir)
    ids = list_snapshots(snapshots_dir)
    removed: list[str] = []
    for sid in ids[: max(0, len(ids) - keep)]:
        if sid != cur:
            shutil.rmtree(snapshots_dir / sid, ignore_errors=True)
            removed.append(sid)
    for p in snapshots_dir.glob(".tmp-*"):
        shutil.rmtree(p, ignore_errors=True)
    (snapshots_dir / f"{CURRENT}.tmp").unlink(missing_ok=True)  # a publish killed before its switch
    return removed


@dataclass(frozen=True)
class Snapshot:
    """A published snapshot: its id, manifest and lazy scans of its tables."""

    id: str
    path: Path
    manifest: dict[str, Any]

    @classmethod
    def open(cls, path: Path) -> Snapshot:
        try:
            manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SnapshotError(f"{path}: not a snapshot (manifest.json unreadable: {exc})") from exc
        found = manifest.get("schema_version")
        if found != SCHEMA_VERSION:
            raise SnapshotError(
                f"snapshot {manifest.get('snapshot_id', path.name)}: schema {found}, this version reads "
                f"{SCHEMA_VERSION}; rebuild it: {rebuild_command(path, manifest)}"
            )
        return cls(id=str(manifest["snapshot_id"]), path=path, manifest=manifest)

    def scan(self, table: str) -> pl.LazyFrame:
        if table not in TABLES:
            raise KeyError(table)
        return pl.scan_parquet(self.path / f"{table}.parquet")

    def read(self, table: str) -> pl.DataFrame:
        return pl.read_parquet(self.path / f"{table}.parquet")

    @property
    def timezone(self) -> str:
        return str(self.manifest.get("timezone", "Europe/Moscow"))

    @property
    def data_as_of(self) -> datetime:
        return datetime.fromisoformat(str(self.manifest["data_as_of"]).replace("Z", "+00:00"))

    @property
    def quality(self) -> dict[str, Any]:
        return dict(self.manifest.get("quality", {}))

    @property
    def row_counts(self) -> dict[str, int]:
        return dict(self.manifest.get("row_counts", {}))


def rebuild_command(path: Path, manifest: dict[str, Any]) -> str:
    """The command that rebuilds the snapshot at ``path`` (``<data-dir>/<snapshots>/<id>``).

    The raw folder is the one the manifest records when it still exists, else ``<data-dir>/raw``
    (where ``python -m etl refresh`` keeps it).
    """
    data = path.resolve().parent.parent
    recorded = (manifest.get("source") or {}).get("raw_dir")
    raw = Path(recorded) if recorded and Path(recorded).is_dir() else data / "raw"
    return f"python -m etl build --raw {raw} --data-dir {data}"


def open_current(snapshots_dir: Path) -> Snapshot:
    """The snapshot ``CURRENT`` names; :class:`SnapshotError` when there is none."""
    sid = current_id(snapshots_dir)
    if sid is None:
        raise SnapshotError(f"no snapshot published in {snapshots_dir} (run: python -m etl build --raw DIR)")
    return Snapshot.open(snapshots_dir / sid)
