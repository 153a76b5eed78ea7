"""Indexed views: per collection, records plus lazily built sort orders for fast range queries.

Incremental pulls page through ``filter[updated_at][from]`` ordered by ``updated_at``; bisecting a
sorted copy keeps every page cheap on an account of millions of records.  Records "touched" by the
fault switch are overlaid with their new ``updated_at``.
"""

from __future__ import annotations

import bisect
import collections
import json
import threading
from typing import Any

from etl.extract.amo_client import lenient_int
from etl.simulated.query import RANGE_FIELDS, record_predicate, time_range

#: Collections whose records can be "updated while a client pages" (they have ``updated_at``).
TOUCHABLE = ("leads", "contacts", "lead_notes", "contact_notes", "tasks")


class CollectionIndex:
    """One collection of one view: records plus lazily built sort orders for fast range queries."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records
        self._sorted: dict[tuple[str, bool], tuple[list[int], list[dict[str, Any]]]] = {}
        self._by_id: dict[str, dict[str, Any]] | None = None
        self._query_cache: collections.OrderedDict[Any, list[dict[str, Any]]] = collections.OrderedDict()
        self._lock = threading.Lock()

    def by_id(self) -> dict[str, dict[str, Any]]:
        if self._by_id is None:
            self._by_id = {str(rec.get("id")): rec for rec in self.records}
        return self._by_id

    def sorted_by(self, fld: str, desc: bool) -> tuple[list[Any], list[dict[str, Any]]]:
        """Records sorted by (field, id); keys are the field values (for bisect on asc)."""
        with self._lock:
            if (fld, desc) not in self._sorted:

                def key(rec: dict[str, Any]) -> tuple[Any, Any]:
                    rid = rec.get("id")
                    id_key = (0, rid, "") if isinstance(rid, int) else (1, 0, str(rid))
                    if fld == "id":
                        return (id_key, 0)
                    return (lenient_int(rec.get(fld)) or 0, id_key)

                recs = sorted(self.records, key=key, reverse=desc)
                keys = [] if fld == "id" else [lenient_int(rec.get(fld)) or 0 for rec in recs]
                self._sorted[(fld, desc)] = (keys, recs)
            return self._sorted[(fld, desc)]

    def select(
        self, filters: dict[str, Any], order: tuple[str, bool] | None, offset: int, limit: int
    ) -> list[dict[str, Any]]:
        """Up to ``limit + 1`` matching records starting at ``offset`` (the +1 tells if more exist)."""
        if order is None:  # no order asked: by the range-filtered field if any (new records go last)
            order = next(((name, False) for name in RANGE_FIELDS if name in filters), None)
        fld, desc = order or ("id", False)
        rng = time_range(filters.get(fld)) if fld in RANGE_FIELDS and fld in filters else None
        if rng is not None and not desc and offset <= 4 * limit:
            # Keyset-friendly path: bisect to the range start, scan lazily.
            keys, recs = self.sorted_by(fld, False)
            lo, hi = rng
            start = bisect.bisect_left(keys, lo) if lo is not None else 0
            pred = record_predicate(filters, skip_range=fld)
            out: list[dict[str, Any]] = []
            skipped = 0
            for i in range(start, len(recs)):
                rec = recs[i]
                if hi is not None and keys[i] > hi:
                    break
                if not pred(rec):
                    continue
                if skipped < offset:
                    skipped += 1
                    continue
                out.append(rec)
                if len(out) > limit:
                    break
            return out
        cache_key = (json.dumps(filters, sort_keys=True, default=str), fld, desc)
        with self._lock:
            matched = self._query_cache.get(cache_key)
            if matched is not None:
                self._query_cache.move_to_end(cache_key)
        if matched is None:
            keys, recs = self.sorted_by(fld, desc)
            if rng is not None and not desc and rng[0] is not None:
                recs = recs[bisect.bisect_left(keys, rng[0]) :]  # skip what the range excludes anyway
            pred = record_predicate(filters)
            matched = [rec for rec in recs if pred(rec)]
            with self._lock:
                self._query_cache[cache_key] = matched
                while len(self._query_cache) > 16:
                    self._query_cache.popitem(last=False)
        return matched[offset : offset + limit + 1]


class ViewIndex:
    """Per-view indexes; built lazily per collection."""

    def __init__(self, view: dict[str, Any], touched: dict[str, dict[str, int]]) -> None:
        self.view = view
        self.touched = touched
        self._collections: dict[str, CollectionIndex] = {}
        self._contact_leads: dict[str, list[dict[str, Any]]] | None = None
        self._lock = threading.Lock()

    def collection(self, name: str) -> CollectionIndex:
        with self._lock:
            idx = self._collections.get(name)
            if idx is None:
                records = list(self.view.get(name) or [])
                overlay = self.touched.get("leads" if name == "deleted_leads" else name) or {}
                if overlay:
                    patched = []
                    for rec in records:
                        new_ts = overlay.get(str(rec.get("id")))
                        if new_ts is not None and new_ts > (lenient_int(rec.get("updated_at")) or 0):
                            rec = {**rec, "updated_at": new_ts}
                        patched.append(rec)
                    records = patched
                idx = CollectionIndex(records)
                self._collections[name] = idx
            return idx

    def warm(self) -> None:
        """Build the sort orders incremental pulls use now, not while a client waits (and is timed)."""
        for name in (*TOUCHABLE, "deleted_leads"):
            self.collection(name).sorted_by("updated_at", False)
        self.collection("events").sorted_by("created_at", False)

    def contact_leads(self) -> dict[str, list[dict[str, Any]]]:
        """contact id → lead links (for ``contacts?with=leads``)."""
        with self._lock:
            if self._contact_leads is None:
                out: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
                for lead in self.view.get("leads") or []:
                    for contact in ((lead.get("_embedded") or {}).get("contacts")) or []:
                        out[str(contact.get("id"))].append({"id": lead.get("id")})
                self._contact_leads = dict(out)
            return self._contact_leads
