"""Columnar record storage for the emulator: each record's JSON once (compressed), plus numpy columns.

A one-year account is ~2.5 million records; as Python dicts that is ~4.7 GB, as compact JSON
~1.1 GB, as zlib blocks of 32 records ~0.2 GB.  A :class:`RecordStore` keeps every record's
compact JSON in such a block (block, offset and length per record) and, beside it, the fields the
list endpoints sort and filter on as numpy arrays: the id (an integer, or a string such as an
event's), the four time fields of ``RANGE_FIELDS`` as :func:`~etl.extract.amo_client.lenient_int`
sees them, and ``str()`` of ``type`` and ``note_type`` as category codes (where the first record
has the field: the event log and the notes).  A page's records are
decompressed and decoded (``json.loads``) on request, ~20–50 µs a block; a decoded record is the
very dict that was stored, so the answers are byte for byte those of a dict per record.

:class:`StoreBuilder` fills a store chunk by chunk (never holding all the dicts); a record replaced
later (the raw export's "latest version per id") gets a block of its own.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from etl.extract.amo_client import lenient_int
from etl.simulated.query import RANGE_FIELDS
from etl.simulated.raw_export import fast_encoder

#: Fields kept as category codes of ``str(value)`` (the event log's and the notes' type filters).
CATEGORY_FIELDS = ("type", "note_type")
#: Records per compressed block: ~6× smaller than plain JSON; a page of 250 scattered records
#: decompresses up to 250 blocks (~10 ms), a page in storage order a handful.
BLOCK = 32
_INT64 = (-(2**63), 2**63 - 1)


def _stamp(value: Any) -> int | None:
    if type(value) is int:
        return value
    return lenient_int(value)


def _is_int_id(value: Any) -> bool:
    return isinstance(value, int) and _INT64[0] <= value <= _INT64[1]


def _narrow(texts: np.ndarray) -> np.ndarray:
    """ASCII strings as bytes (an event id: 15 bytes, not 60); same order, same equality."""
    if texts.dtype.kind == "U" and texts.size and int(texts.view(np.uint32).max()) < 128:
        return texts.astype(np.bytes_)
    return texts


class RecordStore:
    """Records as compact JSON in zlib blocks, with numpy columns of the fields queries use."""

    def __init__(self, blocks: list[bytes], where: np.ndarray, columns: dict[str, Any]) -> None:
        self.blocks = blocks  # compressed, BLOCK records each (a replaced record: one)
        self.where = where  # per record: (block, offset, length) in the decompressed block
        self.id_int: np.ndarray = columns["id_int"]
        self.id_is_int: np.ndarray = columns["id_is_int"]
        self.id_str: np.ndarray = columns["id_str"]
        self._stamps: dict[str, tuple[np.ndarray, np.ndarray]] = columns["stamps"]  # (value or 0, present)
        self.categories: dict[str, tuple[np.ndarray, dict[str, int]]] = columns["categories"]
        self._id_rank: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.where)

    @property
    def nbytes(self) -> int:
        arrays = [self.where, self.id_int, self.id_is_int, self.id_str]
        arrays += [a for pair in self._stamps.values() for a in pair]
        arrays += [codes for codes, _ in self.categories.values()]
        return sum(map(len, self.blocks)) + sum(a.nbytes for a in arrays)

    # -- records ----------------------------------------------------------------------------
    def lines(self, positions: np.ndarray) -> list[bytes]:
        """The records' compact JSON, in the order of ``positions``."""
        blocks, opened = self.blocks, {}
        out = []
        for block, offset, length in self.where[positions].tolist():
            data = opened.get(block)
            if data is None:
                data = opened[block] = zlib.decompress(blocks[block])
            out.append(data[offset : offset + length])
        return out

    def records(self, positions: np.ndarray) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines(positions)]

    def all_records(self) -> list[dict[str, Any]]:
        return self.records(np.arange(len(self)))

    # -- columns ----------------------------------------------------------------------------
    def stamp(self, fld: str) -> tuple[np.ndarray, np.ndarray]:
        """(``lenient_int(rec[fld]) or 0``, present) per record."""
        pair = self._stamps.get(fld)
        if pair is None:
            return np.zeros(len(self), dtype=np.int64), np.zeros(len(self), dtype=bool)
        return pair

    def id_rank(self) -> np.ndarray:
        """Dense rank of each id in the order (integers ascending, then strings ascending); equal ids share one."""
        if self._id_rank is None:
            rank = np.empty(len(self), dtype=np.int64)
            ints = self.id_is_int
            _, inv = np.unique(self.id_int[ints], return_inverse=True)
            rank[ints] = inv
            offset = int(inv.max()) + 1 if inv.size else 0
            _, inv = np.unique(self.id_str[~ints], return_inverse=True)
            rank[~ints] = offset + inv
            self._id_rank = rank
        return self._id_rank

    def positions_of(self, id_text: str) -> np.ndarray:
        """Positions of the records whose ``str(id)`` is ``id_text`` (ascending)."""
        hit = np.zeros(len(self), dtype=bool)
        try:
            as_int = int(id_text)
        except ValueError:
            as_int = None
        if as_int is not None and str(as_int) == id_text and _INT64[0] <= as_int <= _INT64[1]:
            hit |= self.id_is_int & (self.id_int == as_int)
        kind = self.id_str.dtype.kind
        if kind == "S" and not id_text.isascii():
            return np.flatnonzero(hit)
        wanted: Any = id_text.encode("ascii") if kind == "S" else id_text
        if len(wanted) > self.id_str.dtype.itemsize // (1 if kind == "S" else 4):
            return np.flatnonzero(hit)  # longer than every string id (numpy would truncate it)
        hit |= ~self.id_is_int & (self.id_str == np.array(wanted, dtype=self.id_str.dtype))
        return np.flatnonzero(hit)

    def subset(self, positions: np.ndarray) -> RecordStore:
        """A new store of these records, in this order (their columns taken along, nothing decoded)."""
        blocks, where = _blocks_of(self.lines(positions), 0)
        columns = {
            "id_int": self.id_int[positions],
            "id_is_int": self.id_is_int[positions],
            "id_str": self.id_str[positions],
            "stamps": {fld: (values[positions], present[positions]) for fld, (values, present) in self._stamps.items()},
            "categories": {fld: (codes[positions], vocab) for fld, (codes, vocab) in self.categories.items()},
        }
        return RecordStore(blocks, where, columns)


def _blocks_of(lines: Sequence[bytes], first: int) -> tuple[list[bytes], np.ndarray]:
    """``lines`` compressed in blocks of :data:`BLOCK` numbered from ``first``, and each line's (block, offset, length)."""
    blocks, where = [], []
    for lo in range(0, len(lines), BLOCK):
        part = lines[lo : lo + BLOCK]
        offsets = np.cumsum([0, *map(len, part)])
        where.append(np.column_stack((np.full(len(part), first + len(blocks)), offsets[:-1], np.diff(offsets))))
        blocks.append(zlib.compress(b"".join(part), 1))
    return blocks, (np.concatenate(where) if where else np.zeros((0, 3))).astype(np.int32)


class StoreBuilder:
    """Fills a :class:`RecordStore` chunk by chunk: dicts (encoded here) or JSON lines (decoded for the columns)."""

    def __init__(self) -> None:
        self._encode = fast_encoder()
        self._blocks: list[bytes] = []
        self._pending: list[bytes] = []  # lines not yet in a full block
        self._where: list[np.ndarray] = []
        self._ids: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._stamps: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {fld: ([], []) for fld in RANGE_FIELDS}
        self._codes: dict[str, list[np.ndarray]] = {fld: [] for fld in CATEGORY_FIELDS}
        self.vocab: dict[str, dict[str, int]] = {fld: {} for fld in CATEGORY_FIELDS}
        self._replaced: list[tuple[int, dict[str, Any], bytes]] = []
        self.count = 0

    def add(self, records: Sequence[dict[str, Any]]) -> None:
        encode = self._encode
        self._append(records, [encode(rec).encode("utf-8") for rec in records])

    def add_lines(self, lines: Sequence[bytes | str]) -> None:
        data = [line.encode("utf-8") if isinstance(line, str) else line for line in lines]
        self._append([json.loads(line) for line in data], data)

    def add_decoded(self, records: Sequence[dict[str, Any]], lines: Sequence[bytes]) -> None:
        """Records with their JSON already at hand (``json.loads(line) == record``)."""
        self._append(records, lines)

    def replace(self, pos: int, record: dict[str, Any], line: bytes) -> None:
        """Record ``pos`` becomes this one (applied at :meth:`finish`)."""
        self._replaced.append((pos, record, line))

    def _pack(self, final: bool) -> None:
        """Compress the pending lines into blocks (all full ones; at the end the rest too)."""
        done = len(self._pending) if final else len(self._pending) // BLOCK * BLOCK
        if done:
            blocks, where = _blocks_of(self._pending[:done], len(self._blocks))
            self._blocks += blocks
            self._where.append(where)
            del self._pending[:done]

    def _append(self, records: Sequence[dict[str, Any]], lines: Sequence[bytes]) -> None:
        if not records:
            return
        self._pending += lines
        self._pack(final=False)
        ids = [rec.get("id") for rec in records]
        is_int = np.fromiter(map(_is_int_id, ids), dtype=bool, count=len(ids))
        id_int = np.fromiter((rid if _is_int_id(rid) else 0 for rid in ids), dtype=np.int64, count=len(ids))
        id_str = _narrow(np.array([str(rid) if not _is_int_id(rid) else "" for rid in ids], dtype=np.str_))
        self._ids.append((is_int, id_int, id_str))
        for fld in RANGE_FIELDS:
            values = [_stamp(rec.get(fld)) for rec in records]
            present, stamps = self._stamps[fld]
            present.append(np.array([v is not None for v in values], dtype=bool))
            stamps.append(np.array([v or 0 for v in values], dtype=np.int64))
        if not self.count:  # category columns only where the first record has the field (else checks decode)
            self._codes = {fld: [] for fld in CATEGORY_FIELDS if fld in records[0]}
        for fld, parts in self._codes.items():
            vocab = self.vocab[fld]
            parts.append(np.array([vocab.setdefault(str(rec.get(fld)), len(vocab)) for rec in records], dtype=np.int32))
        self.count += len(records)

    def finish(self) -> RecordStore:
        self._pack(final=True)
        n = self.count
        where = np.concatenate(self._where) if self._where else np.zeros((0, 3), dtype=np.int32)
        is_int = np.concatenate([part[0] for part in self._ids]) if n else np.zeros(0, dtype=bool)
        id_int = np.concatenate([part[1] for part in self._ids]) if n else np.zeros(0, dtype=np.int64)
        parts = [part[2] for part in self._ids]
        if self._replaced or any(part.dtype.kind == "U" for part in parts):
            parts = [part.astype(np.str_) for part in parts]
        id_str = np.concatenate(parts) if n else np.zeros(0, dtype="U1")
        self._ids.clear()
        stamps: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for fld, (present, values) in self._stamps.items():
            if any(flags.any() for flags in present):
                stamps[fld] = (np.concatenate(values), np.concatenate(present))
        codes = {fld: np.concatenate(parts) for fld, parts in self._codes.items() if parts}
        for pos, rec, line in self._replaced:  # a later version of a record: a block of its own
            where[pos] = (len(self._blocks), 0, len(line))
            self._blocks.append(zlib.compress(line, 1))
            rid = rec.get("id")
            is_int[pos] = _is_int_id(rid)
            id_int[pos] = rid if _is_int_id(rid) else 0
            if not _is_int_id(rid) and len(str(rid)) > id_str.dtype.itemsize // 4:
                id_str = id_str.astype(f"U{len(str(rid))}")
            id_str[pos] = "" if _is_int_id(rid) else str(rid)
            for fld in RANGE_FIELDS:
                value = _stamp(rec.get(fld))
                if value is not None and fld not in stamps:
                    stamps[fld] = (np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool))
                if fld in stamps:
                    stamps[fld][0][pos], stamps[fld][1][pos] = value or 0, value is not None
            for fld in codes:
                codes[fld][pos] = self.vocab[fld].setdefault(str(rec.get(fld)), len(self.vocab[fld]))
        id_str = _narrow(id_str)
        columns = {
            "id_int": id_int,
            "id_is_int": is_int,
            "id_str": id_str,
            "stamps": stamps,
            "categories": {fld: (codes[fld], self.vocab[fld]) for fld in codes},
        }
        store = RecordStore(self._blocks, where, columns)
        self._blocks = []
        return store
