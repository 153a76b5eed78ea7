"""Indexed views: per collection, a :class:`~etl.simulated.record_store.RecordStore` plus sort orders.

Incremental pulls page through ``filter[updated_at][from]`` ordered by ``updated_at``; a sort order
is a numpy permutation of the store's positions, so a page is a ``searchsorted`` and a slice, and
only the page's records are decoded.  Filters on the time fields and on the store's category
columns (``type``, ``note_type``) are numpy masks; any other filter is
:func:`~etl.simulated.query.record_checks` on decoded records.  Records "touched" by the fault switch are overlaid with their new ``updated_at``.

The answers are those of sorting dicts by ``(lenient_int(rec[field]) or 0, id)`` (ids: integers
first, then strings; descending = Python's stable ``reverse=True``) and filtering them one by one.
"""

from __future__ import annotations

import collections
import json
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from etl.simulated.query import RANGE_FIELDS, as_set, record_checks, time_range
from etl.simulated.record_store import RecordStore, StoreBuilder
from etl.simulated.view_store import StoreView

#: Collections whose records can be "updated while a client pages" (they have ``updated_at``).
TOUCHABLE = ("leads", "contacts", "lead_notes", "contact_notes", "tasks")
_LOW, _HIGH = -(2**63), 2**63 - 1
Check = Callable[[dict[str, Any]], bool]


def _clip(value: int) -> int:
    return min(max(value, _LOW), _HIGH)


class CollectionIndex:
    """One collection of one view: its store, the touched overlay, lazily built sort orders."""

    def __init__(self, store: RecordStore, overlay: dict[str, int] | None = None) -> None:
        self.store = store
        self._patch: dict[int, int] = {}  # position → the touched updated_at
        self._updated: tuple[np.ndarray, np.ndarray] | None = None
        if overlay:
            values, present = (array.copy() for array in store.stamp("updated_at"))
            for id_text, new_ts in overlay.items():
                for pos in store.positions_of(id_text).tolist():
                    if new_ts > int(values[pos]):
                        self._patch[pos] = new_ts
                        values[pos], present[pos] = new_ts, True
            self._updated = (values, present)
        self._sorted: dict[tuple[str, bool], tuple[np.ndarray, np.ndarray | None]] = {}
        self._query_cache: collections.OrderedDict[Any, np.ndarray] = collections.OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.store)

    def stamp(self, fld: str) -> tuple[np.ndarray, np.ndarray]:
        if fld == "updated_at" and self._updated is not None:
            return self._updated
        return self.store.stamp(fld)

    def records(self, positions: np.ndarray) -> list[dict[str, Any]]:
        recs = self.store.records(positions)
        if self._patch:
            for pos, rec in zip(positions.tolist(), recs, strict=True):
                if pos in self._patch:
                    rec["updated_at"] = self._patch[pos]
        return recs

    def record(self, pos: int) -> dict[str, Any]:
        return self.records(np.array([pos]))[0]

    def all_records(self) -> list[dict[str, Any]]:
        return self.records(np.arange(len(self)))

    def find(self, id_text: str) -> dict[str, Any] | None:
        """The record whose ``str(id)`` is ``id_text`` (the last one if several), else None."""
        found = self.store.positions_of(id_text)
        return self.record(int(found[-1])) if found.size else None

    def sorted_by(self, fld: str, desc: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """(positions sorted by (field, id), the field's sort keys in that order; None for ``id``)."""
        with self._lock:
            if (fld, desc) not in self._sorted:
                rank = self.store.id_rank()
                if fld == "id":
                    perm = np.lexsort((-rank,)) if desc else np.argsort(rank, kind="stable")
                    self._sorted[(fld, desc)] = (perm, None)
                else:
                    values = self.stamp(fld)[0]
                    perm = np.lexsort((-rank, -values)) if desc else np.lexsort((rank, values))
                    self._sorted[(fld, desc)] = (perm, values[perm])
            return self._sorted[(fld, desc)]

    def _mask(self, filters: dict[str, Any], positions: np.ndarray, skip_range: str | None = None) -> np.ndarray:
        """The filters on time fields and categories, as a mask over ``positions``."""
        mask = np.ones(len(positions), dtype=bool)
        for name, value in filters.items():
            if name in RANGE_FIELDS and name != skip_range:
                bounds = time_range(value)
                if bounds is None:
                    continue
                values, present = self.stamp(name)
                values, part = values[positions], present[positions]
                if bounds[0] is not None:
                    part = part & (values >= _clip(bounds[0]))
                if bounds[1] is not None:
                    part = part & (values <= _clip(bounds[1]))
                mask &= part
            elif name in self.store.categories:
                codes, vocab = self.store.categories[name]
                mask &= np.isin(codes[positions], [vocab[text] for text in as_set(value) if text in vocab])
        return mask

    def _matching(self, positions: np.ndarray, checks: list[Check], skip: int, count: int | None) -> list[Any]:
        """Decoded records among ``positions`` that pass ``checks``: ``count`` of them after ``skip``
        (``count`` None: the positions of them all)."""
        out: list[Any] = []
        step = 20_000 if count is None else max(256, skip + count)
        skipped = 0
        for lo in range(0, len(positions), step):
            part = positions[lo : lo + step]
            for pos, rec in zip(part.tolist(), self.records(part), strict=True):
                if not all(check(rec) for check in checks):
                    continue
                if count is None:
                    out.append(pos)
                    continue
                if skipped < skip:
                    skipped += 1
                    continue
                out.append(rec)
                if len(out) >= count:
                    return out
        return out

    def select(
        self, filters: dict[str, Any], order: tuple[str, bool] | None, offset: int, limit: int
    ) -> list[dict[str, Any]]:
        """Up to ``limit + 1`` matching records starting at ``offset`` (the +1 tells if more exist)."""
        if order is None:  # no order asked: by the range-filtered field if any (new records go last)
            order = next(((name, False) for name in RANGE_FIELDS if name in filters), None)
        fld, desc = order or ("id", False)
        rng = time_range(filters.get(fld)) if fld in RANGE_FIELDS and fld in filters else None
        vectorised = (*RANGE_FIELDS, *self.store.categories)
        rest = {name: value for name, value in filters.items() if name not in vectorised}
        checks = record_checks(rest)
        if rng is not None and not desc and offset <= 4 * limit:
            # Keyset-friendly path: the range on the sort keys (a missing value counts as 0), then the rest.
            perm, keys = self.sorted_by(fld, False)
            assert keys is not None
            lo, hi = rng
            first = int(np.searchsorted(keys, _clip(lo), "left")) if lo is not None else 0
            last = int(np.searchsorted(keys, _clip(hi), "right")) if hi is not None else len(keys)
            cand = perm[first:last]
            cand = cand[self._mask(filters, cand, skip_range=fld)]
            if not checks:
                return self.records(cand[offset : offset + limit + 1])
            return self._matching(cand, checks, offset, limit + 1)
        cache_key = (json.dumps(filters, sort_keys=True, default=str), fld, desc)
        with self._lock:
            matched = self._query_cache.get(cache_key)
            if matched is not None:
                self._query_cache.move_to_end(cache_key)
        if matched is None:
            perm, keys = self.sorted_by(fld, desc)
            if rng is not None and not desc and rng[0] is not None and keys is not None:
                perm = perm[int(np.searchsorted(keys, _clip(rng[0]), "left")) :]  # what the range excludes anyway
            matched = perm[self._mask(filters, perm)]
            if checks:
                matched = np.array(self._matching(matched, checks, 0, None), dtype=np.int64)
            with self._lock:
                self._query_cache[cache_key] = matched
                while len(self._query_cache) > 16:
                    self._query_cache.popitem(last=False)
        return self.records(matched[offset : offset + limit + 1])


class ViewIndex:
    """Per-view indexes; built lazily per collection."""

    def __init__(self, view: StoreView, touched: dict[str, dict[str, int]]) -> None:
        self.view = view
        self.touched = touched
        self._collections: dict[str, CollectionIndex] = {}
        self._contact_leads: dict[str, list[dict[str, Any]]] | None = None
        self._lock = threading.Lock()

    def collection(self, name: str) -> CollectionIndex:
        with self._lock:
            idx = self._collections.get(name)
            if idx is None:
                store = self.view.stores.get(name) or StoreBuilder().finish()
                overlay = self.touched.get("leads" if name == "deleted_leads" else name) or {}
                idx = CollectionIndex(store, overlay)
                self._collections[name] = idx
            return idx

    def warm(self) -> None:
        """Build the sort orders incremental pulls use now, not while a client waits (and is timed)."""
        for name in (*TOUCHABLE, "deleted_leads"):
            self.collection(name).sorted_by("updated_at", False)
        self.collection("events").sorted_by("created_at", False)

    def contact_leads(self) -> dict[str, list[dict[str, Any]]]:
        """contact id → lead links (for ``contacts?with=leads``), from the stored leads."""
        with self._lock:
            if self._contact_leads is None:
                out: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
                leads = self.view.stores.get("leads") or StoreBuilder().finish()
                for lo in range(0, len(leads), 20_000):
                    for lead in leads.records(np.arange(lo, min(lo + 20_000, len(leads)))):
                        for contact in ((lead.get("_embedded") or {}).get("contacts")) or []:
                            out[str(contact.get("id"))].append({"id": lead.get("id")})
                self._contact_leads = dict(out)
            return self._contact_leads
