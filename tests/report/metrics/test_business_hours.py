"""Business time worked by hand (report.metrics.business_hours)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import polars as pl

from report.metrics.business_hours import Calendar, Schedule, business_seconds

NSK = "Asia/Novosibirsk"
H = 3600
NO_HOLIDAYS = Calendar()
WEEKDAYS_9_21 = {"nsk": Schedule(frozenset(range(5)), 9 * 60, 21 * 60, NSK)}


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=ZoneInfo(NSK)).astimezone(ZoneInfo("UTC"))


def durations(pairs, schedules=WEEKDAYS_9_21, calendar=NO_HOLIDAYS):
    frame = pl.DataFrame(
        {"start": [a for a, _ in pairs], "end": [b for _, b in pairs], "schedule": ["nsk"] * len(pairs)},
        schema={"start": pl.Datetime("us", "UTC"), "end": pl.Datetime("us", "UTC"), "schedule": pl.String},
    )
    return business_seconds(frame, schedules, calendar).to_list()


def test_friday_evening_to_monday_morning_in_novosibirsk():
    """2026-03-06 is a Friday.  20:00 → Monday 10:00 = 20–21 Friday + 09–10 Monday = 2 h (the issue's
    "1 hour" is 20:00 → Monday 09:00); 22:00 → Saturday 03:00 is all night = 0; end before start: null."""
    got = durations(
        [
            (local(2026, 3, 6, 20), local(2026, 3, 9, 10)),
            (local(2026, 3, 6, 20), local(2026, 3, 9, 9)),
            (local(2026, 3, 6, 22), local(2026, 3, 7, 3)),
            (local(2026, 3, 9, 10), local(2026, 3, 6, 20)),
        ]
    )
    assert got == [2 * H, 1 * H, 0, None]


def test_a_public_holiday_is_not_worked():
    """Friday 2026-05-08 20:00 → Tuesday 05-12 10:00 with 11 May a day off (Victory Day moved from
    Saturday 9 May): Friday 1 h + Tuesday 1 h = 2 h; without the holiday Monday adds 12 h."""
    pair = [(local(2026, 5, 8, 20), local(2026, 5, 12, 10))]
    assert durations(pair, calendar=Calendar(days_off=frozenset({date(2026, 5, 9), date(2026, 5, 11)}))) == [2 * H]
    assert durations(pair) == [14 * H]
