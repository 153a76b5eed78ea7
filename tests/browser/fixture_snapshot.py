"""A hand-made snapshot with numbers worked out by hand, for the browser tests and the UI unit tests.

The tables below are written by hand without the facts; tests/builders/snapshot.py adds them,
fills the dtypes from the schema and publishes the snapshot as a build would.

Report time zone Europe/Moscow (UTC+3). Data as of 2026-06-30 12:00 MSK, so "this year" = 2026.

Deals (office pipeline 100 unless said; times MSK):
  #1 Москва, Иванов, created 02.03 10:00, phone, booked, attended, contract, won; price 100 000
  #2 Москва, Иванов, created 05.03 11:00, phone, booked, no-show (current)
  #3 Казань, Петрова, created 10.04 09:00, phone, booked, attended, contract (current); price 150 000
  #4 Казань, Петрова, created 12.04 12:00, no answer (current)
  #5 Новосибирск, Сидоров, created 20.05 10:00, phone, not booked (current)
  #6 Москва, contact centre (pipeline 200), Оператор, created 25.05 15:00, phone, booked (current)
  #7 Москва, Иванов, created 01.06 10:00, still a lead
  #8 Казань, Петрова, created 15.06 10:00, phone, lost (current)
  #9 Москва, deleted, created 10.06 — never counts
  #10 Москва, Иванов, created 20.12.2025 — outside 2026

Cohort funnel 2026 (all): lead 8 (#1–#8), phone 6 (#1 #2 #3 #5 #6 #8), booked 4 (#1 #2 #3 #6),
attended 2 (#1 #3), contract 2 (#1 #3). Москва only: lead 4 (#1 #2 #6 #7), phone 3, booked 3,
attended 1, contract 1. Deals created per month 2026: Mar 2, Apr 2, May 2, Jun 2.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import polars as pl

from etl.config import STAGE_POSITION
from tests.builders.snapshot import snapshot_from_tables

MSK = timezone(timedelta(hours=3))
AS_OF = datetime(2026, 6, 30, 12, 0, tzinfo=MSK)

# pipeline_id, pipeline, status_id, status, stage, channel
STATUSES = [
    (100, "Офис", 1001, "Новая заявка", "lead", "office"),
    (100, "Офис", 1002, "Не отвечает", "no_answer", "office"),
    (100, "Офис", 1003, "Номер получен", "phone", "office"),
    (100, "Офис", 1004, "Не записался на консультацию", "not_booked", "office"),
    (100, "Офис", 1005, "Записан на консультацию", "booked", "office"),
    (100, "Офис", 1006, "Не пришёл", "no_show", "office"),
    (100, "Офис", 1007, "Пришёл на первичку", "attended", "office"),
    (100, "Офис", 1008, "Заключён договор", "contract", "office"),
    (100, "Офис", 142, "Успешно реализовано", "won", "office"),
    (100, "Офис", 143, "Закрыто и не реализовано", "lost", "office"),
    (200, "Контакт-центр", 2001, "Новая заявка", "lead", "contact_center"),
    (200, "Контакт-центр", 2003, "Номер получен", "phone", "contact_center"),
    (200, "Контакт-центр", 2005, "Записан на консультацию", "booked", "contact_center"),
    (200, "Контакт-центр", 142, "Успешно реализовано", "won", "contact_center"),
    (200, "Контакт-центр", 143, "Закрыто и не реализовано", "lost", "contact_center"),
]
STAGE_OF = {(p, s): st for p, _, s, _, st, _ in STATUSES}
CHANNEL_OF = {p: ch for p, _, _, _, _, ch in STATUSES}

USERS = [
    (1, "Иванов Иван", "Москва"),
    (2, "Петрова Анна", "Казань"),
    (3, "Сидоров Пётр", "Новосибирск"),
    (4, "Оператор КЦ", None),
]
CITIES = [("Москва", "Europe/Moscow"), ("Казань", "Europe/Moscow"), ("Новосибирск", "Asia/Novosibirsk")]


def t(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MSK).astimezone(UTC)


H = timedelta(hours=1)
D = timedelta(days=1)

# deal_id: (city, pipeline, user, price, package, deleted, [(status_id, at), ...]) — first = creation
DEALS: dict[int, tuple] = {
    1: (
        "Москва",
        100,
        1,
        100000.0,
        "Стандарт",
        False,
        [
            (1001, t(3, 2, 10)),
            (1003, t(3, 2, 10) + H),
            (1005, t(3, 2, 10) + D),
            (1007, t(3, 2, 10) + 3 * D),
            (1008, t(3, 2, 10) + 5 * D),
            (142, t(3, 2, 10) + 20 * D),
        ],
    ),
    2: (
        "Москва",
        100,
        1,
        0.0,
        None,
        False,
        [(1001, t(3, 5, 11)), (1003, t(3, 5, 11) + 2 * H), (1005, t(3, 5, 11) + 2 * D), (1006, t(3, 5, 11) + 4 * D)],
    ),
    3: (
        "Казань",
        100,
        2,
        150000.0,
        "Премиум",
        False,
        [
            (1001, t(4, 10, 9)),
            (1003, t(4, 10, 9) + 3 * H),
            (1005, t(4, 10, 9) + 1 * D),
            (1007, t(4, 10, 9) + 2 * D),
            (1008, t(4, 10, 9) + 4 * D),
        ],
    ),
    4: ("Казань", 100, 2, 0.0, None, False, [(1001, t(4, 12, 12)), (1002, t(4, 12, 12) + 5 * H)]),
    5: (
        "Новосибирск",
        100,
        3,
        0.0,
        None,
        False,
        [(1001, t(5, 20, 10)), (1003, t(5, 20, 10) + H), (1004, t(5, 20, 10) + 2 * D)],
    ),
    6: (
        "Москва",
        200,
        4,
        0.0,
        None,
        False,
        [(2001, t(5, 25, 15)), (2003, t(5, 25, 15) + H), (2005, t(5, 25, 15) + 3 * H)],
    ),
    7: ("Москва", 100, 1, 0.0, None, False, [(1001, t(6, 1, 10))]),
    8: (
        "Казань",
        100,
        2,
        0.0,
        None,
        False,
        [(1001, t(6, 15, 10)), (1003, t(6, 15, 10) + H), (143, t(6, 15, 10) + 6 * D)],
    ),
    9: ("Москва", 100, 1, 0.0, None, True, [(1001, t(6, 10, 10)), (1003, t(6, 10, 10) + H)]),
    10: ("Москва", 100, 1, 0.0, None, False, [(1001, t(12, 20, 10, year=2025)), (1003, t(12, 20, 12, year=2025))]),
}

# touch_id, deal_id, kind, at, duration_s, user_id
TOUCHES = [
    (501, 1, "call_out", t(3, 2, 10, 30), 300, 1),
    (502, 1, "sms_out", t(3, 3, 9), 0, 1),
    (503, 1, "call_in", t(3, 4, 12), 120, 1),
    (504, 2, "call_out", t(3, 5, 13), 0, 1),
    (505, 2, "call_out", t(3, 5, 14), 60, 1),
    (506, 3, "call_out", t(4, 10, 10), 240, 2),
    (507, 4, "call_out", t(4, 12, 13), 0, 2),
    (508, 4, "call_out", t(4, 13, 13), 0, 2),
    (509, 5, "call_out", t(5, 20, 11), 90, 3),
    (510, 6, "call_out", t(5, 25, 15, 20), 180, 4),
    (511, 8, "call_out", t(6, 15, 11), 45, 2),
    (512, None, "call_in", t(6, 20, 9), 30, 1),
]

# task_id, deal_id, user_id, created_at, deadline, completed_at
TASKS = [
    (701, 1, 1, t(3, 2, 10), t(3, 2, 18), t(3, 2, 15)),
    (702, 2, 1, t(3, 5, 11), t(3, 5, 18), t(3, 6, 10)),
    (703, 3, 2, t(4, 10, 9), t(4, 10, 18), t(4, 10, 12)),
    (704, 4, 2, t(4, 12, 12), t(4, 12, 18), None),
    (705, 5, 3, t(5, 20, 10), t(5, 20, 18), t(5, 20, 16)),
]

FUNNEL = ("lead", "phone", "booked", "attended", "contract")


def build_tables(
    deals_in: dict[int, tuple] = DEALS,
    touches_in: list[tuple] = TOUCHES,
    tasks_in: list[tuple] = TASKS,
    users_in: list[tuple] = USERS,
    cities_in: list[tuple[str, str]] = CITIES,
) -> dict[str, pl.DataFrame]:
    """Snapshot tables per docs/data-model.md, derived from hand-written deals (by default the
    ones above; fixture_cities.py passes its own). A user's time zone is their city's."""
    deal_rows, entry_rows = [], []
    for deal_id, (city, pipe, user, price, package, deleted, path) in deals_in.items():
        created = path[0][1]
        stages = []
        prev_stage = None
        for seq, (status, at) in enumerate(path):
            stage = STAGE_OF[(pipe, status)]
            entry_rows.append(
                {
                    "deal_id": deal_id,
                    "seq": seq,
                    "at": at,
                    "pipeline_id": pipe,
                    "status_id": status,
                    "stage": stage,
                    "position": STAGE_POSITION[stage],
                    "from_stage": prev_stage,
                    "is_stage_entry": stage != prev_stage,
                    "user_id": user,
                    "city": city,
                    "channel": CHANNEL_OF[pipe],
                    "is_deleted": deleted,
                    "deal_user_id": user,
                }
            )
            stages.append((stage, at))
            prev_stage = stage
        reach = {}
        for pos, st in enumerate(FUNNEL, start=1):
            times = [at for s, at in stages if (STAGE_POSITION[s] or 0) >= pos]
            reach[f"reach_{st}"] = min(times) if times else None
        reach["reach_lead"] = created
        last_status, last_at = path[-1]
        closed = last_at if last_status in (142, 143) else None
        deal_rows.append(
            {
                "deal_id": deal_id,
                "pipeline_id": pipe,
                "status_id": last_status,
                "stage": STAGE_OF[(pipe, last_status)],
                "channel": CHANNEL_OF[pipe],
                "city": city,
                "user_id": user,
                "price": price,
                "package": package,
                "contact_id": 9000 + deal_id,
                "created_at": created,
                "closed_at": closed,
                "is_deleted": deleted,
                **reach,
                "first_won_at": next((at for s, at in stages if s == "won"), None),
                "first_lost_at": next((at for s, at in stages if s == "lost"), None),
                "n_entries": len(path),
            }
        )
    deals, entries = pl.DataFrame(deal_rows), pl.DataFrame(entry_rows)
    by_id = {r["deal_id"]: r for r in deal_rows}
    touch_rows = []
    for tid, deal_id, kind, at, dur, user in touches_in:
        d = by_id.get(deal_id)
        touch_rows.append(
            {
                "touch_id": tid,
                "source": "lead" if d else "contact",
                "deal_id": deal_id,
                "contact_id": None if d else 9999,
                "kind": kind,
                "at": at,
                "duration_s": dur,
                "answered": kind.startswith("call") and dur > 0,
                "user_id": user,
                "city": d["city"] if d else None,
                "channel": d["channel"] if d else None,
                "is_deleted": d["is_deleted"] if d else None,
                "deal_user_id": d["user_id"] if d else None,
                "deal_created_at": d["created_at"] if d else None,
            }
        )
    touches = pl.DataFrame(touch_rows, schema_overrides={"deal_id": pl.Int64, "contact_id": pl.Int64})
    task_rows = []
    for tid, deal_id, user, created, deadline, completed in tasks_in:
        d = by_id[deal_id]
        task_rows.append(
            {
                "task_id": tid,
                "deal_id": deal_id,
                "user_id": user,
                "task_type_id": 1,
                "created_at": created,
                "deadline": deadline,
                "is_completed": completed is not None,
                "completed_at": completed,
                "city": d["city"],
                "channel": d["channel"],
                "is_deleted": d["is_deleted"],
                "deal_user_id": d["user_id"],
            }
        )
    tasks = pl.DataFrame(task_rows)
    zones = dict(cities_in)
    users = pl.DataFrame(
        {
            "user_id": [u[0] for u in users_in],
            "name": [u[1] for u in users_in],
            "city": [u[2] for u in users_in],
            "tz": [zones.get(u[2], "Europe/Moscow") for u in users_in],
        }
    )
    statuses = pl.DataFrame(
        {
            "pipeline_id": [s[0] for s in STATUSES],
            "pipeline": [s[1] for s in STATUSES],
            "status_id": [s[2] for s in STATUSES],
            "status": [s[3] for s in STATUSES],
            "sort": list(range(10, 10 * len(STATUSES) + 1, 10)),
            "stage": [s[4] for s in STATUSES],
            "position": [STAGE_POSITION[s[4]] for s in STATUSES],
            "channel": [s[5] for s in STATUSES],
        }
    )
    cities = pl.DataFrame({"city": [c for c, _ in cities_in], "tz": [z for _, z in cities_in]})
    return {
        "deals": deals,
        "entries": entries,
        "touches": touches,
        "tasks": tasks,
        "users": users,
        "statuses": statuses,
        "cities": cities,
    }


def manifest(snapshot_id: str) -> dict:
    """What the report shows of the manifest: data as of 30.06.2026 12:00 MSK, the quality counters."""
    as_of = AS_OF.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return {
        "snapshot_id": snapshot_id,
        "built_at": as_of,
        "data_as_of": as_of,
        "source": {"raw_dir": "hand-made", "subdomain": "fixture", "pulled_at": AS_OF.isoformat()},
        "timezone": "Europe/Moscow",
        "config_sha256": "",
        "quality": {
            "deals_without_city": 0,
            "deals_city_not_in_config": 0,
            "deleted_deals": 1,
            "unmapped_statuses": [],
            "unattributed_touches": 1,
            "events_unknown_deals": 0,
            "notes_unknown_deals": 0,
            "tasks_unknown_deals": 0,
            "duplicate_records_dropped": 0,
        },
    }


def publish_fixture(data_dir: Path, snapshots_dir: str = "snapshots") -> str:
    """Write the fixture as the current snapshot under ``data_dir``; return its id."""
    digest = hashlib.sha256(repr(sorted(DEALS)).encode()).hexdigest()[:8]
    snapshot_id = f"20260630T090000Z-{digest}"
    folder = data_dir / snapshots_dir / snapshot_id
    return snapshot_from_tables(folder, build_tables(), manifest(snapshot_id), publish=True).id
