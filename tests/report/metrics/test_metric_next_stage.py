"""touches.to_next_stage on a hand-made account.

Deals (Moscow times):
  #41 Anna's, created 03-02 10:00 → phone 03-03 10:00 → booked 03-05 10:00 → attended 03-20 10:00
  #42 Boris's, created 03-10 10:00 → attended 03-12 10:00 (skips phone and booked), nothing after
  #43 created 02-20 → phone 02-21; #44 deleted
Touches:
  t1 03-02 09:55 call_out on #41 (before its creation) → phone 03-03 10:00: 86 700 s (lead is not a next stage)
  t2 03-03 10:00 sms_out on #41, the very instant of phone → booked 03-05 10:00: 172 800 s
  t3 03-06 10:00 call_out on #41 by Boris (not the owner) → attended 03-20 10:00: 1 209 600 s (> 7 days)
  t4 03-03 12:00 call_in on #41: not outgoing
  t5 03-10 11:00 call_out on #42 by Boris → 03-12 10:00 (phone, booked, attended at once): 169 200 s
  t6 03-13 10:00 sms_out on #42 by Boris: no new stage after it (counts only in the share)
  t7 02-25 on #43 (before March), t8 on deleted #44, t9 unattributed: never count
"""

from __future__ import annotations

from datetime import date

import pytest
from metric_snapshots import D, T, U

from report.metrics.filters import Filters
from report.metrics.next_stage import to_next_stage

MARCH_F = Filters(date(2026, 3, 1), date(2026, 3, 31))
DEALS = [
    D(41, "2026-03-02 10:00", [("2026-03-03 10:00", "phone"), ("2026-03-05 10:00", "booked"),
                               ("2026-03-20 10:00", "attended")], user=1),
    D(42, "2026-03-10 10:00", [("2026-03-12 10:00", "attended")], user=2),
    D(43, "2026-02-20 10:00", [("2026-02-21 10:00", "phone")], user=2),
    D(44, "2026-03-01 10:00", user=2, deleted=True),
]  # fmt: skip
TOUCHES = [
    T(1, "2026-03-02 09:55", "call_out", deal=41),
    T(2, "2026-03-03 10:00", "sms_out", deal=41),
    T(3, "2026-03-06 10:00", "call_out", deal=41, duration=60, user=2),
    T(4, "2026-03-03 12:00", "call_in", deal=41, duration=60),
    T(5, "2026-03-10 11:00", "call_out", deal=42, user=2),
    T(6, "2026-03-13 10:00", "sms_out", deal=42, user=2),
    T(7, "2026-02-25 10:00", "call_out", deal=43, user=2),
    T(8, "2026-03-02 10:00", "call_out", deal=44, user=2),
    T(9, "2026-03-02 10:00", "call_out", contact=999, user=2),
]
USERS = [U(1, "Анна Петрова"), U(2, "Борис Иванов")]


@pytest.fixture
def snap(make_snapshot):
    return make_snapshot(DEALS, TOUCHES, users=USERS)


def test_time_to_the_next_new_stage(snap):
    """Sorted 86 700, 169 200, 172 800, 1 209 600: mean 409 575, median 171 000, p90 at rank 2.7 =
    172 800 + 0.7 × 1 036 800; within 7 days: 3 of the 5 outgoing touches."""
    assert to_next_stage(snap, MARCH_F).to_dicts() == [
        {"n": 4, "mean_s": 409575.0, "median_s": 171000.0, "p90_s": pytest.approx(898560.0), "share_within_7d": 0.6}
    ]


def test_the_manager_is_the_toucher(snap):
    """Anna: t1, t2 (both within 7 days).  Boris: t3 on Anna's deal, t5, t6: two with a next stage,
    one of three within 7 days."""
    rows = {r["manager"]: r for r in to_next_stage(snap, MARCH_F, ("manager",)).to_dicts()}
    assert (rows["Анна Петрова"]["n"], rows["Анна Петрова"]["share_within_7d"]) == (2, 1.0)
    assert (rows["Борис Иванов"]["n"], rows["Борис Иванов"]["share_within_7d"]) == (2, pytest.approx(1 / 3))
    assert rows["Борис Иванов"]["mean_s"] == (1209600 + 169200) / 2
    only_boris = to_next_stage(snap, MARCH_F.with_(managers=(2,)))
    assert only_boris["n"].to_list() == [2]


def test_no_outgoing_touch_gives_an_empty_share(snap):
    """April has no touch: n 0, every statistic and the share empty."""
    assert to_next_stage(snap, Filters(date(2026, 4, 1), date(2026, 4, 30))).to_dicts() == [
        {"n": 0, "mean_s": None, "median_s": None, "p90_s": None, "share_within_7d": None}
    ]


def test_bucket_is_the_touchs_bucket(snap):
    """Weeks (Mondays): t1, t2 in the week of 03-02; t3 in it too (Friday 03-06); t5, t6 in the week
    of 03-09."""
    weeks = to_next_stage(snap, MARCH_F.with_(grain="week"), ("bucket",))
    assert [(str(r["bucket"]), r["n"], r["share_within_7d"]) for r in weeks.to_dicts()] == [
        ("2026-03-02", 3, pytest.approx(2 / 3)),
        ("2026-03-09", 1, 0.5),
    ]
