"""The generated account: deterministic for a seed, with the quirks of real accounts."""

from __future__ import annotations

from pathlib import Path

from etl.simulated.synth import RAW_FILES, generate_account, write_raw_export
from tests.etl.simulated.synth_cases import END, city_of


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path):
    def export(seed: int, name: str) -> Path:
        acc = generate_account(seed=seed, deals_per_year=2000, years=0.5, end=END)
        write_raw_export(tmp_path / name, acc.as_of(END), pulled_at=END)
        return tmp_path / name

    a, b, c = export(11, "a"), export(11, "b"), export(12, "c")
    # the streaming writer (used by the demo command) writes the very same bytes, whatever the chunking
    generate_account(seed=11, deals_per_year=2000, years=0.5, end=END).export(tmp_path / "s", END, chunk=333)
    files = ["account.json", "export.json"] + [f"{n}.jsonl" for n in RAW_FILES]
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
        assert (a / f).read_bytes() == (tmp_path / "s" / f).read_bytes(), f
    assert (a / "leads.jsonl").read_bytes() != (c / "leads.jsonl").read_bytes()
    assert (a / "events.jsonl").read_bytes() != (c / "events.jsonl").read_bytes()


def test_quirks_of_real_accounts_are_present(account, view):
    leads = {x["id"]: x for x in view["leads"]}
    # deals without city
    assert 0.01 <= sum(city_of(x) is None for x in leads.values()) / len(leads) <= 0.06
    # a returning client: a contact with two deals, the second created after the first closed
    returning = [c for c in view["contacts"] if len(c["_embedded"]["leads"]) >= 2]
    assert 0.02 <= len(returning) / len(view["contacts"]) <= 0.08
    for c in returning:
        first, second = (leads[x["id"]] for x in c["_embedded"]["leads"][:2])
        assert first["closed_at"] is not None and first["closed_at"] < second["created_at"]
    # deleted deals: in the trash with most fields null, and a lead_deleted event each
    deleted = view["deleted_leads"]
    assert deleted and all(x["is_deleted"] is True and x["status_id"] is None and x["price"] is None for x in deleted)
    del_events = {e["entity_id"] for e in view["events"] if e["type"] == "lead_deleted"}
    assert {x["id"] for x in deleted} <= del_events
    # a restored one: deleted, restored, alive
    restored = {e["entity_id"] for e in view["events"] if e["type"] == "lead_restored"}
    assert restored and restored <= set(leads) and restored <= del_events
    # status changes for leads that do not exist
    known = set(leads) | {x["id"] for x in deleted}
    ghosts = [e for e in view["events"] if e["type"] == "lead_status_changed" and e["entity_id"] not in known]
    assert len(ghosts) >= 3
    # a duration as a string, tasks with "result": []
    notes = view["lead_notes"] + view["contact_notes"]
    assert any(isinstance(x["params"].get("duration"), str) for x in notes)
    assert any(t["result"] == [] for t in view["tasks"] if t["is_completed"])
    # created by a robot straight into "booked"
    booked_ids = {
        s["id"] for p in view["pipelines"] for s in p["_embedded"]["statuses"] if s["name"].startswith("Записан")
    }
    robots = [
        e
        for e in view["events"]
        if e["type"] == "lead_added" and e["created_by"] == 0 and e["value_after"][0]["lead_status"]["id"] in booked_ids
    ]
    assert robots and all(leads[e["entity_id"]]["created_by"] == 0 for e in robots if e["entity_id"] in leads)
    # call/SMS events point to their note
    note_ids = {x["id"] for x in notes}
    call_events = [e for e in view["events"] if e["type"] in ("incoming_call", "outgoing_call", "outgoing_sms")]
    assert call_events and all(e["value_after"][0]["note"]["id"] in note_ids for e in call_events)
