"""Leads as amoCRM shows them, and the view as of a later time (it only grows)."""

from __future__ import annotations

from datetime import timedelta

from etl.simulated.synth import SynthParams
from tests.etl.simulated.synth_cases import DAY, END


def test_lead_shape_follows_amocrm(view):
    lead = next(x for x in view["leads"] if x["status_id"] == 142)
    assert set(lead) == {
        "id", "name", "price", "responsible_user_id", "group_id", "status_id", "pipeline_id", "loss_reason_id",
        "created_by", "updated_by", "created_at", "updated_at", "closed_at", "closest_task_at", "is_deleted",
        "custom_fields_values", "score", "account_id", "labor_cost", "_links", "_embedded",
    }  # fmt: skip
    assert lead["_links"]["self"]["href"] == f"https://prizyva-net.amocrm.ru/api/v4/leads/{lead['id']}"
    assert lead["_embedded"]["contacts"][0]["is_main"] is True
    assert lead["closed_at"] is not None and lead["price"] > 0
    # a won deal carries its package; its price is the package's list price less at most 10 %
    prices = dict(SynthParams().packages)
    pkg = next(f for f in lead["custom_fields_values"] if f["field_name"] == "Пакет")["values"][0]["value"]
    assert 0.9 * prices[pkg] - 500 <= lead["price"] <= prices[pkg]
    # nothing filled → null, never []
    assert all(x["custom_fields_values"] is None or x["custom_fields_values"] for x in view["leads"])
    ev = view["events"][0]
    assert isinstance(ev["id"], str) and ev["entity_type"] in ("lead", "contact", "task")


def test_as_of_only_grows_and_updated_at_never_goes_back(account):
    times = [END - timedelta(days=30), END, END + timedelta(days=1), END + timedelta(days=25)]
    views = [account.as_of(t) for t in times]

    def ids(v, key):
        return {x["id"] for x in v[key]}

    for v1, v2, t1, t2 in zip(views, views[1:], times, times[1:], strict=False):
        for key in ("events", "lead_notes", "contact_notes", "tasks", "contacts"):
            assert ids(v1, key) <= ids(v2, key), key
            assert ids(v1, key) < ids(v2, key) or key == "contact_notes" and t2 - t1 < timedelta(days=2), key
        assert ids(v1, "leads") | ids(v1, "deleted_leads") <= ids(v2, "leads") | ids(v2, "deleted_leads")
        upd1 = {x["id"]: x["updated_at"] for x in v1["leads"] + v1["deleted_leads"]}
        upd2 = {x["id"]: x["updated_at"] for x in v2["leads"] + v2["deleted_leads"]}
        assert all(upd2[i] >= u for i, u in upd1.items())
        assert any(upd2[i] > u for i, u in upd1.items())  # the business goes on
        ts2 = int(t2.timestamp())
        assert all(x["created_at"] <= ts2 for x in v2["events"] + v2["tasks"] + v2["lead_notes"])
        assert all(x["updated_at"] <= ts2 for x in v2["leads"] + v2["tasks"] + v2["contacts"])
    # the horizon: deals keep being created after the end
    assert max(x["created_at"] for x in views[-1]["leads"]) > int(END.timestamp()) + 20 * DAY
