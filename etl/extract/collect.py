"""The pull itself: read every collection of an account into staging, then commit (DATA.md §1).

Every collection is downloaded into a staging folder first; only when *all* of them are complete
are the records appended to the raw JSONL files and the cursors moved in ``export.json`` (written
atomically, :mod:`etl.extract.staging`).  A failure or a cancel therefore leaves the previous
export exactly as it was, and the next pull repeats the same window: nothing lost, nothing counted
twice (build dedupes by id).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from etl.diskio import disk_message
from etl.extract.amo_client import AmoClient, AmoError
from etl.extract.specs import COLLECTIONS, DELETED, SPECS, Spec, start_from, walk
from etl.extract.staging import Staged, check_same_account, commit, now_iso, read_export_json


class PullProgress(Protocol):
    """Where the pull reports what it is doing (terminal + progress file, see etl.progress)."""

    def collection_started(self, name: str) -> None: ...

    def collection_update(self, name: str, records: int, requests: int) -> None: ...

    def collection_done(self, name: str, records: int, requests: int) -> None: ...


@dataclass
class CollectionResult:
    records: int = 0
    requests: int = 0
    cursor: int | None = None


@dataclass
class PullResult:
    collections: dict[str, CollectionResult] = field(default_factory=dict)
    requests: int = 0
    retries: int = 0
    status_429: int = 0
    started_at: str = ""
    finished_at: str = ""
    seconds: float = 0.0


def pull(
    raw_dir: Path,
    client: AmoClient,
    *,
    full: bool = False,
    overlap_s: int = 300,
    page_size: int = 250,
    progress: PullProgress | None = None,
    source: str = "",
    collections: tuple[str, ...] = COLLECTIONS,
) -> PullResult:
    """Pull every collection into ``raw_dir`` (append-only JSONL + export.json cursors).

    Raises :class:`AmoError` (what failed) or :class:`Cancelled`; in both cases the raw export
    is left as it was.
    """
    raw_dir = Path(raw_dir)
    try:
        raw_dir.mkdir(parents=True, exist_ok=True)
        with _exclusive(raw_dir):
            run = _Run(raw_dir, client, full, overlap_s, page_size, progress)
            return run.pull_all(source, collections)
    except OSError as exc:  # the raw folder refused a write: kind "disk", the path and the cause
        raise AmoError(
            "disk", f"выгрузка не сохранена / pull not saved: {disk_message(exc, None if exc.filename else raw_dir)}"
        ) from exc


@contextlib.contextmanager
def _exclusive(raw_dir: Path) -> Iterator[None]:
    """One pull per raw export at a time (a cron job and the admin button may overlap)."""
    fd = os.open(raw_dir / ".pull.lock", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise AmoError(
                "data", f"в {raw_dir} уже идёт другая выгрузка / another pull into this folder is running"
            ) from exc
        yield
    finally:
        os.close(fd)


@dataclass
class _Run:
    """One pull under the folder's lock: the staged files so far and what to report."""

    raw_dir: Path
    client: AmoClient
    full: bool
    overlap_s: int
    page_size: int
    progress: PullProgress | None
    staging: Path = Path()
    staged: dict[str, Staged] = field(default_factory=dict)
    account: dict[str, Any] | None = None

    def pull_all(self, source: str, collections: tuple[str, ...]) -> PullResult:
        export = read_export_json(self.raw_dir)
        old = export.get("collections") if isinstance(export.get("collections"), dict) else {}
        for stale in self.raw_dir.glob(".pull-*"):  # left by a pull that was killed (we hold the lock)
            shutil.rmtree(stale, ignore_errors=True)
        self.staging = self.raw_dir / f".pull-{os.getpid()}-{secrets.token_hex(3)}"
        self.staging.mkdir()
        stats = self.client.stats
        result = PullResult(started_at=now_iso())
        base = (stats.requests, stats.retries, stats.status_429)
        started = datetime.now(UTC)
        try:
            for spec in SPECS:
                if spec.name in collections:
                    prev = old.get(spec.name) if isinstance(old.get(spec.name), dict) else {}
                    result.collections[spec.name] = self._collection(spec, prev)
            # All collections complete: commit.  Cancels are ignored from here on (no half commits).
            commit(self.raw_dir, self.staging, self.staged, self.account, export, source, self.overlap_s)
        except BaseException:
            for st in self.staged.values():
                with contextlib.suppress(Exception):
                    st.close()
            raise
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)
        result.requests = stats.requests - base[0]
        result.retries = stats.retries - base[1]
        result.status_429 = stats.status_429 - base[2]
        result.finished_at = now_iso()
        result.seconds = (datetime.now(UTC) - started).total_seconds()
        return result

    def _collection(self, spec: Spec, prev: dict[str, Any]) -> CollectionResult:
        """Read one collection (the account object, or pages into its staging file)."""
        if self.progress:
            self.progress.collection_started(spec.name)
        res = CollectionResult()
        before = self.client.stats.requests

        def report() -> None:
            res.requests = self.client.stats.requests - before
            if self.progress:
                self.progress.collection_update(spec.name, res.records, res.requests)

        if spec.mode == "object":
            self.account = self.client.get(spec.path, list(spec.params)) or {}
            check_same_account(self.raw_dir, self.account)
            res.records = 1
            report()
        else:
            self._paged(spec, prev, res, report)
        res.requests = self.client.stats.requests - before
        if self.progress:
            self.progress.collection_done(spec.name, res.records, res.requests)
        return res

    def _paged(self, spec: Spec, prev: dict[str, Any], res: CollectionResult, report: Any) -> None:
        limit = min(self.page_size, spec.limit_cap)
        st = self._stage(spec.name, spec.field, prev.get("overlap_ids"))
        try:
            for rows in walk(self.client, spec, limit, start_from(prev.get("cursor"), self.overlap_s, self.full)):
                for rec in rows:
                    st.add(rec)
                res.records = st.count
                report()
        except AmoError as exc:
            # /users may be admin-only (AMOCRM.md): keep the users we have and go on.
            if not (spec.name == "users" and exc.status == 403):
                raise
            st.close()
            del self.staged[spec.name]
            if self.progress and hasattr(self.progress, "say"):
                self.progress.say("нет прав на список пользователей (403): оставлены прежние / users not readable")
        if spec.name == "leads":
            self._deleted_leads(spec, prev, limit, st, res, report)
        st.close()
        res.cursor = st.cursor

    def _deleted_leads(
        self, spec: Spec, prev: dict[str, Any], limit: int, leads: Staged, res: CollectionResult, report: Any
    ) -> None:
        """The with=only_deleted pass: trashed leads, with their own cursor in the leads entry."""
        deleted = self._stage(DELETED, "updated_at", prev.get("deleted_overlap_ids"))
        start = start_from(prev.get("deleted_cursor") or prev.get("cursor"), self.overlap_s, self.full)
        pages = self.client.iter_keyset_pages(
            spec.path, [("with", "only_deleted")], "leads", limit, "updated_at", start
        )
        for rows in pages:
            for rec in rows:
                deleted.add(rec)
            res.records = leads.count + deleted.count
            report()
        deleted.close()

    def _stage(self, name: str, field_name: str | None, overlap_ids: Any) -> Staged:
        st = Staged(self.staging / f"{name}.jsonl", field_name, None if self.full else overlap_ids)
        self.staged[name] = st
        return st
