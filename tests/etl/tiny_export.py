"""A tiny raw export written by hand, in amoCRM API v4's own JSON shapes.

Every expected value in tests/etl/test_build.py was worked out from the records below.
Times are UTC unless a comment says otherwise.  Personal data (names, phones, an SMS text) is put
in on purpose, to prove the snapshot never carries it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

CC, OFFICE = 100, 200
CUSTOMER_NAME = "Иванов Пётр Сергеевич"
PHONE = "+79161234567"
SMS_TEXT = "Напоминаем: консультация завтра в 12:00"
LEAD_NAME = "Отсрочка — Иванов П."


def ts(text: str) -> int:
    """'2026-03-01 10:00' (UTC) → Unix seconds."""
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp())


STATUS_NAMES = [
    "Неразобранное",
    "Новая заявка",
    "Не отвечает",
    "Номер получен",
    "Не записался на консультацию",
    "Записан на консультацию",
    "Не пришел",
    "Пришел на консультацию",
    "Заключен договор",
]
# Status ids: CC 1001..1009, office 2001..2009 in the order above; 142/143 in both.
CCS = {name: (CC, 1001 + i) for i, name in enumerate(STATUS_NAMES)}
OF = {name: (OFFICE, 2001 + i) for i, name in enumerate(STATUS_NAMES)}
WON, LOST = 142, 143
ODD = (OFFICE, 2010)  # "Странный статус": mapped to nothing in config.yaml


def _pipeline(pid: int, name: str, spell_yo: bool, extra: list[tuple[int, str]]) -> dict[str, Any]:
    statuses = []
    for i, sname in enumerate(STATUS_NAMES):
        shown = "Не пришёл" if (spell_yo and sname == "Не пришел") else sname
        statuses.append(
            {
                "id": pid * 10 + 1 + i,
                "name": shown,
                "sort": 10 * (i + 1),
                "is_editable": True,
                "pipeline_id": pid,
                "color": "#fffeb2",
                "type": 1 if i == 0 else 0,
                "account_id": 1,
            }
        )
    for sid, sname in extra:
        statuses.append(
            {
                "id": sid,
                "name": sname,
                "sort": 900,
                "is_editable": True,
                "pipeline_id": pid,
                "color": "#ccc",
                "type": 0,
                "account_id": 1,
            }
        )
    statuses.append(
        {
            "id": WON,
            "name": "Успешно реализовано",
            "sort": 10000,
            "is_editable": False,
            "pipeline_id": pid,
            "color": "#CCFF66",
            "type": 0,
            "account_id": 1,
        }
    )
    statuses.append(
        {
            "id": LOST,
            "name": "Закрыто и не реализовано",
            "sort": 11000,
            "is_editable": False,
            "pipeline_id": pid,
            "color": "#D5D8DB",
            "type": 0,
            "account_id": 1,
        }
    )
    return {
        "id": pid,
        "name": name,
        "sort": pid,
        "is_main": pid == CC,
        "is_unsorted_on": True,
        "is_archive": False,
        "account_id": 1,
        "_embedded": {"statuses": statuses},
    }


def _cf(city_enum: int | None, package_enum: int | None = None) -> list[dict[str, Any]] | None:
    values = []
    if city_enum is not None:
        values.append(
            {
                "field_id": 500,
                "field_name": "Город",
                "field_code": None,
                "field_type": "select",
                "values": [{"value": CITY_ENUMS[city_enum], "enum_id": city_enum}],
            }
        )
    if package_enum is not None:
        values.append(
            {
                "field_id": 501,
                "field_name": "Пакет",
                "field_code": None,
                "field_type": "select",
                "values": [{"value": "Стандарт", "enum_id": package_enum}],
            }
        )
    return values or None


CITY_ENUMS = {5001: "Москва", 5002: "казань ", 5003: "Урюпинск"}


def lead(
    lid: int,
    status: tuple[int, int],
    created: str,
    *,
    city: int | None = 5001,
    user: int = 1,
    updated: str | None = None,
    closed: str | None = None,
    price: Any = 0,
    package: int | None = None,
    contacts: list[tuple[int, bool]] = (),
    created_by: int = 1,
) -> dict[str, Any]:
    return {
        "id": lid,
        "name": LEAD_NAME,
        "price": price,
        "responsible_user_id": user,
        "group_id": 0,
        "status_id": status[1],
        "pipeline_id": status[0],
        "loss_reason_id": None,
        "created_by": created_by,
        "updated_by": 1,
        "created_at": ts(created),
        "updated_at": ts(updated or created),
        "closed_at": ts(closed) if closed else None,
        "closest_task_at": None,
        "is_deleted": False,
        "custom_fields_values": _cf(city, package),
        "score": None,
        "account_id": 1,
        "labor_cost": None,
        "_links": {"self": {"href": f"https://test.amocrm.ru/api/v4/leads/{lid}"}},
        "_embedded": {
            "tags": [],
            "companies": [],
            "contacts": [
                {"id": c, "is_main": m, "_links": {"self": {"href": f"https://test.amocrm.ru/api/v4/contacts/{c}"}}}
                for c, m in contacts
            ],
        },
    }


_event_seq = iter(range(1, 10_000))


def status_event(lid: int, at: str, before: tuple[int, int], after: tuple[int, int], user: int = 1) -> dict[str, Any]:
    return {
        "id": f"ev{next(_event_seq):05d}",
        "type": "lead_status_changed",
        "entity_id": lid,
        "entity_type": "lead",
        "created_by": user,
        "created_at": ts(at),
        "value_before": [{"lead_status": {"id": before[1], "pipeline_id": before[0]}}],
        "value_after": [{"lead_status": {"id": after[1], "pipeline_id": after[0]}}],
        "account_id": 1,
        "_links": {"self": {"href": "https://test.amocrm.ru/api/v4/events/x"}},
    }


def plain_event(etype: str, entity: str, eid: int, at: str) -> dict[str, Any]:
    return {
        "id": f"ev{next(_event_seq):05d}",
        "type": etype,
        "entity_id": eid,
        "entity_type": entity,
        "created_by": 1,
        "created_at": ts(at),
        "value_before": [],
        "value_after": [],
        "account_id": 1,
    }


def note(nid: int, entity: int, kind: str, at: str, duration: Any = 0, user: int = 1) -> dict[str, Any]:
    if kind.startswith("call"):
        params = {
            "uniq": f"u{nid}",
            "duration": duration,
            "source": "telephony",
            "link": "https://x/rec.mp3",
            "phone": PHONE,
            "call_result": "",
            "call_status": 4 if duration else 6,
        }
    else:
        params = {"text": SMS_TEXT, "phone": PHONE}
    return {
        "id": nid,
        "entity_id": entity,
        "created_by": user,
        "updated_by": user,
        "created_at": ts(at),
        "updated_at": ts(at),
        "responsible_user_id": user,
        "group_id": 0,
        "note_type": kind,
        "params": params,
        "account_id": 1,
    }


def task(
    tid: int,
    entity: int,
    created: str,
    till: str,
    *,
    done: bool,
    updated: str | None = None,
    entity_type: str = "leads",
    user: int = 1,
) -> dict[str, Any]:
    return {
        "id": tid,
        "created_by": user,
        "updated_by": user,
        "created_at": ts(created),
        "updated_at": ts(updated or created),
        "responsible_user_id": user,
        "group_id": 0,
        "entity_id": entity,
        "entity_type": entity_type,
        "duration": 0,
        "is_completed": done,
        "task_type_id": 1,
        "text": f"Позвонить {CUSTOMER_NAME}",
        "result": [],
        "complete_till": ts(till),
        "account_id": 1,
    }


def records() -> dict[str, list[dict[str, Any]]]:
    leads = [
        # #1 office, Moscow: the whole funnel.  An older copy of the record comes first (dedupe).
        lead(1, OF["Новая заявка"], "2026-03-01 07:00", updated="2026-03-01 07:10"),
        lead(
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
        lead(2, CCS["Записан на консультацию"], "2026-03-02 12:00", city=5002, user=2, created_by=0),
        # #3 contact centre → office transfer at the same step, a no-show, re-booking, then lost.
        lead(3, (OFFICE, LOST), "2026-03-03 09:00", user=3, updated="2026-03-12 09:00", closed="2026-03-12 09:00"),
        # #4 deleted: a normal record, then the trashed one (most fields null), and a lead_deleted event.
        lead(4, OF["Номер получен"], "2026-03-04 09:00", contacts=[(903, True)]),
        {
            "id": 4,
            "name": None,
            "price": None,
            "responsible_user_id": None,
            "status_id": None,
            "pipeline_id": None,
            "created_at": None,
            "updated_at": None,
            "closed_at": None,
            "is_deleted": True,
            "custom_fields_values": None,
            "_links": {"self": {"href": "https://test.amocrm.ru/api/v4/leads/4"}},
        },
        # #5 no city, in a status the config does not map.
        lead(5, ODD, "2026-03-05 09:00", city=None),
        # #6 and #7 share contact 900 (a returning client); #6 closed lost on 03-05 12:00.
        lead(
            6,
            (OFFICE, LOST),
            "2026-03-01 10:00",
            updated="2026-03-05 12:00",
            closed="2026-03-05 12:00",
            contacts=[(900, True)],
        ),
        lead(7, OF["Новая заявка"], "2026-03-10 09:00", contacts=[(900, True)]),
        # #8 and #9 share contact 901 and are both open: a call then goes to the newer, #9.
        lead(8, OF["Новая заявка"], "2026-03-06 09:00", city=5003, contacts=[(901, True)]),
        lead(9, OF["Новая заявка"], "2026-03-07 09:00", contacts=[(901, False)]),
    ]
    leads[6]["_embedded"] = []  # #5: PHP sends an empty object as an empty list
    events = [
        status_event(1, "2026-03-01 07:10", OF["Неразобранное"], OF["Новая заявка"]),
        status_event(1, "2026-03-01 08:00", OF["Новая заявка"], OF["Номер получен"]),
        status_event(1, "2026-03-02 07:00", OF["Номер получен"], OF["Записан на консультацию"]),
        status_event(1, "2026-03-04 07:00", OF["Записан на консультацию"], OF["Пришел на консультацию"]),
        status_event(1, "2026-03-04 09:00", OF["Пришел на консультацию"], OF["Заключен договор"]),
        status_event(1, "2026-03-11 07:00", OF["Заключен договор"], (OFFICE, WON)),
        status_event(3, "2026-03-03 09:30", CCS["Новая заявка"], CCS["Номер получен"], user=2),
        status_event(3, "2026-03-03 10:00", CCS["Номер получен"], CCS["Записан на консультацию"], user=2),
        status_event(3, "2026-03-03 10:05", CCS["Записан на консультацию"], OF["Записан на консультацию"], user=2),
        status_event(3, "2026-03-06 09:00", OF["Записан на консультацию"], OF["Не пришел"], user=3),
        status_event(3, "2026-03-07 09:00", OF["Не пришел"], OF["Записан на консультацию"], user=3),
        status_event(3, "2026-03-12 09:00", OF["Записан на консультацию"], (OFFICE, LOST), user=3),
        status_event(6, "2026-03-05 12:00", OF["Новая заявка"], (OFFICE, LOST)),
        plain_event("lead_deleted", "lead", 4, "2026-03-05 08:00"),
        status_event(998, "2026-03-05 10:00", OF["Новая заявка"], OF["Номер получен"]),  # unknown deal
        plain_event("task_completed", "task", 71, "2026-03-02 10:00"),
    ]
    lead_notes = [
        note(11, 1, "call_out", "2026-03-01 07:20", duration="120"),  # duration as a string (PHP)
        note(12, 1, "call_out", "2026-03-01 07:25", duration=0),
        note(13, 1, "sms_out", "2026-03-01 07:30"),
        note(14, 4, "call_out", "2026-03-04 10:00", duration=60),  # on the deleted deal
        note(15, 999, "call_in", "2026-03-05 10:00", duration=30),  # on a deal that does not exist
        {**note(16, 1, "common", "2026-03-01 07:40"), "params": {"text": CUSTOMER_NAME}},  # not a touch
    ]
    contact_notes = [
        note(21, 900, "call_in", "2026-03-01 09:55", duration=45),  # 5 min before #6: grace → #6
        note(22, 900, "call_out", "2026-03-05 12:08", duration=0),  # 8 min after #6 closed: grace → #6
        note(23, 900, "call_out", "2026-03-07 00:00", duration=90),  # between #6 and #7: unattributed
        note(24, 900, "sms_out", "2026-03-10 08:55"),  # 5 min before #7 created: grace → #7
        note(25, 901, "call_out", "2026-03-08 10:00", duration=300),  # #8 and #9 open: newest → #9
        note(26, 903, "call_out", "2026-03-04 11:00", duration=10),  # only the deleted #4: unattributed
    ]
    tasks = [
        task(71, 1, "2026-03-01 07:05", "2026-03-02 12:00", done=True, updated="2026-03-03 08:00"),
        task(72, 1, "2026-03-02 07:05", "2026-03-02 15:00", done=True, updated="2026-03-02 16:00"),
        task(73, 7, "2026-03-10 09:05", "2026-03-11 15:00", done=False),
        task(74, 997, "2026-03-10 09:05", "2026-03-11 15:00", done=False),  # unknown deal
        task(75, 900, "2026-03-10 09:05", "2026-03-11 15:00", done=False, entity_type="contacts"),
    ]
    users = [
        {"id": 1, "name": "Анна Смирнова", "email": "anna@example.com", "lang": "ru", "rights": {"is_active": True}},
        {"id": 2, "name": "Борис Ковалёв", "email": "boris@example.com", "lang": "ru", "rights": {"is_active": True}},
        {"id": 3, "name": "Вера Орлова", "email": "vera@example.com", "lang": "ru", "rights": {"is_active": True}},
    ]
    pipelines = [
        _pipeline(CC, "Контакт-центр", spell_yo=False, extra=[]),
        _pipeline(OFFICE, "Офис", spell_yo=True, extra=[(2010, "Странный статус")]),
    ]
    lead_fields = [
        {
            "id": 500,
            "name": "Город",
            "type": "select",
            "code": None,
            "sort": 1,
            "enums": [{"id": k, "value": v, "sort": i} for i, (k, v) in enumerate(CITY_ENUMS.items())],
        },
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
        {
            "id": c,
            "name": CUSTOMER_NAME,
            "first_name": "Пётр",
            "last_name": "Иванов",
            "updated_at": ts("2026-03-01 07:00"),
            "custom_fields_values": [
                {
                    "field_id": 600,
                    "field_name": "Телефон",
                    "field_code": "PHONE",
                    "field_type": "multitext",
                    "values": [{"value": PHONE, "enum_code": "MOB"}],
                }
            ],
            "_embedded": {"leads": []},
        }
        for c in (900, 901, 903)
    ]
    return {
        "users": users,
        "pipelines": pipelines,
        "lead_fields": lead_fields,
        "leads": leads,
        "contacts": contacts,
        "events": events,
        "lead_notes": lead_notes,
        "contact_notes": contact_notes,
        "tasks": tasks,
    }


def write(raw_dir: Path, recs: dict[str, list[dict[str, Any]]] | None = None) -> Path:
    recs = records() if recs is None else recs
    raw_dir.mkdir(parents=True, exist_ok=True)
    for name, rows in recs.items():
        with open(raw_dir / f"{name}.jsonl", "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    (raw_dir / "account.json").write_text(json.dumps({"id": 1, "name": "Test", "subdomain": "test"}), encoding="utf-8")
    (raw_dir / "export.json").write_text(
        json.dumps({"source": "test", "pulled_at": "2026-03-15T00:00:00Z", "collections": {}}), encoding="utf-8"
    )
    return raw_dir
