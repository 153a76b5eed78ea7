"""The emulator speaks amoCRM API v4 as AMOCRM.md describes, over real loopback HTTP.

The account is ``TinyAccount`` (tests/etl/conftest.py): at its ``end`` deals 0..200 exist (one
every 2 h, 201 in all), deals 7, 32, …, 182 (8 of them) are in the trash, so 193 leads are live.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from etl.extract.amo_client import jwt_exp
from etl.simulated.emulator import load_raw_view, make_jwt, parse_filters, sliding_window_max, start_emulator

LIVE, TRASHED, ALL = 193, 8, 201


@pytest.fixture
def emu(tiny):
    handle = start_emulator(tiny, rate_limit_per_s=1000)
    yield handle
    handle.stop()


def get(emu, path, params=None, token=None, **kw):
    headers = {"Authorization": f"Bearer {token or emu.token}"}
    return requests.get(emu.url + path, params=params, headers=headers, timeout=10, **kw)


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


def test_parse_filters_accepts_the_real_world_syntaxes():
    pairs = [
        ("filter[updated_at][from]", "10"),
        ("filter[updated_at][to]", "20"),
        ("filter[id][]", "1"),
        ("filter[id][]", "2"),
        ("filter[entity_id][0]", "5"),
        ("filter[type]", "a,b"),
        ("filter[is_completed]", "1"),
    ]
    f = parse_filters(pairs)
    assert f == {
        "updated_at": {"from": 10, "to": 20},
        "id": [1, 2],
        "entity_id": [5],
        "type": ["a", "b"],
        "is_completed": 1,
    }


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


def test_bad_and_expired_tokens_get_401_problem_json(emu):
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"}):
        r = requests.get(emu.url + "/api/v4/leads", headers=headers, timeout=5)
        assert r.status_code == 401 and r.headers["Content-Type"] == "application/problem+json"
        assert r.json()["status"] == 401 and r.json()["title"]
    forged = make_jwt(b"not the server's secret", {"exp": int(time.time()) + 3600, "jti": "x"})
    assert get(emu, "/api/v4/leads", token=forged).status_code == 401
    expired = emu.issue_token(ttl_s=-1)
    r = get(emu, "/api/v4/leads", token=expired)
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    assert jwt_exp(expired) < time.time() < jwt_exp(emu.token)  # JWT-shaped, exp readable by clients


def test_oauth_code_and_refresh_rotation(emu):
    emu.add_client("cid", "secret", "https://example.com/cb")
    code = emu.authorize("cid")
    body = {"client_id": "cid", "client_secret": "secret", "redirect_uri": "https://example.com/cb"}
    pair = requests.post(
        emu.url + "/oauth2/access_token", json={**body, "grant_type": "authorization_code", "code": code}, timeout=5
    ).json()
    assert pair["token_type"] == "Bearer" and pair["expires_in"] == 86400
    assert get(emu, "/api/v4/account", token=pair["access_token"]).status_code == 200
    again = requests.post(
        emu.url + "/oauth2/access_token", json={**body, "grant_type": "authorization_code", "code": code}, timeout=5
    )
    assert again.status_code == 400  # a code works once
    new = requests.post(
        emu.url + "/oauth2/access_token",
        json={**body, "grant_type": "refresh_token", "refresh_token": pair["refresh_token"]},
        timeout=5,
    )
    assert new.status_code == 200 and new.json()["refresh_token"] != pair["refresh_token"]
    old = requests.post(
        emu.url + "/oauth2/access_token",
        json={**body, "grant_type": "refresh_token", "refresh_token": pair["refresh_token"]},
        timeout=5,
    )
    assert old.status_code == 400 and old.json()["hint"] == "Token has been revoked"
    wrong = requests.post(
        emu.url + "/oauth2/access_token",
        json={
            **body,
            "client_secret": "x",
            "grant_type": "refresh_token",
            "refresh_token": new.json()["refresh_token"],
        },
        timeout=5,
    )
    assert wrong.status_code == 401
    # The browser flow: /oauth redirects to the redirect URI with a code and the state.
    r = requests.get(emu.url + "/oauth", params={"client_id": "cid", "state": "s1"}, allow_redirects=False, timeout=5)
    assert (
        r.status_code == 302
        and r.headers["Location"].startswith("https://example.com/cb?code=")
        and "state=s1" in r.headers["Location"]
    )


def test_more_than_the_limit_per_second_gets_429(tiny):
    with start_emulator(tiny, rate_limit_per_s=7) as emu:
        codes = [get(emu, "/api/v4/account").status_code for _ in range(12)]
        assert codes[:7] == [200] * 7 and 429 in codes[7:]  # 12 back-to-back requests take far less than 1 s
        other = emu.issue_token()
        assert get(emu, "/api/v4/account", token=other).status_code == 200  # the limit is per token
        times = [e.mono for e in emu.request_log()]
        assert sliding_window_max(times) >= 8


def test_fault_switches(emu):
    emu.set_faults(block=True)
    r = get(emu, "/api/v4/leads")
    assert r.status_code == 403 and r.headers["Content-Type"].startswith("text/html") and "<html" in r.text
    emu.set_faults(block=False, unpaid=True)
    assert get(emu, "/api/v4/leads").status_code == 402
    emu.set_faults(unpaid=False, phantom_next=True)
    last = get(emu, "/api/v4/leads", {"limit": 50, "page": 4}).json()
    assert len(last["_embedded"]["leads"]) == 43 and "next" in last["_links"]  # phantom: page 5 is a 204
    emu.set_faults(phantom_next=False, malformed_rate=1.0)
    with pytest.raises(ValueError):
        get(emu, "/api/v4/leads").json()
    emu.set_faults(malformed_rate=0.0, drop_rate=1.0)
    try:  # urllib3 2 raises; urllib3 1.26 hands back a truncated body: either way it is incomplete
        r = get(emu, "/api/v4/leads", {"limit": 250})
        assert len(r.content) < int(r.headers["Content-Length"])
    except requests.exceptions.RequestException:
        pass
    emu.set_faults(drop_rate=0.0, error_rate=1.0, error_status=502)
    assert get(emu, "/api/v4/leads").status_code == 502
    emu.set_faults(error_rate=0.0, fail_after=0)
    assert get(emu, "/api/v4/leads").status_code == 502
    emu.clear_faults()
    assert get(emu, "/api/v4/leads").status_code == 200
    emu.set_faults(slow_s=0.3)
    with pytest.raises(requests.exceptions.Timeout):
        requests.get(emu.url + "/api/v4/account", headers={"Authorization": f"Bearer {emu.token}"}, timeout=0.1)
    emu.clear_faults()
    with pytest.raises(ValueError):
        emu.set_faults(no_such_fault=True)


def test_faults_settable_over_http_and_log_readable(emu):
    r = requests.post(emu.url + "/_emulator/faults", json={"phantom_next": True, "error_rate": 0.5}, timeout=5)
    assert r.json()["phantom_next"] is True and r.json()["error_rate"] == 0.5
    assert requests.post(emu.url + "/_emulator/faults", json={"bogus": 1}, timeout=5).status_code == 400
    requests.post(emu.url + "/_emulator/faults", json={"phantom_next": False, "error_rate": 0}, timeout=5)
    get(emu, "/api/v4/users")
    log = requests.get(emu.url + "/_emulator/log", timeout=5).json()["requests"]
    assert log[-1]["path"] == "/api/v4/users" and log[-1]["status"] == 200 and log[-1]["token_id"]
    assert emu.token not in json.dumps(log)  # the log names tokens by id, never by value


def test_updates_while_paging_move_records_to_the_end(emu, tiny):
    emu.set_faults(touch_per_request=2, touch_budget=2)
    first = get(emu, "/api/v4/leads", {"order[updated_at]": "asc", "limit": 250}).json()["_embedded"]["leads"]
    touched = [x for x in first if x["updated_at"] > int(tiny.end.timestamp())]
    assert len(touched) == 2 and first[-2:] == touched  # updated now → newest → last in ascending order


def test_advancing_the_clock_lets_the_business_go_on(emu, tiny):
    before = get(emu, "/api/v4/leads", {"limit": 250}).json()["_embedded"]["leads"]
    r = requests.post(emu.url + "/_emulator/advance", json={"seconds": 86400}, timeout=30)
    assert r.json()["clock"].startswith((tiny.end + timedelta(days=1)).date().isoformat())
    after = get(emu, "/api/v4/leads", {"limit": 250}).json()["_embedded"]["leads"]
    # 12 new deals in a day (one per 2 h), minus those deleted within the day (deal 207: at +30 h, not yet).
    assert len(after) == len(before) + 12
    changed = [x for x in after if x["updated_at"] > int(tiny.end.timestamp())]
    assert {x["id"] for x in changed} >= {20000 + i for i in range(201, 213)}


def test_serves_a_raw_export_latest_version_per_id(tmp_path, tiny):
    old = tiny.as_of(tiny.end)
    new = tiny.as_of(tiny.end + timedelta(days=2))
    (tmp_path / "account.json").write_text(json.dumps(old["account"]), encoding="utf-8")
    with (tmp_path / "leads.jsonl").open("w", encoding="utf-8") as fh:
        for rec in old["leads"] + old["deleted_leads"] + new["leads"] + new["deleted_leads"]:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    view = load_raw_view(tmp_path)
    # Deal 207 was live at end and is deleted 30 h after its creation (end + 16 h): trashed now.
    assert 20207 in {x["id"] for x in view["deleted_leads"]} and 20207 not in {x["id"] for x in view["leads"]}
    assert len(view["leads"]) == len(new["leads"])
    with start_emulator(view, rate_limit_per_s=1000) as emu:
        got = get(emu, "/api/v4/leads", {"limit": 250, "filter[id]": 20000}).json()["_embedded"]["leads"][0]
        assert got["status_id"] == 142  # deal 0 is won 24 h after creation
