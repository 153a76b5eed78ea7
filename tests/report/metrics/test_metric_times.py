"""Time-tab metrics on the hand-made "March" account (conftest.py tells every deal's story).
Durations in seconds; a deal counts in the period of the duration's end."""

from __future__ import annotations

from datetime import date

import pytest
from metric_snapshots import MARCH_USERS, D

from report.metrics.filters import Filters
from report.metrics.times import (
    bookings_before_contract,
    bookings_before_contract_distribution,
    creation_to_contract,
    no_answer_to_close,
    phone_to_consultation,
    rebooking,
    request_to_won,
    stage_to_stage,
)

MARCH_F = Filters(date(2026, 3, 1), date(2026, 3, 31))
H = 3600
DAY = 86400


def test_stage_to_stage_worked_by_hand(march):
    """lead→phone, deals whose phone was first reached in March: #1 33 h, #2 26 h (booked implies phone),
    #3 0 (created into booked), #6 36.5 h (created in February: counts, the end is in March), #9 24 h,
    #10 24 h; #7's phone is in April.  Sorted 0, 24, 24, 26, 33, 36.5 h: mean 86 100 s, median
    (24+26)/2 h, p90 at rank 4.5 = 33 h + 0.5 × 3.5 h.
    phone→booked: #1 24 h, #2 #3 #10 0 → mean 6 h, median 0, p90 at rank 2.7 = 0.7 × 24 h.
    booked→attended: #1 48 h, #3 27 h, #10 0.  attended→contract: #1 24 h, #3 48 h (won implies contract)."""
    df = stage_to_stage(march, MARCH_F)
    assert df.columns == ["transition", "n", "mean_s", "median_s", "p90_s"]
    got = {r["transition"]: (r["n"], r["mean_s"], r["median_s"], r["p90_s"]) for r in df.to_dicts()}
    want = {
        "lead→phone": (6, 86100.0, 25 * H, 33 * H + 0.5 * 3.5 * H),
        "phone→booked": (4, 6 * H, 0.0, 0.7 * DAY),
        "booked→attended": (3, (48 + 27) * H / 3, 27 * H, 27 * H + 0.8 * 21 * H),
        "attended→contract": (2, 36 * H, 36 * H, DAY + 0.9 * DAY),
    }
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert got[key] == pytest.approx(value), key
    assert df["transition"].to_list() == ["lead→phone", "phone→booked", "booked→attended", "attended→contract"]


def test_stage_to_stage_heat_map_by_city(march):
    """Екатеринбург has only #10: lead→phone 24 h, phone→booked 0, booked→attended 0, no contract."""
    df = stage_to_stage(march, MARCH_F, ("city",))
    ekb = {r["transition"]: r["n"] for r in df.to_dicts() if r["city"] == "Екатеринбург"}
    assert ekb == {"lead→phone": 1, "phone→booked": 1, "booked→attended": 1}


def test_creation_to_contract_and_won(march):
    """Contract first reached in March: #1 (03-01 01:00 → 03-06 10:00 = 5 d 9 h), #3 (03-05 09:00 →
    won 03-08 12:00 = 3 d 3 h).  Won in March: #3 only."""
    df = creation_to_contract(march, MARCH_F)
    assert df["n"].to_list() == [2]
    assert df["mean_s"][0] == pytest.approx((5 * DAY + 9 * H + 3 * DAY + 3 * H) / 2)
    won = request_to_won(march, MARCH_F)
    assert won.to_dicts() == [
        {"n": 1, "mean_s": 3 * DAY + 3 * H, "median_s": 3 * DAY + 3 * H, "p90_s": 3 * DAY + 3 * H}
    ]


def test_creation_to_contract_by_bucket(march):
    df = creation_to_contract(march, MARCH_F.with_(grain="week"), ("bucket",))
    assert [(str(r["bucket"]), r["n"]) for r in df.to_dicts()] == [("2026-03-02", 2)]  # 03-06 and 03-08


def test_rebooking(march):
    """#2: booked 03-03 11:00, no_show 03-04 12:00, booked again 03-10 12:00 → 7 d 1 h.  The others never
    came back after a no_show."""
    assert rebooking(march, MARCH_F)["n"].to_list() == [1]
    assert rebooking(march, MARCH_F)["mean_s"][0] == 7 * DAY + H
    # counted in the period of the re-booking, not of the first booking
    assert rebooking(march, Filters(date(2026, 3, 1), date(2026, 3, 9)))["n"].to_list() == [0]


def test_phone_to_consultation(march):
    """Attended first in March: #1 (phone 03-02 10:00 → 03-05 10:00 = 72 h), #3 (phone = creation 03-05
    09:00 → 03-06 12:00 = 27 h), #10 (skipped phone: both are 03-26 10:00 → 0)."""
    df = phone_to_consultation(march, MARCH_F)
    assert (df["n"][0], df["mean_s"][0], df["median_s"][0]) == (3, (72 + 27) * H / 3, 27 * H)


def test_no_answer_to_close(make_snapshot, march):
    """#4: no_answer 03-11 09:00 → lost 03-12 09:00 = 24 h.  #2 and #10 were lost from other stages."""
    assert no_answer_to_close(march, MARCH_F).to_dicts() == [{"n": 1, "mean_s": DAY, "median_s": DAY, "p90_s": DAY}]
    # A deal that stopped answering, answered again (phone) and was then lost is not counted;
    # one lost from no_answer after two no_answer spells counts from the first.
    snap = make_snapshot(
        [
            D(
                1,
                "2026-03-01 10:00",
                [("2026-03-02 10:00", "no_answer"), ("2026-03-03 10:00", "phone"), ("2026-03-04 10:00", "lost")],
            ),
            D(
                2,
                "2026-03-01 10:00",
                [
                    ("2026-03-02 10:00", "no_answer"),
                    ("2026-03-03 10:00", "phone"),
                    ("2026-03-04 10:00", "no_answer"),
                    ("2026-03-06 10:00", "lost"),
                ],
            ),
        ]  # fmt: skip
    )
    assert no_answer_to_close(snap, MARCH_F)[["n", "mean_s"]].to_dicts() == [{"n": 1, "mean_s": 4 * DAY}]


def test_empty_period_gives_one_total_row_with_empty_stats(march):
    df = creation_to_contract(march, Filters(date(2025, 1, 1), date(2025, 1, 31)))
    assert df.to_dicts() == [{"n": 0, "mean_s": None, "median_s": None, "p90_s": None}]


def test_bookings_before_contract(make_snapshot):
    """Contract first reached in March: #1 booked once (its transfer to another pipeline's booked status
    is no new booking), #3 created into booked (1), #11 booked, no-show, booked again (2), #12 went to
    contract without booking (0).  Mean 1, median 1; distribution 0:1, 1:2, 2:1."""
    snap = make_snapshot(
        [
            D(
                1,
                "2026-03-01 10:00",
                [
                    ("2026-03-03 10:00", "booked"),
                    ("2026-03-04 10:00", "booked", "cc"),
                    ("2026-03-06 10:00", "contract"),
                ],
            ),
            D(3, "2026-03-05 09:00", [("2026-03-08 12:00", "won")], status="booked"),
            D(
                11,
                "2026-03-12 09:00",
                [
                    ("2026-03-13 09:00", "booked"),
                    ("2026-03-14 09:00", "no_show"),
                    ("2026-03-15 09:00", "booked"),
                    ("2026-03-17 09:00", "contract"),
                ],
            ),
            D(12, "2026-03-12 09:00", [("2026-03-13 09:00", "contract")]),
        ],  # fmt: skip
        users=MARCH_USERS,
    )
    assert bookings_before_contract(snap, MARCH_F).to_dicts() == [{"n": 4, "mean": 1.0, "median": 1.0}]
    dist = bookings_before_contract_distribution(snap, MARCH_F)
    assert dist.to_dicts() == [{"bookings": 0, "deals": 1}, {"bookings": 1, "deals": 2}, {"bookings": 2, "deals": 1}]


def test_negative_durations_are_excluded(make_snapshot):
    """A status change logged before the deal's creation (clock skew) would give a negative time; the
    snapshot clamps first_reach to creation, so lead→phone is 0 — and never negative."""
    snap = make_snapshot([D(1, "2026-03-02 10:00", [("2026-03-02 09:00", "phone")])])
    df = stage_to_stage(snap, MARCH_F)
    assert df.filter(df["transition"] == "lead→phone")["mean_s"].to_list() == [0.0]
