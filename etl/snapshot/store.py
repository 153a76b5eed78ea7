"""Snapshot storage: atomic publish, pruning, and the reader the report uses (the DAO).

Layout (docs/data-model.md)::

    <snapshots>/<id>/*.parquet + manifest.json
    <snapshots>/CURRENT            the id being served

A build writes into ``.tmp-<id>``, renames it to ``<id>`` and then replaces ``CURRENT`` with
``os.replace``: a reader sees either the old snapshot or the new one, never a half-written one.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

SCHEMA_VERSION = 1
TABLES: tuple[str, ...] = ("deals", "entries", "touches", "tasks", "users", "statuses", "cities")
CURRENT = "CURRENT"


class SnapshotError(RuntimeError):
    """No usable snapshot, or a snapshot folder that is not one."""


def write_tables(folder: Path, tables: dict[str, pl.DataFrame], manifest: dict[str, Any]) -> None:
    """Write every table as parquet plus ``manifest.json`` into ``folder`` (which must be new)."""
    folder.mkdir(parents=True, exist_ok=False)
    for name in TABLES:
        tables[name].write_parquet(folder / f"{name}.parquet", compression="zstd", statistics=True)
    tmp = folder / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, folder / "manifest.json")


def publish(snapshots_dir: Path, staged: Path, snapshot_id: str, keep: int) -> Path:
    """Move a fully written ``staged`` folder into place, point ``CURRENT`` at it, prune old ones."""
    final = snapshots_dir / snapshot_id
    if final.exists():  # same content hash and second: the old one is identical, replace it
        shutil.rmtree(final)
    os.rename(staged, final)
    _fsync_dir(snapshots_dir)
    tmp = snapshots_dir / f"{CURRENT}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(snapshot_id + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, snapshots_dir / CURRENT)
    _fsync_dir(snapshots_dir)
    prune(snapshots_dir, keep)
    return final


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
        if manifest.get("schema_version") != SCHEMA_VERSION:
            raise SnapshotError(
                f"{path}: snapshot schema {manifest.get('schema_version')} but this version reads {SCHEMA_VERSION}; rebuild it"
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


def open_current(snapshots_dir: Path) -> Snapshot:
    """The snapshot ``CURRENT`` names; :class:`SnapshotError` when there is none."""
    sid = current_id(snapshots_dir)
    if sid is None:
        raise SnapshotError(f"no snapshot published in {snapshots_dir} (run: python -m etl build --raw DIR)")
    return Snapshot.open(snapshots_dir / sid)
