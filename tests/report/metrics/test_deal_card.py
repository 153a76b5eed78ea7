"""The report's deal card (``/deal/<id>``): what the snapshot knows of one deal, worked by hand
on the March and touches accounts (metric_snapshots.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from report.metrics.deal_card import ACTIVITY_COLUMNS, deal_card


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_the_card_of_a_deal_that_changed_pipeline(march):
    """#1: created 03-01 01:00 Moscow in Офис/Неразобранное, moved to the contact centre while
    booked, now «Заключён договор» there; 100 000 ₽, «Стандарт», Анна Петрова's."""
    card = deal_card(march, 1)
    assert card is not None
    deal = card["deal"].row(0, named=True)
    assert deal == {
        "deal_id": 1,
        "city": "Москва",
        "manager": "Анна Петрова",
        "channel": "contact_center",
        "pipeline": "Контакт-центр",
        "status": "Заключён договор",
        "stage": "contract",
        "created_at": utc("2026-02-28 22:00"),
        "closed_at": None,
        "is_deleted": False,
        "price": 100000.0,
        "package": "Стандарт",
    }
    assert card["entries"].rows() == [
        (utc("2026-02-28 22:00"), "Офис", "Неразобранное", "lead", True),
        (utc("2026-02-28 23:00"), "Офис", "Новая заявка", "lead", False),
        (utc("2026-03-02 07:00"), "Офис", "Номер получен", "phone", True),
        (utc("2026-03-03 07:00"), "Офис", "Записан на консультацию", "booked", True),
        (utc("2026-03-04 07:00"), "Контакт-центр", "Записан на консультацию", "booked", False),
        (utc("2026-03-05 07:00"), "Контакт-центр", "Пришёл на первичку", "attended", True),
        (utc("2026-03-06 07:00"), "Контакт-центр", "Заключён договор", "contract", True),
    ]


def test_a_closed_and_a_deleted_deal(march):
    lost = deal_card(march, 4)["deal"].row(0, named=True)  # lost 03-12 09:00 Moscow
    assert (lost["status"], lost["closed_at"], lost["price"], lost["package"]) == (
        "Закрыто и не реализовано",
        utc("2026-03-12 06:00"),
        0.0,
        None,
    )
    assert deal_card(march, 5)["deal"]["is_deleted"].to_list() == [True]


def test_activity_counts_the_deals_own_and_its_contacts_attributed_touches(touch_account):
    """#21: t1 call_out on its contact (0 s), t2 sms_out, t3 call_in 120 s, t4 call_out on the
    contact 60 s (t5 went to the newer #22); tasks K1 and K2, both done. #25: t10 call_out 40 s,
    t11 sms_in, t14 call_in 80 s; no tasks. #23: no touches, K6 open."""

    def activity(deal_id: int) -> dict:
        return deal_card(touch_account, deal_id)["activity"].row(0, named=True)

    assert list(activity(21)) == list(ACTIVITY_COLUMNS)
    assert activity(21) == {
        "call_in": 1,
        "call_out": 2,
        "sms_in": 0,
        "sms_out": 1,
        "answered_s": 180,
        "tasks": 2,
        "tasks_open": 0,
    }
    assert activity(25) == {
        "call_in": 1,
        "call_out": 1,
        "sms_in": 1,
        "sms_out": 0,
        "answered_s": 120,
        "tasks": 0,
        "tasks_open": 0,
    }
    assert activity(23) == {
        "call_in": 0,
        "call_out": 0,
        "sms_in": 0,
        "sms_out": 0,
        "answered_s": 0,
        "tasks": 1,
        "tasks_open": 1,
    }


def test_an_unknown_deal_has_no_card(march):
    assert deal_card(march, 999999) is None
