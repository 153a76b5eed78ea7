"""Columnar record storage for the emulator: each record's JSON once, plus numpy arrays to sort and filter.

A one-year account is ~2.5 million records; as Python dicts that is ~4.7 GB, as compact JSON ~1 GB.
A :class:`RecordStore` keeps every record's compact JSON in one buffer (start and length per
record) and, beside it, the fields the list endpoints sort and filter on as numpy arrays: the id
(an integer, or a string such as an event's), the four time fields of ``RANGE_FIELDS`` as
:func:`~etl.extract.amo_client.lenient_int` sees them, and ``str()`` of ``type`` and ``note_type``
as category codes.  A page's records are decoded (``json.loads``) on request; a decoded record is
the very dict that was stored, so the answers are byte for byte those of a dict per record.

:class:`StoreBuilder` fills a store chunk by chunk (never holding all the dicts), and a record
replaced later (the raw export's "latest version per id") is appended again and pointed at.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from etl.extract.amo_client import lenient_int
from etl.simulated.query import RANGE_FIELDS
from etl.simulated.raw_export import fast_encoder

#: Fields kept as category codes of ``str(value)`` (the event log's and the notes' type filters).
CATEGORY_FIELDS = ("type", "note_type")
_INT64 = (-(2**63), 2**63 - 1)


def _stamp(value: Any) -> int | None:
    if type(value) is int:
        return value
    return lenient_int(value)


def _is_int_id(value: Any) -> bool:
    return isinstance(value, int) and _INT64[0] <= value <= _INT64[1]


class RecordStore:
    """Records as compact JSON in one buffer, with numpy columns of the fields queries use."""

    def __init__(
        self,
        buf: bytearray,
        start: np.ndarray,
        length: np.ndarray,
        id_int: np.ndarray,
        id_is_int: np.ndarray,
        id_str: np.ndarray,
        stamps: dict[str, tuple[np.ndarray, np.ndarray]],
        categories: dict[str, tuple[np.ndarray, dict[str, int]]],
    ) -> None:
        self.buf, self.start, self.length = buf, start, length
        self.id_int, self.id_is_int, self.id_str = id_int, id_is_int, id_str
        self._stamps = stamps  # field → (value or 0, present); absent everywhere → not stored
        self.categories = categories  # field → (codes, str(value) → code)
        self._id_rank: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.start)

    @property
    def nbytes(self) -> int:
        arrays = [self.start, self.length, self.id_int, self.id_is_int, self.id_str]
        arrays += [a for pair in self._stamps.values() for a in pair]
        arrays += [codes for codes, _ in self.categories.values()]
        return len(self.buf) + sum(a.nbytes for a in arrays)

    # -- records ----------------------------------------------------------------------------
    def record(self, pos: int) -> dict[str, Any]:
        begin = int(self.start[pos])
        return json.loads(self.buf[begin : begin + int(self.length[pos])])

    def records(self, positions: Iterable[int]) -> list[dict[str, Any]]:
        buf, start, length = self.buf, self.start, self.length
        return [
            json.loads(buf[s : s + n])
            for s, n in zip(start[positions].tolist(), length[positions].tolist(), strict=True)
        ]

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
        if self.id_str.dtype.kind == "S":
            if not id_text.isascii():
                return np.flatnonzero(hit)
            wanted: Any = id_text.encode("ascii")
        else:
            wanted = id_text
        if len(wanted) > self.id_str.dtype.itemsize // (1 if self.id_str.dtype.kind == "S" else 4):
            return np.flatnonzero(hit)  # longer than every string id (numpy would truncate it)
        hit |= ~self.id_is_int & (self.id_str == np.array(wanted, dtype=self.id_str.dtype))
        return np.flatnonzero(hit)

    def subset(self, positions: np.ndarray) -> RecordStore:
        """A new store of these records, in this order."""
        builder = StoreBuilder()
        builder.add_lines(
            [
                bytes(self.buf[s : s + n])
                for s, n in zip(self.start[positions].tolist(), self.length[positions].tolist(), strict=True)
            ]
        )
        return builder.finish()


class StoreBuilder:
    """Fills a :class:`RecordStore` chunk by chunk: dicts (encoded here) or JSON lines (decoded for the columns)."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self._encode = fast_encoder()
        self._lengths: list[np.ndarray] = []
        self._ids: list[list[Any]] = []
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
        """Record ``pos`` becomes this one (applied at :meth:`finish`; the old bytes stay unused)."""
        self._replaced.append((pos, record, line))

    def _append(self, records: Sequence[dict[str, Any]], lines: Sequence[bytes]) -> None:
        if not records:
            return
        self.buf += b"".join(lines)
        self._lengths.append(np.fromiter(map(len, lines), dtype=np.int64, count=len(lines)))
        self._ids.append([rec.get("id") for rec in records])
        for fld in RANGE_FIELDS:
            values = [_stamp(rec.get(fld)) for rec in records]
            present, stamps = self._stamps[fld]
            present.append(np.array([v is not None for v in values], dtype=bool))
            stamps.append(np.array([v or 0 for v in values], dtype=np.int64))
        for fld in CATEGORY_FIELDS:
            vocab = self.vocab[fld]
            codes = [vocab.setdefault(str(rec.get(fld)), len(vocab)) for rec in records]
            self._codes[fld].append(np.array(codes, dtype=np.int32))
        self.count += len(records)

    def finish(self) -> RecordStore:
        n = self.count
        length = np.concatenate(self._lengths) if self._lengths else np.zeros(0, dtype=np.int64)
        start = np.zeros(n, dtype=np.int64)
        if n:
            np.cumsum(length[:-1], out=start[1:])
        ids: list[Any] = [rid for chunk in self._ids for rid in chunk]
        stamps: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for fld, (present, values) in self._stamps.items():
            if any(flags.any() for flags in present):
                stamps[fld] = (np.concatenate(values), np.concatenate(present))
        codes = {
            fld: np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32) for fld, parts in self._codes.items()
        }
        for pos, rec, line in self._replaced:  # a later version of a record: point at its new bytes
            start[pos], length[pos] = len(self.buf), len(line)
            self.buf += line
            ids[pos] = rec.get("id")
            for fld in RANGE_FIELDS:
                value = _stamp(rec.get(fld))
                if value is not None and fld not in stamps:
                    stamps[fld] = (np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool))
                if fld in stamps:
                    stamps[fld][0][pos], stamps[fld][1][pos] = value or 0, value is not None
            for fld in CATEGORY_FIELDS:
                codes[fld][pos] = self.vocab[fld].setdefault(str(rec.get(fld)), len(self.vocab[fld]))
        is_int = np.fromiter((_is_int_id(rid) for rid in ids), dtype=bool, count=n)
        id_int = np.fromiter((int(rid) if _is_int_id(rid) else 0 for rid in ids), dtype=np.int64, count=n)
        texts = [str(rid) if not _is_int_id(rid) else "" for rid in ids]
        id_str = np.array(texts, dtype=np.str_) if texts else np.zeros(0, dtype="U1")
        if id_str.size and all(text.isascii() for text in texts):
            id_str = id_str.astype(np.bytes_)  # an event id: 15 bytes, not 60
        del ids, texts
        categories = {fld: (codes[fld], self.vocab[fld]) for fld in CATEGORY_FIELDS}
        store = RecordStore(self.buf, start, length, id_int, is_int, id_str, stamps, categories)
        self.buf = bytearray()
        return store
