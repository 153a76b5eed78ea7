"""Touch-tab metrics on the hand-made touches account (conftest.py lists every deal, touch and task).

Attribution (in the snapshot, as the build does it): t1 (5 minutes before #21 was created, within the
grace) and t4 go to #21; t5 fits both #21 (closed 10:00, grace to 10:10) and #22 (created 10:05) and
goes to the newer #22; t6 (10:20) only fits #22; t7 and t9 are unattributed (t9's deal #24 is deleted);
t8 is on deleted #24 and never counts.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from metric_snapshots import D, T, U

from report.metrics.filters import Filters
from report.metrics.times import to_first_touch
from report.metrics.touches import before_contract, before_lost, interval, negative_status, no_show_to_lost, per_deal

MARCH_F = Filters(date(2026, 3, 1), date(2026, 3, 31))


def by_manager(df: pl.DataFrame) -> dict:
    return {r.pop("manager"): r for r in df.to_dicts()}


def test_time_to_first_touch(touch_account):
    """Created in March: #21 (sms_out 30 min after creation; t1 came before creation and does not count),
    #22 (t5, 1 min), #25 (t10, 23 h), #26 (t12, 2 h), #23 never touched.  Sorted 60, 1800, 7200, 82800:
    mean 22 965, median 4500, p90 at rank 2.7 = 7200 + 0.7 × 75 600."""
    assert to_first_touch(touch_account, MARCH_F).to_dicts() == [
        {"n": 4, "mean_s": 22965.0, "median_s": 4500.0, "p90_s": pytest.approx(60120.0), "untouched": 1}
    ]
    m = by_manager(to_first_touch(touch_account, MARCH_F, ("manager",)))
    assert (m["Анна Петрова"]["n"], m["Анна Петрова"]["mean_s"], m["Анна Петрова"]["untouched"]) == (3, 3020.0, 0)
    assert (m["Борис Иванов"]["n"], m["Борис Иванов"]["untouched"]) == (1, 1)


def test_per_deal_includes_zeros_and_shared_contact_calls(touch_account):
    """#21: t1 t2 t3 t4 (3 calls, 1 SMS); #22: t5 t6 (2 calls); #23: none; #25: t10 t11 t14 (2 calls,
    1 SMS); #26: t12 t13 (2 calls).  5 deals: 11/5 touches, 9/5 calls, 2/5 SMS."""
    assert per_deal(touch_account, MARCH_F).to_dicts() == [
        {"n": 5, "mean_touches": 2.2, "mean_calls": 1.8, "mean_sms": 0.4}
    ]
    nsk = per_deal(touch_account, MARCH_F.with_(cities=("Новосибирск",)))
    assert nsk.to_dicts() == [{"n": 1, "mean_touches": 0.0, "mean_calls": 0.0, "mean_sms": 0.0}]


def test_before_contract(touch_account):
    """#22 reached contract 03-20: before it t5, t6 (calls)."""
    assert before_contract(touch_account, MARCH_F).to_dicts() == [
        {"n": 1, "mean_touches": 2.0, "mean_calls": 2.0, "mean_sms": 0.0}
    ]


def test_before_lost(touch_account):
    """Lost in March: #21 (03-10 10:00: t1 t2 t3 t4 = 3 calls + 1 SMS; t5 went to #22) and #26 (03-16
    10:00: t12; t13 came after).  Means 2.5 touches, 2 calls, 0.5 SMS."""
    assert before_lost(touch_account, MARCH_F).to_dicts() == [
        {"n": 2, "mean_touches": 2.5, "mean_calls": 2.0, "mean_sms": 0.5}
    ]


def test_no_show_to_lost(touch_account):
    """#21: no_show 03-05 10:00 → lost 03-10 10:00; in between only t4.  #26 never had a no_show."""
    assert no_show_to_lost(touch_account, MARCH_F).to_dicts() == [
        {"n": 1, "mean_touches": 1.0, "mean_calls": 1.0, "mean_sms": 0.0}
    ]


def test_negative_status(touch_account):
    """At the end of March: #25 in not_booked (t10 40 s and t14 80 s answered, t11 SMS: 3 touches, mean
    answered 60 s); #23 in no_answer with no touches (no answered call: empty mean)."""
    assert negative_status(touch_account, MARCH_F).to_dicts() == [
        {"stage": "not_booked", "deals": 1, "mean_touches": 3.0, "mean_answered_s": 60.0},
        {"stage": "no_answer", "deals": 1, "mean_touches": 0.0, "mean_answered_s": None},
    ]
    # at the end of 03-07 #25 was still a fresh lead: nothing in not_booked
    early = negative_status(touch_account, Filters(date(2026, 3, 1), date(2026, 3, 7)))
    assert early["deals"].to_list() == [0, 1]


def test_negative_status_counts_deals_whenever_created(make_snapshot):
    """#31 was created in June 2025 and has been not_booked ever since: it counts in March 2026 with
    its two touches before April (the 100 s call of 2025 and an SMS; the April call is after the
    end).  #32 was not_booked from December but booked on 03-15: it left before the end, so it does
    not count in March, though it does at the end of January.  #33 (created in March, no_answer
    from 03-06, lost only in April) counts in no_answer with its 30 s call.  #34 is created in
    April: not there yet."""
    snap = make_snapshot(
        [
            D(31, "2025-06-01 10:00", [("2025-06-02 10:00", "phone"), ("2025-06-03 10:00", "not_booked")]),
            D(32, "2025-12-01 10:00", [("2025-12-02 10:00", "not_booked"), ("2026-03-15 10:00", "booked")], user=2),
            D(33, "2026-03-05 10:00", [("2026-03-06 10:00", "no_answer"), ("2026-04-03 10:00", "lost")]),
            D(34, "2026-04-02 10:00", status="not_booked"),
        ],
        [
            T(1, "2025-06-02 09:00", "call_out", deal=31, duration=100),
            T(2, "2026-03-10 10:00", "sms_out", deal=31),
            T(3, "2026-04-02 10:00", "call_out", deal=31, duration=50),
            T(4, "2026-03-06 11:00", "call_out", deal=33, duration=30),
        ],
        users=[U(1, "Анна Петрова"), U(2, "Борис Иванов")],
    )
    assert negative_status(snap, MARCH_F).to_dicts() == [
        {"stage": "not_booked", "deals": 1, "mean_touches": 2.0, "mean_answered_s": 100.0},
        {"stage": "no_answer", "deals": 1, "mean_touches": 1.0, "mean_answered_s": 30.0},
    ]
    # at the end of January: #31 (one touch by then) and #32 (none) are not_booked, #33 does not exist
    january = negative_status(snap, Filters(date(2026, 1, 1), date(2026, 1, 31)))
    assert january.to_dicts() == [
        {"stage": "not_booked", "deals": 2, "mean_touches": 0.5, "mean_answered_s": 100.0},
        {"stage": "no_answer", "deals": 0, "mean_touches": None, "mean_answered_s": None},
    ]
    # the manager is the deal's responsible user: Boris's #32 only
    boris = negative_status(snap, Filters(date(2026, 1, 1), date(2026, 1, 31), managers=(2,)), ("manager",))
    assert boris.filter(pl.col("deals") > 0).select("manager", "stage", "deals").to_dicts() == [
        {"manager": "Борис Иванов", "stage": "not_booked", "deals": 1}
    ]


def test_interval(touch_account):
    """Pairs per deal: #21 35 min, 30 min, 3 d 1 h; #22 14 min; #25 1 h, 23 h; #26 24 h.  Sorted 840,
    1800, 2100, 3600, 82800, 86400, 262800: median 3600, mean 440 340 / 7."""
    df = interval(touch_account, MARCH_F)
    assert df["n"].to_list() == [7]
    assert df["mean_s"][0] == pytest.approx(440340 / 7)
    assert df["median_s"][0] == 3600.0
    assert df["p90_s"][0] == pytest.approx(86400 + 0.4 * (262800 - 86400))


def test_interval_uses_the_earlier_touch_before_the_period(touch_account):
    """From 03-05: t4 (03-05 12:00) pairs with t3 from 03-02 (3 d 1 h); t2 and t3 themselves are out."""
    df = interval(touch_account, Filters(date(2026, 3, 5), date(2026, 3, 31)))
    assert df["n"].to_list() == [5]
    assert df["mean_s"][0] == pytest.approx((262800 + 840 + 3600 + 82800 + 86400) / 5)
