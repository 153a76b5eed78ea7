"""A 33-city account for the browser tests of long city lists (the hand-made fixture has 3).

Built like fixture_snapshot.py (same statuses, same table builder, tests/builders/snapshot.py
publishes it), data as of 30.06.2026 12:00 MSK. City number i (0…32, Moscow time) has
``1 + i % 4`` office deals, all created in 2026, owned by its own manager «Менеджер i+1»:

- deal 0: lead → phone → booked → attended (no-show in odd-numbered cities);
- deal 1: lead → phone → booked → attended → contract;
- deal 2: lead → no answer;  deal 3: still a lead.

So every city has a booking that came due (all 33 have a show rate), and deals per city are
1, 2, 3, 4, 1, 2, … (33 cities: 9 with one deal… 8 with four). The contact centre's operator
«Оператор (КЦ)» owns two deals of its own pipeline (Москва) and calls three office deals of
Москва: the office tab leaves those calls out until «Показать КЦ». The status chart groups the
contact centre apart: 34 groups.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fixture_snapshot import STATUSES, build_tables, manifest, t

from tests.builders.snapshot import snapshot_from_tables

CITY_NAMES = (
    "Москва",
    "Санкт-Петербург",
    "Новосибирск",
    "Екатеринбург",
    "Казань",
    "Нижний Новгород",
    "Челябинск",
    "Самара",
    "Омск",
    "Ростов-на-Дону",
    "Уфа",
    "Красноярск",
    "Воронеж",
    "Пермь",
    "Волгоград",
    "Краснодар",
    "Саратов",
    "Тюмень",
    "Тольятти",
    "Ижевск",
    "Барнаул",
    "Ульяновск",
    "Иркутск",
    "Хабаровск",
    "Ярославль",
    "Владивосток",
    "Махачкала",
    "Томск",
    "Оренбург",
    "Кемерово",
    "Новокузнецк",
    "Рязань",
    "Астрахань",
)
assert len(CITY_NAMES) == 33
CITIES = [(c, "Europe/Moscow") for c in CITY_NAMES]
OPERATOR = 99
H = timedelta(hours=1)
D = timedelta(days=1)
_ = STATUSES  # the statuses (and their pipelines 100 office, 200 contact centre) are the fixture's


def _path(i: int, j: int) -> list[tuple[int, object]]:
    at = t(1 + i % 5, 1 + 3 * j, 10)
    if j == 0:
        return [(1001, at), (1003, at + H), (1005, at + D), (1006 if i % 2 else 1007, at + 3 * D)]
    if j == 1:
        return [(1001, at), (1003, at + H), (1005, at + D), (1007, at + 3 * D), (1008, at + 5 * D)]
    if j == 2:
        return [(1001, at), (1002, at + H)]
    return [(1001, at)]


def deals() -> dict[int, tuple]:
    out: dict[int, tuple] = {}
    for i, city in enumerate(CITY_NAMES):
        for j in range(1 + i % 4):
            out[1000 + 10 * i + j] = (city, 100, 100 + i, 0.0, None, False, _path(i, j))
    out[1] = ("Москва", 200, OPERATOR, 0.0, None, False, [(2001, t(2, 1, 10)), (2003, t(2, 1, 11))])
    out[2] = ("Москва", 200, OPERATOR, 0.0, None, False, [(2001, t(3, 1, 10))])
    return out


USERS = [(100 + i, f"Менеджер {i + 1}", city) for i, city in enumerate(CITY_NAMES)] + [
    (OPERATOR, "Оператор (КЦ)", None)
]
# Москва's office deals are 1000 (city 0 has one deal); the operator calls it three times,
# its own manager once.
TOUCHES = [
    (1, 1000, "call_out", t(1, 1, 12), 60, OPERATOR),
    (2, 1000, "call_out", t(1, 2, 12), 0, OPERATOR),
    (3, 1000, "call_out", t(1, 3, 12), 30, OPERATOR),
    (4, 1000, "call_out", t(1, 1, 13), 90, 100),
]

TASKS = [(1, 1000, 100, t(1, 1, 10), t(1, 1, 18), t(1, 1, 15))]


def publish_cities(data_dir: Path) -> str:
    """Write the 33-city account as the current snapshot under ``data_dir``; return its id."""
    snapshot_id = "20260630T090000Z-33c17135"
    tables = build_tables(deals(), TOUCHES, TASKS, USERS, CITIES)
    folder = data_dir / "snapshots" / snapshot_id
    return snapshot_from_tables(folder, tables, manifest(snapshot_id), publish=True).id
