"""Buckets in the report time zone: the period's fast path (offset steps + a per-day table) must
give the same dates as the per-row zone lookup, across DST changes and for rows outside the
period."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from report.metrics.periods import bucket_expr

UTC = ZoneInfo("UTC")


def _frame(*stamps: str | None) -> pl.DataFrame:
    at = [None if s is None else datetime.fromisoformat(s).replace(tzinfo=UTC) for s in stamps]
    return pl.DataFrame({"at": at}, schema={"at": pl.Datetime("us", "UTC")})


# Berlin is UTC+1 in winter, UTC+2 from 2026-03-29 01:00 UTC to 2026-10-25 01:00 UTC.
BERLIN_ROWS = _frame(
    "2026-03-28 22:59:59",  # 23:59:59 CET on 03-28
    "2026-03-28 23:00:00",  # 00:00 CET on 03-29
    "2026-06-30 21:59:59",  # 23:59:59 CEST on 06-30
    "2026-06-30 22:00:00",  # 00:00 CEST on 07-01
    "2026-10-25 22:30:00",  # 23:30 CET on 10-25 (after the change back)
    "2026-10-25 23:00:00",  # 00:00 CET on 10-26
    "2025-12-31 23:00:00",  # outside the period: 00:00 CET on 2026-01-01
    None,
)


def test_days_and_months_across_dst_in_berlin():
    """Worked by hand from the offsets above; the period is 2026-03-01..2026-10-31."""
    days = (date(2026, 3, 1), date(2026, 10, 31))
    got = BERLIN_ROWS.select(bucket_expr("at", "day", "Europe/Berlin", days))["bucket"].to_list()
    assert got == [
        date(2026, 3, 28),
        date(2026, 3, 29),
        date(2026, 6, 30),
        date(2026, 7, 1),
        date(2026, 10, 25),
        date(2026, 10, 26),
        date(2026, 1, 1),
        None,
    ]
    got = BERLIN_ROWS.select(bucket_expr("at", "month", "Europe/Berlin", days))["bucket"].to_list()
    assert got == [date(2026, 3, 1)] * 2 + [date(2026, 6, 1), date(2026, 7, 1)] + [date(2026, 10, 1)] * 2 + [
        date(2026, 1, 1),
        None,
    ]


@pytest.mark.parametrize("tz", ["Europe/Moscow", "America/Santiago", "Australia/Lord_Howe", "Pacific/Apia"])
@pytest.mark.parametrize("grain", ["day", "week", "month", "quarter", "year"])
def test_period_fast_path_equals_per_row_lookup(tz: str, grain: str):
    """Every 17 minutes from two days before to two days after the period (DST changes of half an
    hour in Lord Howe, Santiago's change at midnight, the day Samoa skipped in 2011)."""
    days = (date(2011, 3, 1), date(2012, 4, 30))
    lo = datetime(2011, 2, 27, tzinfo=UTC)
    hi = datetime(2012, 5, 3, tzinfo=UTC) + timedelta(days=2)
    rows = pl.datetime_range(lo, hi, "17m", time_unit="us", time_zone="UTC", eager=True).alias("at").to_frame()
    fast = rows.select(bucket_expr("at", grain, tz, days))["bucket"]
    slow = rows.select(pl.col("at").dt.convert_time_zone(tz).dt.date().alias("d"))["d"]
    slow = (
        slow if grain == "day" else slow.dt.truncate({"week": "1w", "month": "1mo", "quarter": "1q"}.get(grain, "1y"))
    )
    assert fast.dtype == pl.Date
    assert fast.to_list() == slow.to_list()
