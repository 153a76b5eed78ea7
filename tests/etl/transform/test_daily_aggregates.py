"""The daily aggregates (etl/transform/daily.py), worked out by hand on a few rows.

Moscow is UTC+3, so 20:59 UTC is 23:59 of the same local day and 21:00 UTC is already the next
one. Deal 1 is in Москва (office, user 1); deal 2 is deleted; the data were taken on 03-05.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl

from etl.snapshot.schema import AGGREGATES, SCHEMA, validate
from tests.builders.snapshot import complete_tables


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


DEAL = {"city": "Москва", "channel": "office", "deal_user_id": 1, "is_deleted": False}
GONE = {"city": "Казань", "channel": "office", "deal_user_id": 1, "is_deleted": True}
NO_DEAL = {"city": None, "channel": None, "deal_user_id": None, "is_deleted": None}


def tables() -> dict[str, pl.DataFrame]:
    deals = pl.DataFrame(
        [  # the rest of each row from the schema defaults
            {"deal_id": 1, "stage": "phone", "channel": "office", "city": "Москва", "user_id": 1,
             "created_at": utc("2026-03-01 20:30"), "is_deleted": False, "n_entries": 3},
            {"deal_id": 2, "stage": "lead", "channel": "office", "city": "Казань", "user_id": 1,
             "created_at": utc("2026-03-01 10:00"), "is_deleted": True, "n_entries": 1},
        ]
    )  # fmt: skip
    entry = {"pipeline_id": 10, "status_id": 100, "user_id": 1}
    entries = pl.DataFrame(
        [
            {**entry, **DEAL, "deal_id": 1, "seq": 0, "at": utc("2026-03-01 20:30"), "stage": "lead", "is_stage_entry": True},
            {**entry, **DEAL, "deal_id": 1, "seq": 1, "at": utc("2026-03-02 09:00"), "stage": "phone", "from_stage": "lead", "is_stage_entry": True},
            {**entry, **DEAL, "deal_id": 1, "seq": 2, "at": utc("2026-03-02 10:00"), "stage": "phone", "from_stage": "phone", "is_stage_entry": False},
            {**entry, **GONE, "deal_id": 2, "seq": 0, "at": utc("2026-03-01 10:00"), "stage": "lead", "is_stage_entry": True},
        ]
    )  # fmt: skip
    touch = {"source": "lead", "user_id": 1}
    touches = pl.DataFrame(
        [
            {**touch, **DEAL, "touch_id": 1, "deal_id": 1, "kind": "call_out", "at": utc("2026-03-01 20:59"), "duration_s": 30, "answered": True},
            {**touch, **DEAL, "touch_id": 2, "deal_id": 1, "kind": "call_in", "at": utc("2026-03-01 21:00"), "duration_s": 0, "answered": False},
            {**touch, **DEAL, "touch_id": 3, "deal_id": 1, "kind": "sms_out", "at": utc("2026-03-01 21:10")},
            {**touch, **GONE, "touch_id": 4, "deal_id": 2, "kind": "call_out", "at": utc("2026-03-01 12:00"), "duration_s": 40, "answered": True},
            {**touch, **NO_DEAL, "touch_id": 5, "deal_id": None, "kind": "call_out", "at": utc("2026-03-02 10:00"), "duration_s": 50, "answered": True, "user_id": 2},
        ]
    )  # fmt: skip
    task = {"user_id": 1, "task_type_id": 1}
    tasks = pl.DataFrame(
        [
            # done after its deadline: overdue
            {**task, **DEAL, "task_id": 1, "deal_id": 1, "created_at": utc("2026-03-01 21:30"), "deadline": utc("2026-03-03 10:00"), "is_completed": True, "completed_at": utc("2026-03-03 12:00")},
            # open, on time until 03-10
            {**task, **DEAL, "task_id": 2, "deal_id": 1, "created_at": utc("2026-03-02 09:00"), "deadline": utc("2026-03-10 10:00"), "is_completed": False},
            # a contact's task, open past its deadline at 03-05: overdue
            {**task, **NO_DEAL, "task_id": 3, "deal_id": None, "created_at": utc("2026-03-02 08:00"), "deadline": utc("2026-03-04 10:00"), "is_completed": False},
            # on the deleted deal: never counted
            {**task, **GONE, "task_id": 4, "deal_id": 2, "created_at": utc("2026-03-02 08:00"), "deadline": None, "is_completed": False},
        ]
    )  # fmt: skip
    return {"deals": deals, "entries": entries, "touches": touches, "tasks": tasks}


def built() -> dict[str, pl.DataFrame]:
    return complete_tables(tables(), "Europe/Moscow", "2026-03-05T00:00:00Z")


MAR1, MAR2 = date(2026, 3, 1), date(2026, 3, 2)


def test_calls_are_summed_per_local_day_and_caller_without_deleted_deals_or_sms():
    rows = built()["calls_daily"].to_dicts()
    keys = ("day", "city", "channel", "user_id", "on_deal")
    assert [tuple(r[k] for k in keys) for r in rows] == [
        (MAR1, "Москва", "office", 1, True),  # t1 at 23:59 local
        (MAR2, "Москва", "office", 1, True),  # t2 at 00:00 local: the next day
        (MAR2, None, None, 2, False),  # t5, on no deal
    ]
    sums = ("incoming", "outgoing", "answered", "duration_s", "answered_duration_s")
    assert [tuple(r[k] for k in sums) for r in rows] == [(0, 1, 1, 30, 30), (1, 0, 0, 0, 0), (0, 1, 1, 50, 50)]


def test_tasks_count_created_completed_and_overdue_at_the_data_time():
    rows = {(r["day"], r["on_deal"]): r for r in built()["tasks_daily"].to_dicts()}
    assert set(rows) == {(MAR2, True), (MAR2, False)}  # task 1 was created at 00:30 local on 03-02
    assert (rows[MAR2, True]["created"], rows[MAR2, True]["completed"], rows[MAR2, True]["overdue"]) == (2, 1, 1)
    assert (rows[MAR2, False]["created"], rows[MAR2, False]["overdue"], rows[MAR2, False]["city"]) == (1, 1, None)


def test_deals_and_stage_entries_leave_out_deleted_deals_and_moves_within_a_stage():
    out = built()
    assert out["deals_daily"].select("day", "city", "user_id", "deals").rows() == [(MAR1, "Москва", 1, 1)]
    entries = out["entries_daily"].select("day", "stage", "deal_user_id", "created", "stage_entries").rows()
    assert entries == [(MAR1, "lead", 1, 1, 1), (MAR2, "phone", 1, 0, 1)]  # seq 2 stays in phone: not counted


def test_every_aggregate_is_declared_and_validated():
    out = built()
    validate(out)
    assert {name: SCHEMA[name].aggregate_of for name in AGGREGATES} == {
        "calls_daily": "touches",
        "tasks_daily": "tasks",
        "deals_daily": "deals",
        "entries_daily": "entries",
    }
