"""Staging and committing: nothing reaches the raw export until every collection is complete.

Each collection is downloaded into a staging file (deduplicated by id as it goes); :func:`commit`
then appends every staged file to its raw JSONL file and moves all cursors with one atomic
``export.json`` write.  A failure or a cancel before the commit leaves the previous export as it
was, and the next pull repeats the same window: nothing lost, nothing counted twice.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from etl.diskio import writing
from etl.extract.amo_client import lenient_int
from etl.extract.errors import AmoError
from etl.extract.specs import DELETED


def now_iso() -> str:
    """UTC now, to the second, as export.json writes it ("…Z")."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def read_export_json(raw_dir: Path) -> dict[str, Any]:
    """The raw export's ``export.json`` (cursors, source), or {} before the first pull."""
    path = raw_dir / "export.json"
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AmoError("data", f"{path}: не читается ({exc}) / export.json unreadable") from exc
    if not isinstance(value, dict):
        raise AmoError("data", f"{path}: ожидался объект JSON / expected a JSON object")
    return value


def write_json_atomic(path: Path, value: Any) -> None:
    """Write JSON via a temporary file + fsync + rename: readers see the old file or the new one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with writing(tmp), open(tmp, "w", encoding="utf-8") as fh:
            json.dump(value, fh, ensure_ascii=False, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk must not leave a temp file behind
        raise


def _latest_lines(path: Path) -> dict[str, str]:
    """id → canonical JSON of its latest line (small reference collections only)."""
    out: dict[str, str] = {}
    if not path.is_file():
        return out
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                with contextlib.suppress(ValueError):
                    rec = json.loads(line)
                    out[str(rec.get("id"))] = json.dumps(rec, sort_keys=True, ensure_ascii=False)
    return out


class Staged:
    """One collection's staging file, deduplicating by id as it goes (events by string id)."""

    def __init__(self, path: Path, field: str | None, known: Any = None) -> None:
        self.path = path
        self.field = field
        self.fh = path.open("w", encoding="utf-8")
        # Records the previous pull already wrote inside the overlap window: not written twice.
        self.seen: dict[str, int] = {str(k): int(v) for k, v in known.items()} if isinstance(known, dict) else {}
        self.count = 0
        self.cursor: int | None = None

    def add(self, rec: dict[str, Any]) -> None:
        rid = str(rec.get("id"))
        ts = lenient_int(rec.get(self.field)) if self.field else None
        version = ts if ts is not None else -1
        if rid in self.seen and self.seen[rid] >= version:
            return  # a page boundary re-read, or a record seen twice while data moved
        self.seen[rid] = version
        with writing(self.path):
            self.fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        self.count += 1
        if ts is not None and (self.cursor is None or ts > self.cursor):
            self.cursor = ts

    def close(self) -> None:
        with writing(self.path):  # the last buffered lines are written here
            self.fh.close()


def check_same_account(raw_dir: Path, account: dict[str, Any]) -> None:
    """Refuse to append one account's records to another account's raw export."""
    path = raw_dir / "account.json"
    if not path.is_file() or not account.get("id"):
        return
    with contextlib.suppress(OSError, ValueError):
        old_id = json.loads(path.read_text(encoding="utf-8")).get("id")
        if old_id and str(old_id) != str(account.get("id")):
            raise AmoError(
                "data",
                f"сырая выгрузка {raw_dir} принадлежит другому аккаунту ({old_id}, а не {account.get('id')}) / "
                "the raw export belongs to another account: use another --out folder",
            )


def _append(src: Path, dst: Path) -> int:
    """Append a staged file to a raw JSONL file; lines appended."""
    if not src.is_file() or src.stat().st_size == 0:
        dst.touch(exist_ok=True)
        return 0
    lines = 0
    with writing(dst), src.open("rb") as fin, dst.open("ab") as fout:
        for chunk in iter(lambda: fin.read(1 << 20), b""):
            fout.write(chunk)
            lines += chunk.count(b"\n")
        fout.flush()
        os.fsync(fout.fileno())
    return lines


def _tail(seen: dict[str, int], since: int) -> dict[str, int]:
    """id → version of the records the next pull's overlap window will read again."""
    return {k: v for k, v in seen.items() if v >= since}


def _count_lines(path: Path) -> int:
    """Records in a JSONL file (one per line), read in 1 MiB chunks."""
    if not path.is_file():
        return 0
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))


def _changed_only(staged: Path, dst: Path, keep: Path) -> Path:
    """Write to ``keep`` the staged records that differ from their latest line in ``dst``."""
    latest = _latest_lines(dst)
    with writing(keep), staged.open(encoding="utf-8") as fin, keep.open("w", encoding="utf-8") as fout:
        for line in fin:
            rec = json.loads(line)
            if latest.get(str(rec.get("id"))) != json.dumps(rec, sort_keys=True, ensure_ascii=False):
                fout.write(line)
    return keep


def _move_cursor(entry: dict[str, Any], cursor_key: str, overlap_key: str, st: Staged, overlap_s: int) -> None:
    """Move a cursor forward (never back) and keep the ids the next overlap window re-reads."""
    cands = [c for c in (lenient_int(entry.get(cursor_key)), st.cursor) if c is not None]
    entry[cursor_key] = max(cands) if cands else None
    if entry[cursor_key] is not None:
        entry[overlap_key] = _tail(st.seen, entry[cursor_key] - overlap_s)


@contextlib.contextmanager
def _cut_back_on_error(raw_dir: Path) -> Iterator[None]:
    sizes = {p: p.stat().st_size for p in raw_dir.glob("*.jsonl")}
    try:
        yield
    except BaseException:
        for path in raw_dir.glob("*.jsonl"):
            with contextlib.suppress(OSError):
                if path not in sizes:
                    path.unlink()
                elif path.stat().st_size != sizes[path]:
                    os.truncate(path, sizes[path])
        raise


def commit(
    raw_dir: Path,
    staging: Path,
    staged: dict[str, Staged],
    account: dict[str, Any] | None,
    export: dict[str, Any],
    source: str,
    overlap_s: int,
) -> None:
    """Append every staged collection, then move all cursors with one atomic export.json write.

    A write refused half-way (a full disk) cuts every raw file back to its old length, so the
    export is as it was and the next pull repeats the same window.
    """
    with _cut_back_on_error(raw_dir):
        old = export.get("collections") if isinstance(export.get("collections"), dict) else {}
        new_collections: dict[str, Any] = {k: dict(v) for k, v in old.items() if isinstance(v, dict)}
        if account is not None:
            write_json_atomic(raw_dir / "account.json", account)
            new_collections["account"] = {"records": 1, "cursor": None}
        for name, st in staged.items():
            if name == DELETED:
                continue
            dst = raw_dir / f"{name}.jsonl"
            if st.field is None:  # reference collections: append only what changed
                _append(_changed_only(st.path, dst, staging / f"{name}.changed.jsonl"), dst)
            else:
                _append(st.path, dst)
            entry = new_collections.setdefault(name, {})
            _move_cursor(entry, "cursor", "overlap_ids", st, overlap_s)
            if name == "leads" and DELETED in staged:
                _append(staged[DELETED].path, dst)
                _move_cursor(entry, "deleted_cursor", "deleted_overlap_ids", staged[DELETED], overlap_s)
            entry["records"] = _count_lines(dst)
        new_export = {k: v for k, v in export.items() if k not in ("source", "pulled_at", "collections")}
        write_json_atomic(
            raw_dir / "export.json",
            {
                "source": source or export.get("source") or "",
                "pulled_at": now_iso(),
                "collections": new_collections,
                **new_export,
            },
        )
