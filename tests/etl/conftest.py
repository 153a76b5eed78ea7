"""Fixtures for the emulator / pull / refresh tests: a tiny hand-made account with a moving clock.

Its records are made by the raw-export builder (tests/builders/raw_export.py), as every raw
export of the tests is.

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

from tests.builders import raw_export as rx

HOUR = 3600
PIPELINE = 5001
S_NEW, S_PHONE = 61, 62
WON, LOST = rx.WON, rx.LOST
ACCOUNT = {
    "id": 777,
    "name": "Tiny",
    "subdomain": "tiny",
    "currency": "RUB",
    "_embedded": {"datetime_settings": {"timezone": "Europe/Moscow"}},
}
#: collection of the view → its API path (for the records' ``_links``)
COLLECTIONS = {
    "users": "users",
    "pipelines": "leads/pipelines",
    "lead_fields": "leads/custom_fields",
    "leads": "leads",
    "deleted_leads": "leads",
    "contacts": "contacts",
    "events": "events",
    "lead_notes": "leads/notes",
    "contact_notes": "contacts/notes",
    "tasks": "tasks",
}
NOTE = {"user": 100, "author": 0, "account": ACCOUNT["id"]}


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
        statuses = [(S_NEW, "Новая заявка"), (S_PHONE, "Номер получен")]
        statuses += [(WON, "Успешно реализовано"), (LOST, "Закрыто и не реализовано")]
        office = [rx.status(s, n, k, PIPELINE, account=ACCOUNT["id"]) for k, (s, n) in enumerate(statuses)]
        view: dict[str, Any] = {
            "account": ACCOUNT,
            "users": [{"id": 100 + u, "name": f"User {u}", "rights": {"is_admin": u == 0}} for u in range(3)],
            "pipelines": [rx.pipeline(PIPELINE, "Офис", office, sort=1, main=True, unsorted=False)],
            "lead_fields": [{"id": 9001, "name": "Город", "type": "select", "enums": [{"id": 1, "value": "Москва"}]}],
            **{name: [] for name in COLLECTIONS if name not in ("users", "pipelines", "lead_fields")},
        }
        for i in range(self.deals):
            if self.created(i) > ts:
                break
            self._add_deal(view, i, ts)
        for name, path in COLLECTIONS.items():
            for rec in view[name]:
                rec["_links"] = rx.self_link(path, rec["id"], "tiny")
        return view

    def _add_deal(self, view: dict[str, Any], i: int, ts: int) -> None:
        """Deal ``i`` with its contact, events, notes and task, as amoCRM shows them at ``ts``."""
        c = self.created(i)
        lead_id, contact_id = 20000 + i, 30000 + i
        entered = [(at, s) for at, s in self.changes(i) if at <= ts]
        status_at, status = entered[-1]
        deleted = self.deleted_at(i)
        if deleted is not None and deleted <= ts:
            view["deleted_leads"].append(rx.trashed_lead(lead_id, deleted, "tiny"))
        else:
            city = None if i % 2 else [rx.select_value(9001, "Город", "Москва", 1)]
            closed = status_at if status in (WON, LOST) else None
            view["leads"].append(
                rx.lead(
                    lead_id,
                    (PIPELINE, status),
                    c,
                    updated=status_at,
                    closed=closed,
                    user=100 + i % 3,
                    price=1000 * (i % 7),
                    name=f"Сделка {i}",
                    fields=city,
                    contacts=[(contact_id, True)],
                    created_by=0,
                    updated_by=0,
                    account=ACCOUNT["id"],
                    subdomain="tiny",
                    contact_links=False,
                )
            )
        view["contacts"].append(rx.contact(contact_id, c, name=f"Клиент {i}", phone=f"+7900{i:07d}", leads=[lead_id]))
        tiny = {"user": 0, "account": ACCOUNT["id"]}
        view["events"].append(rx.event(f"01ev{i:05d}a", "lead_added", lead_id, c, **tiny))
        prev = S_NEW
        for k, (at, s) in enumerate(entered[1:], 1):
            view["events"].append(
                rx.status_event(f"01ev{i:05d}s{k}", lead_id, at, (PIPELINE, prev), (PIPELINE, s), **tiny)
            )
            prev = s
        if deleted is not None and deleted <= ts:
            view["events"].append(rx.event(f"01ev{i:05d}d", "lead_deleted", lead_id, deleted, **tiny))
        if c + 600 <= ts:
            view["lead_notes"].append(rx.note(40000 + i, lead_id, "call_out", c + 600, {"duration": 60 + i}, **NOTE))
        if c + 1200 <= ts:
            view["contact_notes"].append(rx.note(50000 + i, contact_id, "sms_in", c + 1200, {"text": "ok"}, **NOTE))
        done_at = c + 24 * HOUR
        view["tasks"].append(
            rx.task(
                60000 + i,
                lead_id,
                c,
                c + 4 * HOUR,
                done=done_at <= ts,
                updated=done_at if done_at <= ts else c,
                user=100 + i % 3,
                author=0,
                text="Позвонить",
                account=ACCOUNT["id"],
            )
        )


@pytest.fixture
def tiny() -> TinyAccount:
    return TinyAccount()
