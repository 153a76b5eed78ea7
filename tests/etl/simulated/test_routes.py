"""The API endpoints: HAL envelopes and links, paging, limits, filters, ``with=``, the fixed lists."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from tests.etl.simulated.emulator_cases import ALL, LIVE, TRASHED, get


def test_hal_envelope_links_keep_every_param_and_change_only_page(emu):
    params = [("with", "contacts"), ("filter[updated_at][from]", "0"), ("limit", "50"), ("page", "2")]
    r = get(emu, "/api/v4/leads", params)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/hal+json")
    body = r.json()
    assert body["_page"] == 2 and len(body["_embedded"]["leads"]) == 50
    links = body["_links"]
    for name, page in (("self", "2"), ("next", "3"), ("first", "1"), ("prev", "1")):
        href = links[name]["href"]
        assert href.startswith(emu.url + "/api/v4/leads?")  # absolute, on the account host
        q = dict(parse_qsl(urlsplit(href).query))
        assert q == {"with": "contacts", "filter[updated_at][from]": "0", "limit": "50", "page": page}
    first = get(emu, "/api/v4/leads", [("limit", "50")]).json()
    assert "first" not in first["_links"] and "prev" not in first["_links"]
    assert all("_links" in lead for lead in body["_embedded"]["leads"])


def test_paging_ends_with_204_and_empty_body(emu):
    # 193 live leads at 50 a page: pages 1-3 full, page 4 has 43 and no next link, page 5 is a 204.
    last = get(emu, "/api/v4/leads", {"limit": 50, "page": 4})
    assert len(last.json()["_embedded"]["leads"]) == LIVE - 150 and "next" not in last.json()["_links"]
    past = get(emu, "/api/v4/leads", {"limit": 50, "page": 5})
    assert past.status_code == 204 and past.content == b""
    nothing = get(emu, "/api/v4/leads", {"filter[id][]": 1})
    assert nothing.status_code == 204 and nothing.content == b""


def test_limits_default_50_max_250_events_100_larger_gives_50(emu):
    assert len(get(emu, "/api/v4/contacts").json()["_embedded"]["contacts"]) == 50
    assert len(get(emu, "/api/v4/contacts", {"limit": 250}).json()["_embedded"]["contacts"]) == ALL
    assert len(get(emu, "/api/v4/contacts", {"limit": 251}).json()["_embedded"]["contacts"]) == 50
    assert len(get(emu, "/api/v4/events", {"limit": 100}).json()["_embedded"]["events"]) == 100
    assert len(get(emu, "/api/v4/events", {"limit": 250}).json()["_embedded"]["events"]) == 50


def test_every_filter_syntax(emu, tiny):
    ids = lambda r: sorted(x["id"] for x in r.json()["_embedded"]["leads"])  # noqa: E731
    assert ids(get(emu, "/api/v4/leads", [("filter[id][]", "20000"), ("filter[id][]", "20001")])) == [20000, 20001]
    assert ids(get(emu, "/api/v4/leads", [("filter[id][0]", "20002"), ("filter[id][1]", "20003")])) == [20002, 20003]
    assert ids(get(emu, "/api/v4/leads", {"filter[id]": "20004,20005"})) == [20004, 20005]
    # At end: deal 200 is created (updated_at = end), deal 188 closes (created end − 24 h), deal 199
    # (created end − 2 h) reached "phone" at end − 1 h.
    end = int(tiny.end.timestamp())
    assert ids(get(emu, "/api/v4/leads", {"filter[updated_at]": end})) == [20188, 20200]
    window = {"filter[updated_at][from]": end - 3600, "filter[updated_at][to]": end - 1}
    assert ids(get(emu, "/api/v4/leads", window)) == [20199]
    desc = get(emu, "/api/v4/leads", {"order[updated_at]": "desc", "limit": 3}).json()["_embedded"]["leads"]
    assert [x["id"] for x in desc] == [20200, 20188, 20199]  # ties on one second: by id
    types = get(emu, "/api/v4/events", {"filter[type]": "lead_deleted", "limit": 100}).json()["_embedded"]["events"]
    assert len(types) == TRASHED and {e["type"] for e in types} == {"lead_deleted"}
    notes = get(emu, "/api/v4/contacts/notes", [("filter[note_type][]", "call_in"), ("filter[note_type][]", "sms_in")])
    assert notes.status_code == 200 and {n["note_type"] for n in notes.json()["_embedded"]["notes"]} == {"sms_in"}
    assert get(emu, "/api/v4/leads/notes", [("filter[note_type][]", "sms_in")]).status_code == 204
    done = get(emu, "/api/v4/tasks", {"filter[is_completed]": 0, "limit": 250}).json()["_embedded"]["tasks"]
    # Tasks complete 24 h after creation: deals 189..200 (created after end − 24 h) still have open ones.
    assert {t["id"] for t in done} == set(range(60189, 60201))


def test_with_contacts_only_deleted_and_contacts_with_leads(emu):
    plain = get(emu, "/api/v4/leads", {"filter[id]": 20000}).json()["_embedded"]["leads"][0]
    assert "contacts" not in plain["_embedded"]
    full = get(emu, "/api/v4/leads", {"filter[id]": 20000, "with": "contacts,loss_reason,nonsense"}).json()
    assert full["_embedded"]["leads"][0]["_embedded"]["contacts"] == [{"id": 30000, "is_main": True}]
    trashed = get(emu, "/api/v4/leads", {"with": "only_deleted", "limit": 250}).json()["_embedded"]["leads"]
    assert sorted(x["id"] for x in trashed) == [20000 + i for i in range(7, 200, 25)]
    assert all(x["is_deleted"] is True and x["name"] is None for x in trashed)
    contact = get(emu, "/api/v4/contacts", {"filter[id]": 30005, "with": "leads"}).json()["_embedded"]["contacts"][0]
    assert contact["_embedded"]["leads"] == [{"id": 20005}]


def test_pipelines_not_paged_users_have_totals_account_with_datetime(emu):
    pipes = get(emu, "/api/v4/leads/pipelines").json()
    assert pipes["_total_items"] == 1 and "next" not in pipes["_links"]
    assert [s["id"] for s in pipes["_embedded"]["pipelines"][0]["_embedded"]["statuses"]][-2:] == [142, 143]
    users = get(emu, "/api/v4/users", {"limit": 2}).json()
    assert users["_total_items"] == 3 and users["_page_count"] == 2 and "next" in users["_links"]
    acc = get(emu, "/api/v4/account").json()
    assert acc["id"] == 777 and "_embedded" not in acc
    acc = get(emu, "/api/v4/account", {"with": "datetime_settings"}).json()
    assert acc["_embedded"]["datetime_settings"]["timezone"] == "Europe/Moscow"
    assert get(emu, "/api/v4/leads/20000").json()["id"] == 20000
