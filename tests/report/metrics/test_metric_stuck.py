"""deals.stuck and deals.open_age worked by hand, and the deals behind their numbers.

The "stuck" account (Moscow wall-clock times; the snapshot's data go to 2026-04-01 00:00 UTC).
For March 2026 the reference instant is the end of 31 March in Moscow = 03-31 21:00 UTC, which
is before the data's end. Default thresholds: lead 1, phone 3, booked 7, … not_booked 14 days.

  #31 created 03-01 10:00 (unsorted) → new 03-30 10:00: the same stage (lead), not a new entry, so
      in lead since 03-01 07:00 UTC = 30 d 14 h = 30.583 d → stuck
  #32 created 03-20 → phone 03-28 12:00 (09:00 UTC) = 3.5 d → stuck
  #33 created 03-20 → phone 03-29 12:00 = 2.5 d → not stuck
  #41 created 03-28 10:00 → phone 03-29 00:00 (03-28 21:00 UTC) = exactly 3 d → not stuck (3 ≯ 3)
  #34 created 03-01 → booked 03-02 → no_show 03-05 → booked again 03-30 12:00 = 1.5 d → not stuck
      (its first booking a month ago does not count: it re-entered the stage)
  #35 created 03-01 → won 03-05: closed, never counted
  #36 Новосибирск, contact centre, created 02-01 → phone 02-02 → not_booked 02-10 12:00 (09:00 UTC)
      = 28 d to 03-10 + 21.5 d = 49.5 d → stuck (threshold 14)
  #37 created 04-01 01:00 (03-31 22:00 UTC): after the reference instant, not counted
  #38 DELETED, phone since 03-01: never counts
  #39 in the unmapped status (stage other) since 03-01 10:00 = 30.583 d: no threshold, no row in
      deals.stuck; counted by deals.open_age
  #40 created 03-25 → phone 03-28 12:00 → lost 03-31 12:00: closed before the reference instant
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from metric_snapshots import D

from report.metrics.drill import deal_list
from report.metrics.filters import Filters
from report.metrics.stuck import open_age, stuck

MARCH = Filters(date(2026, 3, 1), date(2026, 3, 31))
STUCK = [
    D(31, "2026-03-01 10:00", [("2026-03-30 10:00", "new")]),
    D(32, "2026-03-20 10:00", [("2026-03-28 12:00", "phone")]),
    D(33, "2026-03-20 10:00", [("2026-03-29 12:00", "phone")]),
    D(41, "2026-03-28 10:00", [("2026-03-29 00:00", "phone")]),
    D(
        34,
        "2026-03-01 10:00",
        [("2026-03-02 10:00", "booked"), ("2026-03-05 10:00", "no_show"), ("2026-03-30 12:00", "booked")],
    ),
    D(35, "2026-03-01 10:00", [("2026-03-05 10:00", "won")]),
    D(
        36,
        "2026-02-01 10:00",
        [("2026-02-02 10:00", "phone"), ("2026-02-10 12:00", "not_booked")],
        city="Новосибирск",
        pipe="cc",
        user=2,
    ),
    D(37, "2026-04-01 01:00"),
    D(38, "2026-03-01 10:00", [("2026-03-01 11:00", "phone")], deleted=True),
    D(39, "2026-03-01 10:00", status="weird"),
    D(40, "2026-03-25 10:00", [("2026-03-28 12:00", "phone"), ("2026-03-31 12:00", "lost")]),
]


@pytest.fixture
def account(make_snapshot):
    return make_snapshot(STUCK)


def rows(df: pl.DataFrame, *cols: str) -> list[tuple]:
    return [tuple(r) for r in df.select(cols).iter_rows()]


def test_stuck_per_stage_by_hand(account):
    got = stuck(account, MARCH)
    assert rows(got, "stage", "threshold_days", "open", "stuck") == [
        ("lead", 1.0, 1, 1),
        ("phone", 3.0, 3, 1),
        ("booked", 7.0, 1, 0),
        ("attended", 7.0, 0, 0),
        ("contract", 30.0, 0, 0),
        ("not_booked", 14.0, 1, 1),
        ("no_answer", 7.0, 0, 0),
        ("no_show", 7.0, 0, 0),
    ]
    assert got["share_stuck"].to_list() == pytest.approx([1.0, 1 / 3, 0.0, None, None, 1.0, None, None])
    oldest = got["oldest_days"].to_list()
    assert oldest[:3] == pytest.approx([30 + 14 / 24, 3.5, 1.5]) and oldest[5] == pytest.approx(49.5)
    assert oldest[3] is None


def test_stuck_by_city_and_channel(account):
    by_city = stuck(account, MARCH, ("city",)).filter(pl.col("stuck") > 0)
    assert rows(by_city, "city", "stage", "stuck") == [
        ("Москва", "lead", 1),
        ("Москва", "phone", 1),
        ("Новосибирск", "not_booked", 1),
    ]
    by_channel = stuck(account, MARCH, ("channel",)).filter(pl.col("open") > 0)
    assert rows(by_channel, "channel", "stage", "open", "stuck") == [
        ("contact_center", "not_booked", 1, 1),
        ("office", "lead", 1, 1),
        ("office", "phone", 3, 1),
        ("office", "booked", 1, 0),
    ]


def test_an_earlier_as_of_date_counts_the_deals_of_that_moment(account):
    """As of 03-30 (ends 03-30 21:00 UTC): #32 has 2.5 days in phone (not stuck yet), #40 is still
    open in phone (2.5 d), #33 1.5 d, #41 2 d; #31 29.583 d in lead and #36 48.5 d stay stuck."""
    got = stuck(account, MARCH.with_(as_of=date(2026, 3, 30))).filter(pl.col("open") > 0)
    assert rows(got, "stage", "open", "stuck") == [
        ("lead", 1, 1),
        ("phone", 4, 0),
        ("booked", 1, 0),
        ("not_booked", 1, 1),
    ]
    assert got["oldest_days"].to_list() == pytest.approx([29 + 14 / 24, 2.5, 0.5, 48.5])


def test_thresholds_come_from_the_snapshot_settings(make_snapshot):
    """With phone: 2 only, #33 (2.5 d) and #41 (3 d) are stuck too, and no other stage has a row."""
    snap = make_snapshot(STUCK, settings={"stuck_after_days": {"phone": 2}})
    assert rows(stuck(snap, MARCH), "stage", "open", "stuck") == [("phone", 3, 3)]


def test_the_stuck_deals_are_listed_oldest_first(account):
    assert deal_list(account, MARCH, "deals.stuck", stage="phone")["deal_id"].to_list() == [32]
    listed = deal_list(account, MARCH, "deals.stuck", column="open", stage="phone")
    assert listed["deal_id"].to_list() == [32, 41, 33]  # entered phone 03-28 09:00, 21:00, 03-29 09:00 UTC
    lead = deal_list(account, MARCH, "deals.stuck", stage="lead", group={"city": "Москва"})
    assert lead["deal_id"].to_list() == [31]


def test_open_age_buckets_by_hand(account):
    """lead #31 30.6 d; phone #33 2.5 d, #41 exactly 3 d (the bucket holds its lower bound), #32
    3.5 d; booked #34 1.5 d; not_booked #36 49.5 d; other #39 30.6 d."""
    got = open_age(account, MARCH).filter(pl.col("open") > 0)
    assert rows(got, "stage", "open", "d0_1", "d1_3", "d3_7", "d7_14", "d14_30", "d30_90", "d90_plus") == [
        ("lead", 1, 0, 0, 0, 0, 0, 1, 0),
        ("phone", 3, 0, 1, 2, 0, 0, 0, 0),
        ("booked", 1, 0, 1, 0, 0, 0, 0, 0),
        ("not_booked", 1, 0, 0, 0, 0, 0, 1, 0),
        ("other", 1, 0, 0, 0, 0, 0, 1, 0),
    ]
    assert open_age(account, MARCH).height == 9  # every open stage, zeros included
    by_channel = open_age(account, MARCH, ("channel",)).filter(pl.col("open") > 0)
    assert rows(by_channel, "channel", "stage", "d30_90") == [
        ("contact_center", "not_booked", 1),
        ("office", "lead", 1),
        ("office", "phone", 0),
        ("office", "booked", 0),
        ("office", "other", 1),
    ]
    bucket = deal_list(account, MARCH, "deals.open_age", column="d3_7", stage="phone")
    assert bucket["deal_id"].to_list() == [32, 41]
