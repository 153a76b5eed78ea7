"""Status changes: each history is a chain ending in the current status; the CC → office transfer."""

from __future__ import annotations

from datetime import timedelta

from tests.etl.simulated.synth_cases import END


def test_status_history_is_a_chain_and_ends_in_the_current_status(account):
    for t in (END - timedelta(days=90), END, END + timedelta(days=20)):
        v = account.as_of(t)
        current = {x["id"]: (x["pipeline_id"], x["status_id"]) for x in v["leads"]}
        last: dict[int, tuple[int, int]] = {}
        for e in v["events"]:
            if e["entity_type"] != "lead" or e["entity_id"] not in current:
                continue
            if e["type"] == "lead_added":
                s = e["value_after"][0]["lead_status"]
                last[e["entity_id"]] = (s["pipeline_id"], s["id"])
            elif e["type"] == "lead_status_changed":
                b, a = e["value_before"][0]["lead_status"], e["value_after"][0]["lead_status"]
                assert last[e["entity_id"]] == (b["pipeline_id"], b["id"]), e
                last[e["entity_id"]] = (a["pipeline_id"], a["id"])
        assert last == current


def test_same_stage_transfer_from_the_contact_centre_to_the_office(view):
    pipes = {p["name"]: p for p in view["pipelines"]}

    def booked(name):
        st = pipes[name]["_embedded"]["statuses"]
        return next(s["id"] for s in st if s["name"] == "Записан на консультацию")

    cc, office = pipes["Контакт-центр"]["id"], pipes["Офис"]["id"]
    transfers = [
        e
        for e in view["events"]
        if e["type"] == "lead_status_changed"
        and e["value_before"][0]["lead_status"] == {"id": booked("Контакт-центр"), "pipeline_id": cc}
        and e["value_after"][0]["lead_status"] == {"id": booked("Офис"), "pipeline_id": office}
    ]
    handovers = {(e["entity_id"], e["created_at"]) for e in view["events"] if e["type"] == "entity_responsible_changed"}
    assert len(transfers) > 50
    assert all((e["entity_id"], e["created_at"]) in handovers for e in transfers)
