"""A tiny snapshot builder for hand-worked metric tests.

Tests describe deals, touches, tasks and users compactly (times as Moscow wall-clock strings) and
get a real snapshot folder written with ``etl.snapshot.store.write_tables`` exactly per
docs/data-model.md.  Entries, first_reach and contact-call attribution are computed here in the
simplest obvious way from METRICS.md "Common rules", independently of etl/transform/build.py.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from etl.config import FUNNEL_STAGES, STAGE_POSITION, working_hours_settings
from etl.config_schema import WorkingHours
from etl.snapshot.store import Snapshot
from tests.builders.snapshot import snapshot_from_tables

MSK = ZoneInfo("Europe/Moscow")
UTC = ZoneInfo("UTC")
TS = pl.Datetime("us", "UTC")
GRACE = timedelta(minutes=10)

CITY_TZ = {
    "Москва": "Europe/Moscow",
    "Новосибирск": "Asia/Novosibirsk",
    "Екатеринбург": "Asia/Yekaterinburg",
    "Калининград": "Europe/Kaliningrad",
}
PIPELINES = {"office": (10, "Офис"), "cc": (20, "Контакт-центр")}
#: status key → (number within pipeline, name, stage)
STATUS_KEYS = {
    "unsorted": (1, "Неразобранное", "lead"),
    "new": (2, "Новая заявка", "lead"),
    "no_answer": (3, "Не отвечает", "no_answer"),
    "phone": (4, "Номер получен", "phone"),
    "not_booked": (5, "Не записался на консультацию", "not_booked"),
    "booked": (6, "Записан на консультацию", "booked"),
    "no_show": (7, "Не пришёл", "no_show"),
    "attended": (8, "Пришёл на первичку", "attended"),
    "contract": (9, "Заключён договор", "contract"),
    "weird": (50, "Странный статус", "other"),
    "won": (142, "Успешно реализовано", "won"),
    "lost": (143, "Закрыто и не реализовано", "lost"),
}


def t(text: str) -> datetime:
    """'2026-03-01 01:00' as Moscow wall-clock time → aware UTC datetime ('…Z' = already UTC)."""
    if text.endswith("Z"):
        return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
    return datetime.fromisoformat(text).replace(tzinfo=MSK).astimezone(UTC)


def status_id(key: str, pipe: str) -> int:
    n = STATUS_KEYS[key][0]
    return n if n in (142, 143) else PIPELINES[pipe][0] * 100 + n


@dataclass
class D:
    """A deal: created (Moscow time) into ``status``; ``moves`` = [(time, status key[, pipe])]."""

    id: int
    created: str
    moves: list[tuple] = field(default_factory=list)
    status: str = "unsorted"
    city: str | None = "Москва"
    pipe: str = "office"
    user: int = 1
    price: float = 0.0
    package: str | None = None
    deleted: bool = False
    contact: int | None = None


@dataclass
class T:
    """A call or SMS. ``deal`` = a lead note; ``contact`` = a contact note (attributed here)."""

    id: int
    at: str
    kind: str = "call_out"
    deal: int | None = None
    contact: int | None = None
    duration: int = 0
    user: int | None = 1


@dataclass
class K:
    """A task."""

    id: int
    created: str
    user: int = 1
    deadline: str | None = None
    completed_at: str | None = None
    deal: int | None = None


@dataclass
class U:
    id: int
    name: str
    city: str | None = None  # as if configured in config.yaml users:


def _entries_of(d: D) -> list[dict]:
    rows = []
    pipe = d.pipe
    key = d.status
    rows.append((t(d.created), key, pipe))
    for mv in d.moves:
        pipe = mv[2] if len(mv) > 2 else pipe
        rows.append((t(mv[0]), mv[1], pipe))
    out = []
    prev_stage = None
    for seq, (at, key, pipe) in enumerate(rows):
        stage = STATUS_KEYS[key][2]
        out.append(
            {
                "deal_id": d.id,
                "seq": seq,
                "at": at,
                "pipeline_id": PIPELINES[pipe][0],
                "status_id": status_id(key, pipe),
                "stage": stage,
                "position": STAGE_POSITION[stage],
                "from_stage": prev_stage,
                "is_stage_entry": prev_stage is None or stage != prev_stage,
                "user_id": 0,
            }
        )
        prev_stage = stage
    return out


def build_tables(
    deals: list[D], touches: list[T] = (), tasks: list[K] = (), users: list[U] = (), tz: str = "Europe/Moscow"
) -> dict[str, pl.DataFrame]:
    deal_rows, entry_rows = [], []
    for d in deals:
        ents = _entries_of(d)
        last = ents[-1]
        created = ents[0]["at"]
        reach = {"reach_lead": created}
        for s in FUNNEL_STAGES[1:]:
            times = [e["at"] for e in ents if e["position"] is not None and e["position"] >= STAGE_POSITION[s]]
            reach[f"reach_{s}"] = max(min(times), created) if times else None
        won = [e["at"] for e in ents if e["stage"] == "won"]
        lost = [e["at"] for e in ents if e["stage"] == "lost"]
        closed = last["at"] if last["stage"] in ("won", "lost") else None
        channel = "contact_center" if last["pipeline_id"] == PIPELINES["cc"][0] else "office"
        deal_rows.append(
            {
                "deal_id": d.id,
                "pipeline_id": last["pipeline_id"],
                "status_id": last["status_id"],
                "stage": last["stage"],
                "channel": channel,
                "city": d.city,
                "user_id": d.user,
                "price": float(d.price),
                "package": d.package,
                "contact_id": d.contact,
                "created_at": created,
                "closed_at": closed,
                "is_deleted": d.deleted,
                **reach,
                "first_won_at": min(won) if won else None,
                "first_lost_at": min(lost) if lost else None,
                "n_entries": len(ents),
            }
        )
        for e in ents:
            e.update(city=d.city, channel=channel, is_deleted=d.deleted, deal_user_id=d.user)
        entry_rows.extend(ents)
    by_id = {r["deal_id"]: r for r in deal_rows}

    touch_rows = []
    for x in touches:
        at = t(x.at)
        if x.deal is not None:
            deal_id, source = x.deal, "lead"
        else:
            source = "contact"
            fits = [
                r
                for r in deal_rows
                if r["contact_id"] == x.contact
                and not r["is_deleted"]
                and r["created_at"] - GRACE <= at
                and (r["closed_at"] is None or at <= r["closed_at"] + GRACE)
            ]
            deal_id = max(fits, key=lambda r: r["created_at"])["deal_id"] if fits else None
        deal = by_id.get(deal_id)
        touch_rows.append(
            {
                "touch_id": x.id,
                "source": source,
                "deal_id": deal_id,
                "contact_id": x.contact,
                "kind": x.kind,
                "at": at,
                "duration_s": x.duration if x.kind.startswith("call") else 0,
                "answered": x.kind.startswith("call") and x.duration > 0,
                "user_id": x.user,
                "city": deal["city"] if deal else None,
                "channel": deal["channel"] if deal else None,
                "is_deleted": deal["is_deleted"] if deal else None,
                "deal_user_id": deal["user_id"] if deal else None,
                "deal_created_at": deal["created_at"] if deal else None,
            }
        )

    task_rows = []
    for k in tasks:
        deal = by_id.get(k.deal) if k.deal is not None else None
        task_rows.append(
            {
                "task_id": k.id,
                "deal_id": k.deal,
                "user_id": k.user,
                "task_type_id": 1,
                "created_at": t(k.created),
                "deadline": t(k.deadline) if k.deadline else None,
                "is_completed": k.completed_at is not None,
                "completed_at": t(k.completed_at) if k.completed_at else None,
                "city": deal["city"] if deal else None,
                "channel": deal["channel"] if deal else None,
                "is_deleted": deal["is_deleted"] if deal else None,
                "deal_user_id": deal["user_id"] if deal else None,
            }
        )

    user_ids = {u.id for u in users} | {r["user_id"] for r in deal_rows}
    names = {u.id: u for u in users}
    user_rows = []
    for uid in sorted(user_ids):
        u = names.get(uid, U(uid, f"Менеджер {uid}"))
        cities = Counter(r["city"] for r in deal_rows if r["user_id"] == uid and r["city"])
        city = u.city or (cities.most_common(1)[0][0] if cities else None)
        user_rows.append({"user_id": uid, "name": u.name, "city": city, "tz": CITY_TZ.get(city, tz), "is_active": True})

    status_rows = []
    for pipe, (pid, pname) in PIPELINES.items():
        for key, (_, name, stage) in STATUS_KEYS.items():
            status_rows.append(
                {
                    "pipeline_id": pid,
                    "pipeline": pname,
                    "status_id": status_id(key, pipe),
                    "status": name,
                    "sort": STATUS_KEYS[key][0],
                    "stage": stage,
                    "position": STAGE_POSITION[stage],
                    "channel": "contact_center" if pipe == "cc" else "office",
                    "mapped": stage != "other",
                }
            )
    cities = [{"city": c, "tz": z, "in_config": True} for c, z in CITY_TZ.items()]

    reach_cols = {f"reach_{s}": TS for s in FUNNEL_STAGES}
    schemas = {
        "deals": {
            "deal_id": pl.Int64,
            "pipeline_id": pl.Int64,
            "status_id": pl.Int64,
            "stage": pl.String,
            "channel": pl.String,
            "city": pl.String,
            "user_id": pl.Int64,
            "price": pl.Float64,
            "package": pl.String,
            "contact_id": pl.Int64,
            "created_at": TS,
            "closed_at": TS,
            "is_deleted": pl.Boolean,
            **reach_cols,
            "first_won_at": TS,
            "first_lost_at": TS,
            "n_entries": pl.Int32,
        },
        "entries": {
            "deal_id": pl.Int64,
            "seq": pl.Int32,
            "at": TS,
            "pipeline_id": pl.Int64,
            "status_id": pl.Int64,
            "stage": pl.String,
            "position": pl.Int8,
            "from_stage": pl.String,
            "is_stage_entry": pl.Boolean,
            "user_id": pl.Int64,
            "city": pl.String,
            "channel": pl.String,
            "is_deleted": pl.Boolean,
            "deal_user_id": pl.Int64,
        },
        "touches": {
            "touch_id": pl.Int64,
            "source": pl.String,
            "deal_id": pl.Int64,
            "contact_id": pl.Int64,
            "kind": pl.String,
            "at": TS,
            "duration_s": pl.Int64,
            "answered": pl.Boolean,
            "user_id": pl.Int64,
            "city": pl.String,
            "channel": pl.String,
            "is_deleted": pl.Boolean,
            "deal_user_id": pl.Int64,
            "deal_created_at": TS,
        },
        "tasks": {
            "task_id": pl.Int64,
            "deal_id": pl.Int64,
            "user_id": pl.Int64,
            "task_type_id": pl.Int64,
            "created_at": TS,
            "deadline": TS,
            "is_completed": pl.Boolean,
            "completed_at": TS,
            "city": pl.String,
            "channel": pl.String,
            "is_deleted": pl.Boolean,
            "deal_user_id": pl.Int64,
        },
        "users": {"user_id": pl.Int64, "name": pl.String, "city": pl.String, "tz": pl.String, "is_active": pl.Boolean},
        "statuses": {
            "pipeline_id": pl.Int64,
            "pipeline": pl.String,
            "status_id": pl.Int64,
            "status": pl.String,
            "sort": pl.Int64,
            "stage": pl.String,
            "position": pl.Int8,
            "channel": pl.String,
            "mapped": pl.Boolean,
        },
        "cities": {"city": pl.String, "tz": pl.String, "in_config": pl.Boolean},
    }
    rows = {
        "deals": deal_rows,
        "entries": entry_rows,
        "touches": touch_rows,
        "tasks": task_rows,
        "users": user_rows,
        "statuses": status_rows,
        "cities": cities,
    }
    sort_by = {"deals": "created_at", "entries": "at", "touches": "at", "tasks": "created_at"}
    tables = {}
    for name, schema in schemas.items():
        df = pl.DataFrame(rows[name], schema=schema, orient="row") if rows[name] else pl.DataFrame(schema=schema)
        if name in sort_by:
            df = df.sort(sort_by[name], maintain_order=True)
        tables[name] = df
    return tables


def write_snapshot(
    folder: Path,
    deals: list[D],
    touches: list[T] = (),
    tasks: list[K] = (),
    users: list[U] = (),
    *,
    snapshot_id: str = "20260401T000000Z-00000001",
    data_as_of: str = "2026-04-01T00:00:00Z",
    quality: dict | None = None,
    settings: dict | None = None,
) -> Snapshot:
    """The tables as the build writes them: the one snapshot builder (tests.builders.snapshot)
    adds the facts, fills schema defaults and validates."""
    tables = build_tables(list(deals), list(touches), list(tasks), list(users))
    manifest = {"data_as_of": data_as_of, "quality": quality or {}}
    if settings is not None:  # the manifest's ``settings`` (Config.metric_settings())
        manifest["settings"] = settings
    return snapshot_from_tables(folder / snapshot_id, tables, manifest)


@pytest.fixture
def make_snapshot(tmp_path):
    """make_snapshot(deals, touches=(), tasks=(), users=(), **manifest) -> Snapshot in tmp_path."""
    counter = iter(range(1, 10_000))

    def make(deals, touches=(), tasks=(), users=(), **kw):
        kw.setdefault("snapshot_id", f"20260401T000000Z-{next(counter):08x}")
        return write_snapshot(tmp_path, deals, touches, tasks, users, **kw)

    return make


# --- The "March" funnel account, used by the funnel and time tests --------------------------------
# Period under test: March 2026 in Moscow time.  Deal by deal (Moscow times):
#  #1  created 03-01 01:00 (= 02-28 22:00 UTC: still March in Moscow) unsorted → new (same stage)
#      → phone 03-02 10:00 → booked 03-03 10:00 → booked in the contact-centre pipeline 03-04 10:00
#      (same stage, not a new entry) → attended 03-05 10:00 → contract 03-06 10:00.  Now: contact centre.
#  #2  created 03-02 09:00 → booked 03-03 11:00 (skips phone: implied) → no_show 03-04 12:00
#      → booked again 03-10 12:00 (re-entry) → lost 03-20 12:00
#  #3  created 03-05 09:00 straight into booked → attended 03-06 12:00 → won 03-08 12:00 (implies contract)
#  #4  created 03-10 09:00 → no_answer 03-11 09:00 → lost 03-12 09:00
#  #5  created 03-15 09:00 → phone 03-16, DELETED: never counts
#  #6  created 02-28 23:30 (February) → phone 03-02 12:00
#  #7  created 03-31 23:30 in the contact centre, Новосибирск → phone 04-01 00:30 (after the period)
#  #8  created 04-01 00:30 (= 03-31 21:30 UTC: April in Moscow)
#  #9  created 03-20 09:00 → phone 03-21 09:00 → not_booked 03-22 09:00
#  #10 created 03-25 10:00, Екатеринбург → attended 03-26 10:00 (skips phone, booked) → lost 03-28 10:00
# Users: #1 #3 #10 → user 1; #2 #4 #6 #9 → user 2; #7 #8 → user 3.
MARCH = [
    D(
        1,
        "2026-03-01 01:00",
        [
            ("2026-03-01 02:00", "new"),
            ("2026-03-02 10:00", "phone"),
            ("2026-03-03 10:00", "booked"),
            ("2026-03-04 10:00", "booked", "cc"),
            ("2026-03-05 10:00", "attended"),
            ("2026-03-06 10:00", "contract"),
        ],
        price=100000,
        package="Стандарт",
        user=1,
    ),
    D(
        2,
        "2026-03-02 09:00",
        [
            ("2026-03-03 11:00", "booked"),
            ("2026-03-04 12:00", "no_show"),
            ("2026-03-10 12:00", "booked"),
            ("2026-03-20 12:00", "lost"),
        ],
        user=2,
    ),
    D(
        3,
        "2026-03-05 09:00",
        [("2026-03-06 12:00", "attended"), ("2026-03-08 12:00", "won")],
        status="booked",
        price=150000,
        package="Премиум",
        user=1,
    ),
    D(4, "2026-03-10 09:00", [("2026-03-11 09:00", "no_answer"), ("2026-03-12 09:00", "lost")], user=2),
    D(5, "2026-03-15 09:00", [("2026-03-16 09:00", "phone")], deleted=True, user=2),
    D(6, "2026-02-28 23:30", [("2026-03-02 12:00", "phone")], user=2),
    D(7, "2026-03-31 23:30", [("2026-04-01 00:30", "phone")], pipe="cc", city="Новосибирск", user=3),
    D(8, "2026-04-01 00:30", user=3),
    D(9, "2026-03-20 09:00", [("2026-03-21 09:00", "phone"), ("2026-03-22 09:00", "not_booked")], user=2),
    D(10, "2026-03-25 10:00", [("2026-03-26 10:00", "attended"), ("2026-03-28 10:00", "lost")], city="Екатеринбург"),
]
MARCH_USERS = [U(1, "Анна Петрова"), U(2, "Борис Иванов"), U(3, "Вера Смирнова")]


@pytest.fixture
def march(make_snapshot):
    """The March account as the build writes it."""
    return make_snapshot(MARCH, users=MARCH_USERS)


# --- The touches account ------------------------------------------------------------------------
# Deals (all office; Moscow unless said):
#  #21 user 1, contact 500, created 03-02 10:00 → phone 12:00 → booked 03-03 10:00 → no_show 03-05 10:00
#      → lost 03-10 10:00 (closed then)
#  #22 user 1, contact 500 (the same client asks again), created 03-10 10:05 → contract 03-20 10:00
#  #23 user 2, contact 600, Новосибирск, created 03-04 10:00 → no_answer 03-05 10:00; never touched
#  #24 user 2, contact 700, created 03-06 10:00, DELETED
#  #25 user 2, created 03-07 10:00 → not_booked 03-08 08:00
#  #26 user 1, created 03-15 10:00 → lost 03-16 10:00
# Touches (Moscow times):
#  t1  03-02 09:55 call_out on contact 500, 0 s   → #21 (within the 10-minute grace before creation)
#  t2  03-02 10:30 sms_out on #21
#  t3  03-02 11:00 call_in on #21, 120 s
#  t4  03-05 12:00 call_out on contact 500, 60 s  → #21 (open)
#  t5  03-10 10:06 call_out on contact 500, 30 s  → fits #21 (closed 10:00 + grace) and #22: the newer, #22
#  t6  03-10 10:20 call_in on contact 500, 45 s   → #22 only (#21's grace ended 10:10)
#  t7  03-01 09:00 call_out on contact 999, 10 s, user 3 → no deal: unattributed
#  t8  03-06 11:00 call_out on deleted #24, 100 s → never counts
#  t9  03-06 11:00 call_out on contact 700, 50 s, user 2 → #24 is deleted, not a candidate: unattributed
#  t10 03-08 09:00 call_out on #25, 40 s, user 2
#  t11 03-09 09:00 sms_in on #25, user 2
#  t12 03-15 12:00 call_out on #26, 0 s
#  t13 03-16 12:00 call_out on #26, 0 s (after its loss)
#  t14 03-08 10:00 call_in on #25, 80 s, user 2
TOUCH_DEALS = [
    D(
        21,
        "2026-03-02 10:00",
        [
            ("2026-03-02 12:00", "phone"),
            ("2026-03-03 10:00", "booked"),
            ("2026-03-05 10:00", "no_show"),
            ("2026-03-10 10:00", "lost"),
        ],
        user=1,
        contact=500,
    ),
    D(22, "2026-03-10 10:05", [("2026-03-20 10:00", "contract")], user=1, contact=500),
    D(23, "2026-03-04 10:00", [("2026-03-05 10:00", "no_answer")], user=2, contact=600, city="Новосибирск"),
    D(24, "2026-03-06 10:00", user=2, contact=700, deleted=True),
    D(25, "2026-03-07 10:00", [("2026-03-08 08:00", "not_booked")], user=2),
    D(26, "2026-03-15 10:00", [("2026-03-16 10:00", "lost")], user=1),
]
TOUCHES = [
    T(1, "2026-03-02 09:55", "call_out", contact=500),
    T(2, "2026-03-02 10:30", "sms_out", deal=21),
    T(3, "2026-03-02 11:00", "call_in", deal=21, duration=120),
    T(4, "2026-03-05 12:00", "call_out", contact=500, duration=60),
    T(5, "2026-03-10 10:06", "call_out", contact=500, duration=30),
    T(6, "2026-03-10 10:20", "call_in", contact=500, duration=45),
    T(7, "2026-03-01 09:00", "call_out", contact=999, duration=10, user=3),
    T(8, "2026-03-06 11:00", "call_out", deal=24, duration=100, user=2),
    T(9, "2026-03-06 11:00", "call_out", contact=700, duration=50, user=2),
    T(10, "2026-03-08 09:00", "call_out", deal=25, duration=40, user=2),
    T(11, "2026-03-09 09:00", "sms_in", deal=25, user=2),
    T(12, "2026-03-15 12:00", "call_out", deal=26),
    T(13, "2026-03-16 12:00", "call_out", deal=26),
    T(14, "2026-03-08 10:00", "call_in", deal=25, duration=80, user=2),
]
# Tasks (Moscow times); user 3 lives in Новосибирск (configured), 4 hours ahead of Moscow.
#  K1 u1 created 03-02 09:00, deadline 03-03 18:00, done 03-03 10:00          on #21
#  K2 u1 created 03-02 09:00, deadline 03-03 18:00, done 03-04 10:00 (late)   on #21
#  K3 u1 created 03-20 09:00, deadline 03-25 18:00, open at 04-01 (overdue)
#  K4 u1 created 03-20 09:00, deadline 04-05 18:00, open (not yet due)
#  K5 u2 created 02-27 09:00 (before the period)
#  K6 u2 created 03-10 09:00, no deadline, open                               on #23
#  K7 u1 created 03-04 08:00, no deadline, done 03-04 11:30
#  K8 u1 created 03-04 08:00, deadline 03-04 12:00, done 03-04 12:30 (late)
#  K9..K11 u3 created 03-10 10:00, done 03-10 19:00, 21:00, 22:00 Moscow = 23:00 on the 10th, 01:00 and
#      02:00 on the 11th in Новосибирск
TASKS = [
    K(1, "2026-03-02 09:00", 1, "2026-03-03 18:00", "2026-03-03 10:00", deal=21),
    K(2, "2026-03-02 09:00", 1, "2026-03-03 18:00", "2026-03-04 10:00", deal=21),
    K(3, "2026-03-20 09:00", 1, "2026-03-25 18:00"),
    K(4, "2026-03-20 09:00", 1, "2026-04-05 18:00"),
    K(5, "2026-02-27 09:00", 2),
    K(6, "2026-03-10 09:00", 2, deal=23),
    K(7, "2026-03-04 08:00", 1, None, "2026-03-04 11:30"),
    K(8, "2026-03-04 08:00", 1, "2026-03-04 12:00", "2026-03-04 12:30"),
    K(9, "2026-03-10 10:00", 3, None, "2026-03-10 19:00"),
    K(10, "2026-03-10 10:00", 3, None, "2026-03-10 21:00"),
    K(11, "2026-03-10 10:00", 3, None, "2026-03-10 22:00"),
]
TOUCH_USERS = [U(1, "Анна Петрова"), U(2, "Борис Иванов"), U(3, "Вера Смирнова", city="Новосибирск")]


@pytest.fixture
def touch_account(make_snapshot):
    """The touches account as the build writes it."""
    return make_snapshot(TOUCH_DEALS, TOUCHES, TASKS, TOUCH_USERS)


# --- The business-hours account: worked by hand in test_metric_business_hours.py -----------------
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
#: The manifest settings a build writes for config.yaml's default working hours (RU calendar),
#: with Калининград working every day 10:00–12:00.
BUSINESS_SETTINGS = {
    "working_hours": working_hours_settings(
        WorkingHours.model_validate({"cities": {"Калининград": {"days": EVERY_DAY, "start": "10:00", "end": "12:00"}}})
    )
}
BUSINESS_DEALS = [
    D(61, "2026-03-13 16:00", [("2026-03-16 06:00", "contract")], city="Новосибирск"),
    D(62, "2026-04-30 20:00", [("2026-05-04 10:00", "contract")], city="Москва"),
    D(63, "2026-03-14 21:00", [("2026-03-15 09:00", "contract")], city="Екатеринбург", pipe="cc"),
    D(64, "2026-03-14 12:30", [("2026-03-15 12:00", "contract")], city="Калининград"),
]
# #61: the first outgoing call Friday 21:30 local (after hours) and a call back Monday 09:30 local
BUSINESS_TOUCHES = [T(1, "2026-03-13 17:30", deal=61), T(2, "2026-03-16 05:30", deal=61, kind="call_in", duration=30)]


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """A one-year demo account of 2000 deals (the synthetic generator), built as `etl build` does:
    deleted deals, unattributed calls, tasks on contacts and both pipeline classes included."""
    from etl.config import load_config
    from etl.simulated.synth import generate_account, write_raw_export
    from etl.transform.build import build_snapshot

    tmp = tmp_path_factory.mktemp("demo")
    end = datetime(2026, 11, 1, tzinfo=ZoneInfo("UTC"))
    account = generate_account(seed=11, deals_per_year=2000, years=1.0, end=end)
    write_raw_export(tmp / "raw", account.as_of(end), pulled_at=end)
    return Snapshot.open(build_snapshot(tmp / "raw", load_config(), tmp / "data"))
