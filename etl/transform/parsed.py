"""The parsed raw export, kept as parquet so that a build reads only the JSONL a pull appended.

Layout, under the data folder (next to the snapshots)::

    parsed/manifest.json                   which raw bytes each collection's parts cover
    parsed/<collection>/part-<n>.parquet   what rawio.read_jsonl gave for one stretch of lines

The raw JSONL files only grow: a pull appends whole lines and never rewrites one (DATA.md §1,
etl/extract/staging.py).  So the frame of a whole file is the frame of the lines already parsed
(the parts, in order) followed by the frame of the lines appended since (read from the byte
offset the manifest records).  Before trusting the parts, the file must be at least as long as
the bytes they cover, and the first and last 64 KiB of those bytes must hash as recorded;
anything else (a file cut back, rewritten, replaced by another account's export, a collection
read with another schema or filter) re-parses that file whole, and its parts are replaced.

Choices the issue left open:
- Parts follow the file's line order rather than month partitions: later lines win ties in the
  dedupe (``latest_by_id``, events' ``unique``), and the build reads every record anyway, so the
  order is what must survive; a month layout would need a line number column and a sort.
- Parts are compacted into one when a collection has more than :data:`MAX_PARTS`, so a refresh
  every few minutes does not leave thousands of small files.
- The cache is an optimisation: a write it cannot make (a full disk) is given up quietly, the
  build goes on from the frames in memory and the next build parses those lines again.  The
  manifest is replaced atomically after its parts are written, so a build killed half-way
  leaves the old manifest (and perhaps an unlisted part, removed by the next write).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import polars as pl

from etl.diskio import writing
from etl.extract import rawio
from etl.transform.deals import DURATION, custom_fields_read

FORMAT = 2
#: The cache's folder under the data folder.
PARSED_DIR = "parsed"
MANIFEST = "manifest.json"
#: Bytes hashed at each end of the covered stretch of a raw file.
PROBE = 64 * 1024
MAX_PARTS = 8


def collection_key(name: str) -> str:
    """What a collection's parsed frame depends on besides its bytes: schema, filter, decoding."""
    parts = [str(rawio.SCHEMAS[name]), str(rawio.KEEP.get(name)), str(rawio.NESTED.get(name)), str(FORMAT)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _probe(path: Path, size: int) -> tuple[str, str]:
    """sha256 of the first and of the last :data:`PROBE` bytes of ``path[:size]``."""
    with open(path, "rb") as fh:
        head = fh.read(min(size, PROBE))
        fh.seek(max(0, size - PROBE))
        tail = fh.read(min(size, PROBE))
    return hashlib.sha256(head).hexdigest(), hashlib.sha256(tail).hexdigest()


def _ends_with_newline(path: Path, size: int) -> bool:
    with open(path, "rb") as fh:
        fh.seek(size - 1)
        return fh.read(1) == b"\n"


def private_free(
    name: str, lead_fields: pl.DataFrame | None, field_names: tuple[str, ...]
) -> tuple[list[pl.Expr], str]:
    """Expressions leaving in collection ``name`` only what the build reads where a record may
    carry personal data, and a key of them: a note's ``params`` (a phone, an SMS text) shrink to
    the call's duration, an event's values are kept for status changes only, a lead's custom fields
    to the config's city and package fields.  The parts on disk then hold no name, phone or text
    (README: they never leave the raw export), and every frame the cache returns is so reduced,
    whether parsed now or earlier, so both builds read the same frames."""
    if name in ("lead_notes.jsonl", "contact_notes.jsonl"):
        digits = pl.col("params").str.extract(DURATION, 1)
        return [pl.concat_str(pl.lit('{"duration":'), digits, pl.lit("}")).alias("params")], "duration"
    if name == "events.jsonl":
        status = pl.col("type") == "lead_status_changed"
        return [pl.when(status).then(pl.col(c)).alias(c) for c in ("value_before", "value_after")], "status"
    if name == "leads.jsonl" and lead_fields is not None:
        expr, key = custom_fields_read(lead_fields, field_names)
        return [expr], key
    return [], ""


def _add_counts(name: str, a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    """Two :func:`rawio.wrong_types` answers added up, in the order it gives its fields."""
    order = [*rawio.INTEGERS.get(name, ()), *rawio.BOOLEANS.get(name, ())]
    return {f: a.get(f, 0) + b.get(f, 0) for f in order if a.get(f, 0) + b.get(f, 0)}


class ParsedCache:
    """The parsed parts of one raw export folder, under ``folder`` (``<data-dir>/parsed``)."""

    def __init__(self, folder: Path, raw_dir: Path, *, full: bool = False, lead_fields: tuple[str, ...] = ()) -> None:
        """``full``: parse every file whole and replace the parts (``etl build --full``);
        ``lead_fields``: the custom fields of leads the build reads (config's city and package
        fields), the only ones kept (:func:`private_free`)."""
        self.folder = Path(folder)
        self.lead_fields = lead_fields
        #: frames read so far (lead_fields.jsonl comes before leads.jsonl)
        self.frames: dict[str, pl.DataFrame] = {}
        self.raw_dir = Path(raw_dir).resolve()
        self.manifest = self._load()
        if full:
            self.manifest["collections"] = {}
        #: collection → what this build did with it: "cached", "appended" or "parsed" (for tests
        #: and the progress line).
        self.how: dict[str, str] = {}
        #: raw file → (bytes the parts covered before this build, row where the lines appended
        #: since begin in the frame :meth:`read` returned); absent for a file parsed whole
        self.before: dict[str, tuple[int, int]] = {}
        #: raw file → its size when read: the bytes this build covers
        self.size: dict[str, int] = {}
        #: collection → (bytes covered, parts kept, frame of the lines after them) to write
        self._pending: dict[str, tuple[int, list[str], pl.DataFrame, dict[str, int]]] = {}
        #: raw file → rawio.wrong_types of its whole frame, summed over the parts (it is a count
        #: per record, so the parts' counts add up)
        self.wrong: dict[str, dict[str, int]] = {}
        #: parts written before :meth:`save` (:meth:`_write_now`), removed if it gives up
        self._written: list[Path] = []

    def _load(self) -> dict[str, Any]:
        try:
            value = json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"format": FORMAT, "raw_dir": str(self.raw_dir), "collections": {}}
        if not isinstance(value, dict) or value.get("format") != FORMAT or value.get("raw_dir") != str(self.raw_dir):
            return {"format": FORMAT, "raw_dir": str(self.raw_dir), "collections": {}}
        return value

    def _reduce(self, name: str) -> tuple[list[pl.Expr], str]:
        """What :func:`private_free` does to ``name`` here, and a key of it."""
        fields = self.frames.get("lead_fields.jsonl") if name == "leads.jsonl" else None
        return private_free(name, fields, self.lead_fields)

    def _key(self, name: str) -> str:
        return collection_key(name) + ":" + hashlib.sha256(self._reduce(name)[1].encode()).hexdigest()[:16]

    def _private_free(self, name: str, df: pl.DataFrame) -> pl.DataFrame:
        exprs, _ = self._reduce(name)
        nested = name in rawio.NESTED and not isinstance(df.schema.get("custom_fields_values"), pl.List)
        return df if not exprs or df.height == 0 or nested else df.with_columns(exprs)

    def _valid(self, name: str, path: Path) -> dict[str, Any] | None:
        entry = self.manifest["collections"].get(name)
        if not isinstance(entry, dict) or entry.get("key") != self._key(name):
            return None
        size = int(entry.get("size", -1))
        if size <= 0 or path.stat().st_size < size:
            return None
        if list(_probe(path, size)) != [entry.get("head"), entry.get("tail")]:
            return None
        if not all((self.folder / part).is_file() for part in entry.get("parts", [])):
            return None
        return entry

    def read(self, name: str, *, lazy: bool = False) -> pl.DataFrame | pl.LazyFrame:
        """The parsed frame of raw file ``name`` (``leads.jsonl`` …), from the parts plus the
        appended lines when the parts are still valid, else from the whole file; the cache is
        brought up to date on the way.  ``lazy``: as a lazy scan of the parts (the lines appended
        since, or a file parsed whole, written as a part at once), so that the build reads each
        collection when it needs it, not all of them at once; :meth:`save` then waits until the
        scans are read (it may compact the parts they read)."""
        if lazy and (scanned := self.scan(name)) is not None:
            return scanned[0]
        path = self.raw_dir / name
        entry = self._valid(name, path)
        size = self.size[name] = path.stat().st_size
        new = None if entry is None else self._appended(name, path, entry)
        if entry is not None and new is not None:
            old = [pl.read_parquet(self.folder / part) for part in entry["parts"]]
            self.before[name] = (entry["size"], sum(f.height for f in old))
            frames = [f for f in (*old, new) if f.height]
            df = self.frames[name] = pl.concat(frames) if frames else old[0] if old else new
            return df
        self.how[name] = "parsed"
        self.before.pop(name, None)
        df = rawio.read_jsonl(path, rawio.SCHEMAS[name], rawio.KEEP.get(name), chunk_bytes=rawio.CHUNK_BYTES)
        df = self._private_free(name, df)
        self.wrong[name] = rawio.wrong_types(name, df)
        self._record(name, path, size, [], df)
        part = self._write_now(name, df)
        if lazy:
            return df.lazy() if part is None else pl.scan_parquet(part)
        if part is not None:
            with contextlib.suppress(pl.exceptions.PolarsError):
                df = pl.read_parquet(part)
        self.frames[name] = df
        return df

    def _write_now(self, name: str, df: pl.DataFrame) -> Path | None:
        """Write ``df`` (a file parsed whole) as its part at once rather than in :meth:`save`, and
        return the part: read from it, a frame holds its values in one buffer per column, not the
        many small ones the parse in stretches left (with the text of the rows its filter
        dropped), and the full build reads it step by step.  None when it cannot be written (a
        full disk: :meth:`save` tries again and gives up quietly)."""
        pending = self._pending.get(name)
        if pending is None or not df.height:
            return None
        size, _, _, wrong = pending
        stem = name.removesuffix(".jsonl")
        part = self._part_name(stem)
        try:
            (self.folder / stem).mkdir(parents=True, exist_ok=True)
            with writing(self.folder / part):
                df.write_parquet(self.folder / part, compression="lz4", statistics=False)
            if pl.scan_parquet(self.folder / part).select(pl.len()).collect().item() != df.height:
                raise OSError(f"{part}: not all rows written")
        except (OSError, pl.exceptions.PolarsError):
            with contextlib.suppress(OSError):
                (self.folder / part).unlink()
            return None
        self._written.append(self.folder / part)
        self._pending[name] = (size, [part], df.clear(), wrong)
        return self.folder / part

    def scan(self, name: str) -> tuple[pl.LazyFrame, pl.DataFrame] | None:
        """The frame of ``name`` as a lazy scan of the parts followed by the appended lines, and
        those lines alone (in memory), for a build that reads only some columns or rows of the
        rest (etl/transform/splice.py); None when the parts are not valid (:meth:`read` then
        parses the file whole).  The parts stay in place until :meth:`save`."""
        path = self.raw_dir / name
        entry = self._valid(name, path)
        self.size[name] = path.stat().st_size
        new = None if entry is None else self._appended(name, path, entry)
        if entry is None or new is None:
            return None
        parts = [self.folder / part for part in entry["parts"]]
        old = pl.scan_parquet(parts) if parts else None
        self.before[name] = (entry["size"], old.select(pl.len()).collect().item() if old is not None else 0)
        if old is None:
            return new.lazy(), new
        return (pl.concat([old, new.lazy()]) if new.height else old), new

    def _appended(self, name: str, path: Path, entry: dict[str, Any]) -> pl.DataFrame | None:
        """The frame of the lines after the parts' bytes (noted for :meth:`save`); None when they
        cannot be read as appended lines."""
        size = self.size[name]
        try:
            new = rawio.read_jsonl(path, rawio.SCHEMAS[name], rawio.KEEP.get(name), start=entry["size"], end=size)
        except rawio.RawExportError:
            return None  # read whole: its error (if any) names the file and line
        new = self._private_free(name, new)
        self.how[name] = "appended" if size > entry["size"] else "cached"
        self.wrong[name] = _add_counts(name, entry.get("wrong", {}), rawio.wrong_types(name, new))
        if size > entry["size"]:
            self._record(name, path, size, entry["parts"], new)
        return new

    def _record(self, name: str, path: Path, size: int, parts: list[str], new: pl.DataFrame) -> None:
        """Note that ``parts`` + ``new`` hold ``path[:size]``; :meth:`save` writes it down."""
        if path.stat().st_size != size and not parts:
            return  # appended to while read whole: the frame may hold more than size; parse again
        if size and not _ends_with_newline(path, size):
            self.manifest["collections"].pop(name, None)  # a line still being written: parse again
            return
        self._pending[name] = (size, parts, new, self.wrong[name])

    def save(self) -> None:
        """Write the new parts and then the manifest (atomically); give up quietly on a refused
        write (the next build parses those lines again)."""
        pending, self._pending = self._pending, {}
        if not pending:
            return
        written, self._written = self._written, []
        tmp = self.folder / f".{MANIFEST}.{os.getpid()}.tmp"
        try:
            for name, (size, parts, new, wrong) in pending.items():
                stem = name.removesuffix(".jsonl")
                (self.folder / stem).mkdir(parents=True, exist_ok=True)
                if new.height:
                    if len(parts) >= MAX_PARTS:
                        new = pl.concat([*(pl.read_parquet(self.folder / p) for p in parts), new])
                        parts = []
                    part = self._part_name(stem)
                    with writing(self.folder / part):
                        new.write_parquet(self.folder / part, compression="lz4", statistics=False)
                    written.append(self.folder / part)
                    parts = [*parts, part]
                head, tail = _probe(self.raw_dir / name, size)
                self.manifest["collections"][name] = {
                    "key": self._key(name), "size": size, "head": head, "tail": tail, "parts": parts,
                    "wrong": wrong,
                }  # fmt: skip
            with writing(tmp):
                tmp.write_text(json.dumps(self.manifest, indent=1), encoding="utf-8")
            os.replace(tmp, self.folder / MANIFEST)
        except OSError:
            for p in [*written, tmp]:
                with contextlib.suppress(OSError):
                    p.unlink()
            self.manifest = self._load()
            return
        self._remove_unlisted()

    def _part_name(self, stem: str) -> str:
        n = 0
        while (self.folder / stem / f"part-{n:05d}.parquet").exists():
            n += 1
        return f"{stem}/part-{n:05d}.parquet"

    def _remove_unlisted(self) -> None:
        listed = {p for e in self.manifest["collections"].values() for p in e.get("parts", [])}
        for p in self.folder.glob("*/part-*.parquet"):
            if str(p.relative_to(self.folder)) not in listed:
                with contextlib.suppress(OSError):
                    p.unlink()
