"""Fixtures for the emulator / pull / refresh tests: a tiny hand-made account with a moving clock.

``TinyAccount`` is small enough to reason about by hand: deal *i* (0-based) is created at
``start + i * 2 h``; it moves to "Номер получен" 1 h later, then closes 24 h after creation (won
when i % 3 == 0, else lost); every deal with i % 25 == 7 is deleted 30 h after creation.  Each
deal has one contact, one task (completed at closing), one call note on the lead (10 min after
creation) and one SMS note on the contact (20 min after creation).  ``as_of(t)`` shows what
amoCRM would show at ``t``, so advancing the emulator's clock creates new deals, status changes,
calls and tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

HOUR = 3600
PIPELINE = 5001
S_NEW, S_PHONE = 61, 62
WON, LOST = 142, 143


@dataclass
class TinyAccount:
    deals: int = 300
    start: datetime = datetime(2025, 3, 1, tzinfo=UTC)
    horizon_days: int = 30

    @property
    def end(self) -> datetime:
        """The "present" of the export: two thirds of the deals exist by then."""
        return self.start + timedelta(hours=2 * (self.deals * 2 // 3))

    def created(self, i: int) -> int:
        return int(self.start.timestamp()) + i * 2 * HOUR

    def changes(self, i: int) -> list[tuple[int, int]]:
        """(time, status) of every status the deal enters, creation included."""
        c = self.created(i)
        return [(c, S_NEW), (c + HOUR, S_PHONE), (c + 24 * HOUR, WON if i % 3 == 0 else LOST)]

    def deleted_at(self, i: int) -> int | None:
        return self.created(i) + 30 * HOUR if i % 25 == 7 else None

    def as_of(self, t: datetime) -> dict[str, Any]:
        ts = int(t.timestamp())
        view: dict[str, Any] = {
            "account": {
                "id": 777,
                "name": "Tiny",
                "subdomain": "tiny",
                "currency": "RUB",
                "_embedded": {"datetime_settings": {"timezone": "Europe/Moscow"}},
            },
            "users": [{"id": 100 + u, "name": f"User {u}", "rights": {"is_admin": u == 0}} for u in range(3)],
            "pipelines": [
                {
                    "id": PIPELINE,
                    "name": "Офис",
                    "sort": 1,
                    "is_main": True,
                    "is_unsorted_on": False,
                    "is_archive": False,
                    "_embedded": {
                        "statuses": [
                            {"id": s, "name": n, "sort": k, "pipeline_id": PIPELINE, "type": 0}
                            for k, (s, n) in enumerate(
                                [
                                    (S_NEW, "Новая заявка"),
                                    (S_PHONE, "Номер получен"),
                                    (WON, "Успешно реализовано"),
                                    (LOST, "Закрыто и не реализовано"),
                                ]
                            )
                        ]
                    },
                }
            ],
            "lead_fields": [{"id": 9001, "name": "Город", "type": "select", "enums": [{"id": 1, "value": "Москва"}]}],
            "leads": [],
            "deleted_leads": [],
            "contacts": [],
            "events": [],
            "lead_notes": [],
            "contact_notes": [],
            "tasks": [],
        }
        for i in range(self.deals):
            c = self.created(i)
            if c > ts:
                break
            lead_id, contact_id = 20000 + i, 30000 + i
            entered = [(at, s) for at, s in self.changes(i) if at <= ts]
            status_at, status = entered[-1]
            deleted = self.deleted_at(i)
            closed = status in (WON, LOST)
            if deleted is not None and deleted <= ts:
                view["deleted_leads"].append(
                    {
                        "id": lead_id,
                        "name": None,
                        "price": None,
                        "status_id": None,
                        "pipeline_id": None,
                        "updated_at": deleted,
                        "created_at": None,
                        "is_deleted": True,
                    }
                )
            else:
                view["leads"].append(
                    {
                        "id": lead_id,
                        "name": f"Сделка {i}",
                        "price": 1000 * (i % 7),
                        "responsible_user_id": 100 + i % 3,
                        "group_id": 0,
                        "status_id": status,
                        "pipeline_id": PIPELINE,
                        "loss_reason_id": None,
                        "created_by": 0,
                        "updated_by": 0,
                        "created_at": c,
                        "updated_at": status_at,
                        "closed_at": status_at if closed else None,
                        "closest_task_at": None,
                        "is_deleted": False,
                        "custom_fields_values": None
                        if i % 2
                        else [
                            {
                                "field_id": 9001,
                                "field_name": "Город",
                                "field_code": None,
                                "field_type": "select",
                                "values": [{"value": "Москва", "enum_id": 1}],
                            }
                        ],
                        "score": None,
                        "account_id": 777,
                        "labor_cost": None,
                        "_embedded": {
                            "tags": [],
                            "companies": [],
                            "contacts": [{"id": contact_id, "is_main": True}],
                        },
                    }
                )
            view["contacts"].append(
                {
                    "id": contact_id,
                    "name": f"Клиент {i}",
                    "created_at": c,
                    "updated_at": c,
                    "_embedded": {"leads": [{"id": lead_id}]},
                    "custom_fields_values": [
                        {
                            "field_id": 9100,
                            "field_name": "Телефон",
                            "field_code": "PHONE",
                            "field_type": "multitext",
                            "values": [{"value": f"+7900{i:07d}", "enum_code": "MOB"}],
                        }
                    ],
                }
            )
            view["events"].append(_event(f"01ev{i:05d}a", "lead_added", lead_id, c, [], []))
            prev = None
            for k, (at, s) in enumerate(entered[1:], 1):
                view["events"].append(
                    _event(
                        f"01ev{i:05d}s{k}",
                        "lead_status_changed",
                        lead_id,
                        at,
                        [{"lead_status": {"id": prev or S_NEW, "pipeline_id": PIPELINE}}],
                        [{"lead_status": {"id": s, "pipeline_id": PIPELINE}}],
                    )
                )
                prev = s
            if deleted is not None and deleted <= ts:
                view["events"].append(_event(f"01ev{i:05d}d", "lead_deleted", lead_id, deleted, [], []))
            if c + 600 <= ts:
                view["lead_notes"].append(_note(40000 + i, lead_id, c + 600, "call_out", {"duration": 60 + i}))
            if c + 1200 <= ts:
                view["contact_notes"].append(_note(50000 + i, contact_id, c + 1200, "sms_in", {"text": "ok"}))
            done_at = c + 24 * HOUR
            view["tasks"].append(
                {
                    "id": 60000 + i,
                    "created_by": 0,
                    "updated_by": 0,
                    "created_at": c,
                    "updated_at": done_at if done_at <= ts else c,
                    "responsible_user_id": 100 + i % 3,
                    "group_id": 0,
                    "entity_id": lead_id,
                    "entity_type": "leads",
                    "duration": 0,
                    "is_completed": done_at <= ts,
                    "task_type_id": 1,
                    "text": "Позвонить",
                    "result": [],
                    "complete_till": c + 4 * HOUR,
                }
            )
        for name, path in (
            ("users", "users"),
            ("pipelines", "leads/pipelines"),
            ("lead_fields", "leads/custom_fields"),
            ("leads", "leads"),
            ("deleted_leads", "leads"),
            ("contacts", "contacts"),
            ("events", "events"),
            ("lead_notes", "leads/notes"),
            ("contact_notes", "contacts/notes"),
            ("tasks", "tasks"),
        ):
            for rec in view[name]:
                rec["_links"] = {"self": {"href": f"https://tiny.amocrm.ru/api/v4/{path}/{rec['id']}"}}
        return view


def _event(eid: str, etype: str, lead_id: int, at: int, before: list, after: list) -> dict[str, Any]:
    return {
        "id": eid,
        "type": etype,
        "entity_id": lead_id,
        "entity_type": "lead",
        "created_by": 0,
        "created_at": at,
        "value_before": before,
        "value_after": after,
        "account_id": 777,
    }


def _note(nid: int, entity_id: int, at: int, note_type: str, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": nid,
        "entity_id": entity_id,
        "created_by": 0,
        "updated_by": 0,
        "created_at": at,
        "updated_at": at,
        "responsible_user_id": 100,
        "group_id": 0,
        "note_type": note_type,
        "params": params,
        "account_id": 777,
    }


@pytest.fixture
def tiny() -> TinyAccount:
    return TinyAccount()
