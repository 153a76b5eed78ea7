"""The emulator's state: records updated while a client pages, the clock advancing."""

from __future__ import annotations

from datetime import timedelta

import requests

from tests.etl.simulated.emulator_cases import get


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
