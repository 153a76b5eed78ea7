"""Calls and SMS: how many per deal and how many answered."""

from __future__ import annotations


def test_calls_sms_and_answer_rates(view):
    notes = view["lead_notes"] + view["contact_notes"]
    n = len(view["leads"]) + len(view["deleted_leads"])
    calls = [x for x in notes if x["note_type"] in ("call_in", "call_out")]
    sms = [x for x in notes if x["note_type"] in ("sms_in", "sms_out")]
    assert 3 <= len(calls) / n <= 10
    assert 1 <= len(sms) / n <= 4
    out = [int(x["params"]["duration"]) for x in calls if x["note_type"] == "call_out"]
    assert 0.4 <= sum(d == 0 for d in out) / len(out) <= 0.62  # half unanswered
    answered = [int(x["params"]["duration"]) for x in calls if int(x["params"]["duration"]) > 0]
    assert min(answered) >= 60 and max(answered) <= 900  # 1–15 minutes
    on_contact = sum(x["note_type"].startswith("call") for x in view["contact_notes"])
    assert 0.3 <= on_contact / len(calls) <= 0.5  # ~40 % logged on the contact
