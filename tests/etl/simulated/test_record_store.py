"""The emulator's record stores answer exactly what a list of dicts per collection answered.

Three checks on the generated account (seed 7, 3 000 deals a year): paging through every collection
over loopback HTTP gives back the raw export of the same account at the same moment, record for
record and in the same order; the store's ``select`` gives the same JSON as the dict-per-record
algorithm it replaced (kept below as ``reference_select``) for sorts, filters, deep offsets and
touched records; a raw export folder read line by line is the view the dict-per-record reader read.
"""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest

from etl.extract.amo_client import lenient_int
from etl.simulated.emulator import start_emulator
from etl.simulated.indexes import CollectionIndex
from etl.simulated.query import RANGE_FIELDS, record_predicate, time_range
from etl.simulated.synth import write_raw_export
from etl.simulated.view_store import view_of_dict, view_of_raw
from tests.etl.simulated.emulator_cases import get
from tests.etl.simulated.synth_cases import END

#: (path, query, raw file, key under _embedded, page size)
PULLS = (
    ("/api/v4/users", {}, "users", "users", 250),
    ("/api/v4/leads/custom_fields", {}, "lead_fields", "custom_fields", 250),
    ("/api/v4/leads", {"with": "contacts"}, "leads", "leads", 250),
    ("/api/v4/leads", {"with": "only_deleted"}, "leads", "leads", 250),
    ("/api/v4/contacts", {"with": "leads"}, "contacts", "contacts", 250),
    ("/api/v4/events", {}, "events", "events", 100),
    ("/api/v4/leads/notes", {}, "lead_notes", "notes", 250),
    ("/api/v4/contacts/notes", {}, "contact_notes", "notes", 250),
    ("/api/v4/tasks", {}, "tasks", "tasks", 250),
)


def _page_all(emu, path, query, key, limit):
    out, page = [], 1
    while True:
        resp = get(emu, path, {**query, "limit": limit, "page": page})
        if resp.status_code == 204:
            return out
        assert resp.status_code == 200
        out += resp.json()["_embedded"][key]
        page += 1


def test_paging_every_collection_gives_back_the_raw_export(account, tmp_path):
    write_raw_export(tmp_path, account.as_of(END), pulled_at=END)
    with start_emulator(account, rate_limit_per_s=100_000) as emu:
        served = {}
        for path, query, name, key, limit in PULLS:
            served.setdefault(name, []).extend(_page_all(emu, path, query, key, limit))
        pipelines = get(emu, "/api/v4/leads/pipelines").json()["_embedded"]["pipelines"]
    for name, records in served.items():
        lines = (tmp_path / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        assert [json.dumps(rec, ensure_ascii=False, separators=(",", ":")) for rec in records] == lines, name
    assert len(served["events"]) > 10_000 and len(served["tasks"]) > 1_000
    assert pipelines == [json.loads(line) for line in (tmp_path / "pipelines.jsonl").read_text().splitlines()]


def reference_select(records, filters, order, offset, limit):
    """The dict-per-record ``CollectionIndex.select`` the stores replaced (before 2026-12-07)."""
    if order is None:
        order = next(((name, False) for name in RANGE_FIELDS if name in filters), None)
    fld, desc = order or ("id", False)

    def key(rec):
        rid = rec.get("id")
        id_key = (0, rid, "") if isinstance(rid, int) else (1, 0, str(rid))
        return (id_key, 0) if fld == "id" else (lenient_int(rec.get(fld)) or 0, id_key)

    rng = time_range(filters.get(fld)) if fld in RANGE_FIELDS and fld in filters else None
    if rng is not None and not desc and offset <= 4 * limit:
        recs = sorted(records, key=key)
        keys = [lenient_int(rec.get(fld)) or 0 for rec in recs]
        lo, hi = rng
        pred = record_predicate(filters, skip_range=fld)
        out, skipped = [], 0
        for i in range(len(recs)):
            if (lo is not None and keys[i] < lo) or not pred(recs[i]):
                continue
            if hi is not None and keys[i] > hi:
                break
            if skipped < offset:
                skipped += 1
                continue
            out.append(recs[i])
            if len(out) > limit:
                break
        return out
    recs = sorted(records, key=key, reverse=desc)
    if rng is not None and not desc and rng[0] is not None:
        recs = [rec for rec in recs if (lenient_int(rec.get(fld)) or 0) >= rng[0]]
    pred = record_predicate(filters)
    return [rec for rec in recs if pred(rec)][offset : offset + limit + 1]


def _queries(view):
    """(collection, filters, order, offset, limit): sorts, keyset and deep pages, every kind of filter."""
    mid = sorted(rec["updated_at"] for rec in view["leads"])[len(view["leads"]) // 2]
    early = sorted(rec["created_at"] for rec in view["events"])[len(view["events"]) // 3]
    lead = view["leads"][10]
    for name in ("users", "lead_fields", "leads", "deleted_leads", "contacts", "lead_notes", "contact_notes", "tasks"):
        yield name, {}, None, 0, 250
        yield name, {}, ("id", True), 250, 250
        yield name, {}, ("updated_at", False), 500, 250
        yield name, {}, ("updated_at", True), 0, 50
        yield name, {"updated_at": {"from": mid}}, ("updated_at", False), 0, 250
        yield name, {"updated_at": {"from": mid}}, ("updated_at", False), 250, 250
        yield name, {"updated_at": {"from": mid}}, ("updated_at", False), 2_000, 250  # deep: the cached path
        yield name, {"updated_at": {"from": mid, "to": mid + 7 * 86_400}}, None, 50, 50
        yield name, {"created_at": {"to": mid}}, ("created_at", True), 100, 250
        yield name, {"updated_at": {"to": mid}}, ("updated_at", False), 0, 250
        yield name, {"created_at": {"to": mid}}, ("created_at", False), 0, 250  # keyset: a missing value is 0
    yield "leads", {"status_id": [142, 143], "updated_at": {"from": mid}}, ("updated_at", False), 0, 250
    at = lead["created_at"]
    yield "leads", {"created_at": {"from": at, "to": at}, "updated_at": {"from": 0}}, ("updated_at", False), 0, 250
    yield "deleted_leads", {"created_at": {"to": mid}, "updated_at": {"from": 0}}, None, 0, 250  # null created_at
    yield (
        "leads",
        {"statuses": {"0": {"pipeline_id": lead["pipeline_id"], "status_id": lead["status_id"]}}},
        None,
        0,
        250,
    )
    yield "leads", {"id": [lead["id"], lead["id"] + 5]}, None, 0, 50
    yield "leads", {"responsible_user_id": lead["responsible_user_id"]}, ("created_at", False), 250, 250
    yield "lead_notes", {"note_type": ["call_in", "sms_out"]}, ("updated_at", False), 300, 250
    yield "lead_notes", {"note_type": "call_out", "updated_at": {"from": mid}}, ("updated_at", False), 0, 250
    yield "contact_notes", {"entity_id": view["contact_notes"][3]["entity_id"]}, None, 0, 250
    yield "tasks", {"is_completed": 0, "updated_at": {"from": mid}}, ("updated_at", False), 10, 250
    yield "tasks", {"complete_till": {"from": mid}}, None, 0, 250
    yield "tasks", {"task_type": 2}, ("id", True), 0, 250
    for offset in (0, 100, 5_000):
        yield "events", {"type": "lead_status_changed,incoming_call", "created_at": {"from": early}}, None, offset, 100
    yield "events", {"type": ["lead_added"]}, ("created_at", True), 0, 100
    yield "events", {"entity": "leads", "entity_id": lead["id"]}, None, 0, 100
    yield "events", {}, ("id", True), 1_000, 100


def _same(got, want):
    return [json.dumps(rec, ensure_ascii=False) for rec in got] == [json.dumps(rec, ensure_ascii=False) for rec in want]


def test_select_answers_what_the_dict_per_record_index_answered(view):
    stores = view_of_dict(view).stores
    checked = 0
    for name, filters, order, offset, limit in _queries(view):
        want = reference_select(view[name], filters, order, offset, limit)
        got = CollectionIndex(stores[name]).select(filters, order, offset, limit)
        assert _same(got, want), (name, filters, order, offset)
        checked += bool(want)
    assert checked >= 60  # most queries find something: the comparison is not of empty pages


def test_touched_records_move_to_the_end_as_before(view):
    store = view_of_dict(view).stores["tasks"]
    new_ts = max(rec["updated_at"] for rec in view["tasks"]) + 10
    picked = [view["tasks"][i] for i in (3, 500, 1_200)]
    overlay = {str(rec["id"]): new_ts + i for i, rec in enumerate(picked)}
    patched = [
        {**rec, "updated_at": overlay[str(rec["id"])]} if str(rec["id"]) in overlay else rec for rec in view["tasks"]
    ]
    index = CollectionIndex(store, overlay)
    query = ({"updated_at": {"from": new_ts - 5}}, ("updated_at", False), 0, 250)
    got = index.select(*query)
    assert [rec["id"] for rec in got] == [rec["id"] for rec in picked]
    assert _same(got, reference_select(patched, *query))
    assert _same(
        index.select({}, ("updated_at", True), 0, 10), reference_select(patched, {}, ("updated_at", True), 0, 10)
    )
    assert index.find(str(picked[1]["id"]))["updated_at"] == new_ts + 1 and index.find("12") is None


def reference_raw_view(raw_dir):
    """The dict-per-record ``load_raw_view`` the stores replaced: latest per ``str(id)``, trashed apart."""
    view = {"account": json.loads((raw_dir / "account.json").read_text(encoding="utf-8"))}
    for path in raw_dir.glob("*.jsonl"):
        latest = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            old = latest.get(str(rec.get("id")))
            if old is None or (lenient_int(rec.get("updated_at")) or 0) >= (lenient_int(old.get("updated_at")) or 0):
                latest[str(rec.get("id"))] = rec
        view[path.stem] = list(latest.values())
    view["deleted_leads"] = [rec for rec in view["leads"] if rec.get("is_deleted")]
    view["leads"] = [rec for rec in view["leads"] if not rec.get("is_deleted")]
    return view


@pytest.mark.parametrize("chunk", [50_000, 7])  # 7: later versions replace records of earlier chunks
def test_a_raw_folder_read_line_by_line_is_the_view_the_dict_reader_read(tiny, tmp_path, chunk):
    old = tiny.as_of(tiny.end)
    new = tiny.as_of(tiny.end + timedelta(days=2))
    (tmp_path / "account.json").write_text(json.dumps(old["account"]), encoding="utf-8")
    for name, extra in (("leads", "deleted_leads"), ("tasks", None), ("events", None), ("pipelines", None)):
        with (tmp_path / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for view in (old, new):
                for rec in view[name] + (view[extra] if extra else []):
                    fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    want = reference_raw_view(tmp_path)
    got = view_of_raw(tmp_path, chunk=chunk).as_dict()
    for name in ("leads", "deleted_leads", "tasks", "events", "pipelines"):
        assert _same(got[name], want[name]), name
    assert len(got["deleted_leads"]) == 8 + 1 and got["account"] == want["account"]
    stores = view_of_raw(tmp_path, chunk=chunk).stores
    trashed = stores["deleted_leads"]
    assert np.array_equal(trashed.stamp("updated_at")[0], [rec["updated_at"] for rec in want["deleted_leads"]])
    live = want["leads"][-1]  # the columns moved with the records when the leads were split
    assert CollectionIndex(stores["leads"]).find(str(live["id"])) == live
