"""The raw-export builder: amoCRM API v4 records in their own JSON shapes, and the export writer.

One set of record constructors for every test that needs a raw export or an account view: the
hand-written export below (:func:`records`, :func:`write`; every expected value in
tests/etl/transform/test_build.py was worked out from it) and the moving ``TinyAccount`` of
tests/etl/conftest.py that the emulator serves.  Times are UTC; a constructor takes Unix seconds
or a ``'2026-03-01 10:00'`` string.  Personal data (names, phones, an SMS text) is put in on
purpose, to prove the snapshot never carries it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any

from etl.simulated.vocabulary import STATUS_NAMES as SYNTH_STATUS_NAMES

When = int | str
CC, OFFICE = 100, 200
CUSTOMER_NAME = "Иванов Пётр Сергеевич"
PHONE = "+79161234567"
SMS_TEXT = "Напоминаем: консультация завтра в 12:00"
LEAD_NAME = "Отсрочка — Иванов П."
WON, LOST = 142, 143


def ts(text: When) -> int:
    """'2026-03-01 10:00' (UTC) → Unix seconds; seconds are returned as they are."""
    if isinstance(text, int):
        return text
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp())


def self_link(path: str, rid: Any, subdomain: str = "test") -> dict[str, Any]:
    return {"self": {"href": f"https://{subdomain}.amocrm.ru/api/v4/{path}/{rid}"}}


def status(sid: int, name: str, sort: int, pipeline_id: int, *, first: bool = False, account: int = 1) -> dict:
    editable = sid not in (WON, LOST)
    color = "#CCFF66" if sid == WON else "#D5D8DB" if sid == LOST else "#fffeb2"
    return {
        "id": sid,
        "name": name,
        "sort": sort,
        "is_editable": editable,
        "pipeline_id": pipeline_id,
        "color": color,
        "type": 1 if first else 0,
        "account_id": account,
    }


def pipeline(pid: int, name: str, statuses: list[dict], *, sort: int, main: bool, unsorted: bool = True) -> dict:
    return {
        "id": pid,
        "name": name,
        "sort": sort,
        "is_main": main,
        "is_unsorted_on": unsorted,
        "is_archive": False,
        "account_id": statuses[0]["account_id"] if statuses else 1,
        "_embedded": {"statuses": statuses},
    }


def select_value(field_id: int, name: str, value: str, enum_id: int) -> dict[str, Any]:
    """One select field's value as in a lead's ``custom_fields_values``."""
    return {
        "field_id": field_id,
        "field_name": name,
        "field_code": None,
        "field_type": "select",
        "values": [{"value": value, "enum_id": enum_id}],
    }


def phone_value(field_id: int, phone: str) -> dict[str, Any]:
    return {
        "field_id": field_id,
        "field_name": "Телефон",
        "field_code": "PHONE",
        "field_type": "multitext",
        "values": [{"value": phone, "enum_code": "MOB"}],
    }


def lead(
    lid: int,
    status_of: tuple[int, int],
    created: When,
    *,
    updated: When | None = None,
    closed: When | None = None,
    user: int = 1,
    price: Any = 0,
    name: str = LEAD_NAME,
    fields: list[dict] | None = None,
    contacts: list[tuple[int, bool]] = (),
    created_by: int = 1,
    updated_by: int = 1,
    account: int = 1,
    subdomain: str = "test",
    contact_links: bool = True,
) -> dict[str, Any]:
    """A live lead; ``status_of`` = (pipeline id, status id); ``contact_links``: the embedded
    contacts carry their ``_links`` as the API sends them."""
    embedded = [{"id": c, "is_main": m} for c, m in contacts]
    if contact_links:
        embedded = [{**e, "_links": self_link("contacts", e["id"], subdomain)} for e in embedded]
    return {
        "id": lid,
        "name": name,
        "price": price,
        "responsible_user_id": user,
        "group_id": 0,
        "status_id": status_of[1],
        "pipeline_id": status_of[0],
        "loss_reason_id": None,
        "created_by": created_by,
        "updated_by": updated_by,
        "created_at": ts(created),
        "updated_at": ts(updated if updated is not None else created),
        "closed_at": ts(closed) if closed is not None else None,
        "closest_task_at": None,
        "is_deleted": False,
        "custom_fields_values": fields or None,
        "score": None,
        "account_id": account,
        "labor_cost": None,
        "_links": self_link("leads", lid, subdomain),
        "_embedded": {
            "tags": [],
            "companies": [],
            "contacts": embedded,
        },
    }


def trashed_lead(lid: int, updated: When | None = None, subdomain: str = "test") -> dict[str, Any]:
    """A lead as ``GET /api/v4/leads?with=is_deleted`` shows it from the trash: most fields null."""
    return {
        "id": lid,
        "name": None,
        "price": None,
        "responsible_user_id": None,
        "status_id": None,
        "pipeline_id": None,
        "created_at": None,
        "updated_at": ts(updated) if updated is not None else None,
        "closed_at": None,
        "is_deleted": True,
        "custom_fields_values": None,
        "_links": self_link("leads", lid, subdomain),
    }


def contact(cid: int, created: When, *, name: str = CUSTOMER_NAME, phone: str = PHONE, leads: list[int] = ()) -> dict:
    """A contact with one phone, linked to ``leads``; never updated after ``created``."""
    return {
        "id": cid,
        "name": name,
        "created_at": ts(created),
        "updated_at": ts(created),
        "custom_fields_values": [phone_value(600, phone)],
        "_embedded": {"leads": [{"id": lid} for lid in leads]},
    }


def event(
    eid: str,
    etype: str,
    entity_id: int,
    at: When,
    *,
    entity: str = "lead",
    before: list | None = None,
    after: list | None = None,
    user: int = 1,
    account: int = 1,
) -> dict[str, Any]:
    return {
        "id": eid,
        "type": etype,
        "entity_id": entity_id,
        "entity_type": entity,
        "created_by": user,
        "created_at": ts(at),
        "value_before": before or [],
        "value_after": after or [],
        "account_id": account,
    }


def status_event(eid: str, lid: int, at: When, before: tuple[int, int], after: tuple[int, int], **kw: Any) -> dict:
    """A ``lead_status_changed`` event from (pipeline, status) ``before`` to ``after``."""
    values = [[{"lead_status": {"id": s, "pipeline_id": p}}] for p, s in (before, after)]
    return event(eid, "lead_status_changed", lid, at, before=values[0], after=values[1], **kw)


def note(
    nid: int,
    entity: int,
    kind: str,
    at: When,
    params: dict,
    *,
    user: int = 1,
    author: int | None = None,
    account: int = 1,
) -> dict:
    """A note; ``author`` (created_by/updated_by) defaults to the responsible ``user``."""
    author = user if author is None else author
    return {
        "id": nid,
        "entity_id": entity,
        "created_by": author,
        "updated_by": author,
        "created_at": ts(at),
        "updated_at": ts(at),
        "responsible_user_id": user,
        "group_id": 0,
        "note_type": kind,
        "params": params,
        "account_id": account,
    }


def call_params(nid: int, duration: Any) -> dict[str, Any]:
    return {
        "uniq": f"u{nid}",
        "duration": duration,
        "source": "telephony",
        "link": "https://x/rec.mp3",
        "phone": PHONE,
        "call_result": "",
        "call_status": 4 if duration else 6,
    }


def task(
    tid: int,
    entity: int,
    created: When,
    till: When,
    *,
    done: bool,
    updated: When | None = None,
    entity_type: str = "leads",
    user: int = 1,
    author: int | None = None,
    text: str = f"Позвонить {CUSTOMER_NAME}",
    account: int = 1,
) -> dict[str, Any]:
    author = user if author is None else author
    return {
        "id": tid,
        "created_by": author,
        "updated_by": author,
        "created_at": ts(created),
        "updated_at": ts(updated if updated is not None else created),
        "responsible_user_id": user,
        "group_id": 0,
        "entity_id": entity,
        "entity_type": entity_type,
        "duration": 0,
        "is_completed": done,
        "task_type_id": 1,
        "text": text,
        "result": [],
        "complete_till": ts(till),
        "account_id": account,
    }


def write(
    raw_dir: Path,
    recs: dict[str, list[dict[str, Any]]] | None = None,
    *,
    account: dict[str, Any] | None = None,
    pulled_at: str = "2026-03-15T00:00:00Z",
) -> Path:
    """Write ``recs`` (default: :func:`records`) as a raw export folder (DATA.md §1); return it."""
    recs = records() if recs is None else recs
    raw_dir.mkdir(parents=True, exist_ok=True)
    for name, rows in recs.items():
        with open(raw_dir / f"{name}.jsonl", "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    account = account or {"id": 1, "name": "Test", "subdomain": "test"}
    (raw_dir / "account.json").write_text(json.dumps(account), encoding="utf-8")
    export = {"source": account["subdomain"], "pulled_at": pulled_at, "collections": {}}
    (raw_dir / "export.json").write_text(json.dumps(export), encoding="utf-8")
    return raw_dir


# --- The hand-written export ----------------------------------------------------------------------

# The statuses of both pipelines as amoCRM names them (the demo account's, which config.yaml maps),
# without won/lost: those are 142/143, added to each pipeline below.
STATUS_NAMES = list(SYNTH_STATUS_NAMES[:9])
# Status ids: CC 1001..1009, office 2001..2009 in the order above; 142/143 in both.
CCS = {name: (CC, 1001 + i) for i, name in enumerate(STATUS_NAMES)}
OF = {name: (OFFICE, 2001 + i) for i, name in enumerate(STATUS_NAMES)}
ODD = (OFFICE, 2010)  # "Странный статус": mapped to nothing in config.yaml
CITY_ENUMS = {5001: "Москва", 5002: "казань ", 5003: "Урюпинск"}


def _pipeline(pid: int, name: str, spell_yo: bool, extra: list[tuple[int, str]]) -> dict[str, Any]:
    named = [("Не пришёл" if spell_yo and n == "Не пришел" else n) for n in STATUS_NAMES]
    statuses = [status(pid * 10 + 1 + i, n, 10 * (i + 1), pid, first=i == 0) for i, n in enumerate(named)]
    statuses += [status(sid, n, 900, pid) for sid, n in extra]
    statuses += [status(WON, "Успешно реализовано", 10000, pid), status(LOST, "Закрыто и не реализовано", 11000, pid)]
    return pipeline(pid, name, statuses, sort=pid, main=pid == CC)


def _fields(city_enum: int | None, package_enum: int | None = None) -> list[dict[str, Any]]:
    city = [select_value(500, "Город", CITY_ENUMS[city_enum], city_enum)] if city_enum is not None else []
    return city + ([select_value(501, "Пакет", "Стандарт", package_enum)] if package_enum is not None else [])


def _lead(lid: int, status_of: tuple[int, int], created: str, *, city: int | None = 5001, package=None, **kw) -> dict:
    return lead(lid, status_of, created, fields=_fields(city, package), **kw)


def _call(nid: int, entity: int, kind: str, at: str, duration: Any = 0) -> dict[str, Any]:
    return note(nid, entity, kind, at, call_params(nid, duration))


def _sms(nid: int, entity: int, kind: str, at: str) -> dict[str, Any]:
    return note(nid, entity, kind, at, {"text": SMS_TEXT, "phone": PHONE})


def records() -> dict[str, list[dict[str, Any]]]:
    ids = (f"ev{n:05d}" for n in count(1))

    def moved(lid: int, at: str, before: tuple[int, int], after: tuple[int, int], user: int = 1) -> dict:
        return {**status_event(next(ids), lid, at, before, after, user=user), "_links": self_link("events", "x")}

    leads = [
        # #1 office, Moscow: the whole funnel.  An older copy of the record comes first (dedupe).
        _lead(1, OF["Новая заявка"], "2026-03-01 07:00", updated="2026-03-01 07:10"),
        _lead(
            1,
            (OFFICE, WON),
            "2026-03-01 07:00",
            updated="2026-03-11 07:00",
            closed="2026-03-11 07:00",
            price="70000",
            package=5101,
            contacts=[(902, True)],
        ),
        # #2 contact centre, created by a robot straight into "booked", never moved.
        _lead(2, CCS["Записан на консультацию"], "2026-03-02 12:00", city=5002, user=2, created_by=0),
        # #3 contact centre → office transfer at the same step, a no-show, re-booking, then lost.
        _lead(3, (OFFICE, LOST), "2026-03-03 09:00", user=3, updated="2026-03-12 09:00", closed="2026-03-12 09:00"),
        # #4 deleted: a normal record, then the trashed one (most fields null), and a lead_deleted event.
        _lead(4, OF["Номер получен"], "2026-03-04 09:00", contacts=[(903, True)]),
        trashed_lead(4),
        # #5 no city, in a status the config does not map; PHP sends an empty object as an empty list.
        _lead(5, ODD, "2026-03-05 09:00", city=None) | {"_embedded": []},
        # #6 and #7 share contact 900 (a returning client); #6 closed lost on 03-05 12:00.
        _lead(
            6,
            (OFFICE, LOST),
            "2026-03-01 10:00",
            updated="2026-03-05 12:00",
            closed="2026-03-05 12:00",
            contacts=[(900, True)],
        ),
        _lead(7, OF["Новая заявка"], "2026-03-10 09:00", contacts=[(900, True)]),
        # #8 and #9 share contact 901 and are both open: a call then goes to the newer, #9.
        _lead(8, OF["Новая заявка"], "2026-03-06 09:00", city=5003, contacts=[(901, True)]),
        _lead(9, OF["Новая заявка"], "2026-03-07 09:00", contacts=[(901, False)]),
    ]
    events = [
        moved(1, "2026-03-01 07:10", OF["Неразобранное"], OF["Новая заявка"]),
        moved(1, "2026-03-01 08:00", OF["Новая заявка"], OF["Номер получен"]),
        moved(1, "2026-03-02 07:00", OF["Номер получен"], OF["Записан на консультацию"]),
        moved(1, "2026-03-04 07:00", OF["Записан на консультацию"], OF["Пришел на консультацию"]),
        moved(1, "2026-03-04 09:00", OF["Пришел на консультацию"], OF["Заключен договор"]),
        moved(1, "2026-03-11 07:00", OF["Заключен договор"], (OFFICE, WON)),
        moved(3, "2026-03-03 09:30", CCS["Новая заявка"], CCS["Номер получен"], user=2),
        moved(3, "2026-03-03 10:00", CCS["Номер получен"], CCS["Записан на консультацию"], user=2),
        moved(3, "2026-03-03 10:05", CCS["Записан на консультацию"], OF["Записан на консультацию"], user=2),
        moved(3, "2026-03-06 09:00", OF["Записан на консультацию"], OF["Не пришел"], user=3),
        moved(3, "2026-03-07 09:00", OF["Не пришел"], OF["Записан на консультацию"], user=3),
        moved(3, "2026-03-12 09:00", OF["Записан на консультацию"], (OFFICE, LOST), user=3),
        moved(6, "2026-03-05 12:00", OF["Новая заявка"], (OFFICE, LOST)),
        event(next(ids), "lead_deleted", 4, "2026-03-05 08:00"),
        moved(998, "2026-03-05 10:00", OF["Новая заявка"], OF["Номер получен"]),  # unknown deal
        event(next(ids), "task_completed", 71, "2026-03-02 10:00", entity="task"),
    ]
    lead_notes = [
        _call(11, 1, "call_out", "2026-03-01 07:20", duration="120"),  # duration as a string (PHP)
        _call(12, 1, "call_out", "2026-03-01 07:25", duration=0),
        _sms(13, 1, "sms_out", "2026-03-01 07:30"),
        _call(14, 4, "call_out", "2026-03-04 10:00", duration=60),  # on the deleted deal
        _call(15, 999, "call_in", "2026-03-05 10:00", duration=30),  # on a deal that does not exist
        note(16, 1, "common", "2026-03-01 07:40", {"text": CUSTOMER_NAME}),  # not a touch
    ]
    contact_notes = [
        _call(21, 900, "call_in", "2026-03-01 09:55", duration=45),  # 5 min before #6: grace → #6
        _call(22, 900, "call_out", "2026-03-05 12:08", duration=0),  # 8 min after #6 closed: grace → #6
        _call(23, 900, "call_out", "2026-03-07 00:00", duration=90),  # between #6 and #7: unattributed
        _sms(24, 900, "sms_out", "2026-03-10 08:55"),  # 5 min before #7 created: grace → #7
        _call(25, 901, "call_out", "2026-03-08 10:00", duration=300),  # #8 and #9 open: newest → #9
        _call(26, 903, "call_out", "2026-03-04 11:00", duration=10),  # only the deleted #4: unattributed
    ]
    tasks = [
        task(71, 1, "2026-03-01 07:05", "2026-03-02 12:00", done=True, updated="2026-03-03 08:00"),
        task(72, 1, "2026-03-02 07:05", "2026-03-02 15:00", done=True, updated="2026-03-02 16:00"),
        task(73, 7, "2026-03-10 09:05", "2026-03-11 15:00", done=False),
        task(74, 997, "2026-03-10 09:05", "2026-03-11 15:00", done=False),  # unknown deal
        task(75, 900, "2026-03-10 09:05", "2026-03-11 15:00", done=False, entity_type="contacts"),
    ]
    staff = [(1, "Анна Смирнова", "anna"), (2, "Борис Ковалёв", "boris"), (3, "Вера Орлова", "vera")]
    users = [
        {"id": uid, "name": name, "email": f"{login}@example.com", "lang": "ru", "rights": {"is_active": True}}
        for uid, name, login in staff
    ]
    enums = [{"id": k, "value": v, "sort": i} for i, (k, v) in enumerate(CITY_ENUMS.items())]
    lead_fields = [
        {"id": 500, "name": "Город", "type": "select", "code": None, "sort": 1, "enums": enums},
        {
            "id": 501,
            "name": "Пакет",
            "type": "select",
            "code": None,
            "sort": 2,
            "enums": [{"id": 5101, "value": "Стандарт", "sort": 1}],
        },
    ]
    contacts = [
        {**contact(c, "2026-03-01 07:00"), "first_name": "Пётр", "last_name": "Иванов"} for c in (900, 901, 903)
    ]
    return {
        "users": users,
        "pipelines": [
            _pipeline(CC, "Контакт-центр", False, []),
            _pipeline(OFFICE, "Офис", True, [(2010, "Странный статус")]),
        ],
        "lead_fields": lead_fields,
        "leads": leads,
        "contacts": contacts,
        "events": events,
        "lead_notes": lead_notes,
        "contact_notes": contact_notes,
        "tasks": tasks,
    }
