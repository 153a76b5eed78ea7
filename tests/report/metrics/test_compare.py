"""Comparison: the compared period by hand, and the identity ``_prev`` = the metric over it."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from metric_snapshots import MARCH, MARCH_USERS, TASKS, TOUCH_DEALS, TOUCHES
from polars.testing import assert_frame_equal

from report.metrics.compare import compare, shifted
from report.metrics.filters import Filters
from report.metrics.registry import get


def _period(a: str, b: str, **kw) -> Filters:
    return Filters(date.fromisoformat(a), date.fromisoformat(b), **kw)


@pytest.mark.parametrize(
    ("mode", "period", "expected"),
    [
        ("previous", ("2026-03-01", "2026-03-31"), ("2026-02-01", "2026-02-28")),
        ("previous", ("2026-04-01", "2026-06-30"), ("2026-01-01", "2026-03-31")),  # Q2 → Q1
        ("previous", ("2026-01-01", "2026-12-31"), ("2025-01-01", "2025-12-31")),
        ("previous", ("2026-01-01", "2026-01-31"), ("2025-12-01", "2025-12-31")),
        ("previous", ("2026-03-05", "2026-03-14"), ("2026-02-23", "2026-03-04")),  # 10 days before
        ("previous", ("2026-03-01", "2026-03-30"), ("2026-01-30", "2026-02-28")),  # not whole: 30 days
        ("year", ("2026-03-05", "2026-03-14"), ("2025-03-05", "2025-03-14")),
        ("year", ("2024-02-01", "2024-02-29"), ("2023-02-01", "2023-02-28")),  # 29 Feb → 28 Feb
    ],
)
def test_shifted_by_hand(mode, period, expected):
    out = shifted(_period(*period), mode)
    assert (out.date_from, out.date_to) == tuple(date.fromisoformat(d) for d in expected)


def test_as_of_moves_with_the_end():
    out = shifted(_period("2026-03-01", "2026-03-31", as_of=date(2026, 3, 20)), "previous")
    assert out.as_of == date(2026, 2, 17)  # the end moved 31 days back


CASES = [
    ("funnel.cohort", ("city",)),
    ("funnel.flow", ("bucket",)),
    ("deals.created", ("bucket",)),
    ("consultations.attendance", ("manager",)),
    ("deals.status_as_of", ()),
    ("time.stage_to_stage", ()),
    ("touches.per_deal", ("city",)),
]
PERIODS = [
    _period("2026-04-01", "2026-04-30", grain="week"),  # whole month
    _period("2026-04-01", "2026-06-30"),  # whole quarter
    _period("2027-01-01", "2027-12-31", grain="quarter"),  # whole year
    _period("2026-03-15", "2026-03-24", grain="day"),  # an odd 10 days
]


@pytest.mark.parametrize("mode", ["previous", "year"])
def test_prev_columns_equal_the_metric_over_the_shifted_period(make_snapshot, mode):
    # the accounts again a year later, so that year mode has data too
    later = [d.__class__(**{**d.__dict__, "id": d.id + 1000, "created": d.created.replace("2026", "2027"),
             "moves": [(m[0].replace("2026", "2027"), *m[1:]) for m in d.moves]}) for d in MARCH]  # fmt: skip
    snap = make_snapshot(MARCH + TOUCH_DEALS + later, TOUCHES, TASKS, MARCH_USERS)
    checked = 0
    for metric_id, by in CASES:
        fn = get(metric_id).fn
        for filters in [*PERIODS, _period("2026-03-01", "2026-03-31"), _period("2027-03-01", "2027-03-31")]:
            out = compare(fn, snap, filters, by, mode)
            now = fn(snap, filters, by)
            prev = fn(snap, shifted(filters, mode), by)
            # the table itself is this period's
            assert_frame_equal(out.select(now.columns), now)
            keys = [c for c, dtype in now.schema.items() if not dtype.is_numeric()]
            prev_cols = [f"{c}_prev" for c in now.columns if c not in keys]
            assert set(out.columns) == {*now.columns, *prev_cols}, metric_id
            if "bucket" in by:
                continue  # aligned by position: checked below
            want = now.select(keys).join(prev, on=keys, how="left", nulls_equal=True, maintain_order="left")
            for col in prev_cols:
                assert out[col].to_list() == want[col.removesuffix("_prev")].to_list(), (metric_id, filters, col)
                checked += 1
    assert checked > 0


def test_buckets_align_by_position(march):
    """March by week vs February by week: the n-th week of each."""
    fn = get("deals.created").fn
    filters = _period("2026-03-01", "2026-03-31", grain="week")
    out = compare(fn, march, filters, ("bucket",), "previous")
    # March weeks (Mondays): 02-23 (#1, 03-01), 03-02 (#2, #3), 03-09 (#4), 03-16 (#9), 03-23 (#10), 03-30 (#7)
    # February: only #6 (02-28, week of 02-23, which is the 4th week counted from 01-26, Feb 1's week)
    assert out["bucket"].to_list() == [date(2026, 2, 23), date(2026, 3, 2), date(2026, 3, 9),
                                       date(2026, 3, 16), date(2026, 3, 23), date(2026, 3, 30)]  # fmt: skip
    assert out["deals"].to_list() == [1, 2, 1, 1, 1, 1]
    assert out["deals_prev"].to_list() == [None, None, None, None, 1, None]
    assert out.schema["deals_prev"] == pl.Int64


def test_deltas_by_hand():
    """8 now vs 1 before: +7, +700 %; a rate 0.25 vs 0.5: −0.25, −50 %; from 0 or from nothing: no share."""
    from report.metrics.compare import deltas

    df = pl.DataFrame(
        {
            "leads": [8, 3, 2],
            "leads_prev": [1, 0, None],
            "rate": [0.25, None, 0.5],
            "rate_prev": [0.5, 0.5, 0.5],
            "other": [1, 1, 1],
        }
    )
    out = deltas(df, ["leads", "rate", "other", "absent"])
    assert out["leads_delta"].to_list() == [7.0, 3.0, None]
    assert out["leads_delta_pct"].to_list() == [7.0, None, None]
    assert out["rate_delta"].to_list() == [-0.25, None, 0.0]
    assert out["rate_delta_pct"].to_list() == [-0.5, None, 0.0]
    assert "other_delta" not in out.columns  # no other_prev: nothing to compare with


def test_a_total_without_keys_is_compared_side_by_side():
    """deals.created by nothing is one row with no key column: 7 now, 3 before; nothing before → empty."""
    from report.metrics.compare import with_previous

    now = pl.DataFrame({"deals": [7]})
    assert with_previous(now, pl.DataFrame({"deals": [3]}), (), []).to_dicts() == [{"deals": 7, "deals_prev": 3}]
    assert with_previous(now, now.clear(), (), []).to_dicts() == [{"deals": 7, "deals_prev": None}]
