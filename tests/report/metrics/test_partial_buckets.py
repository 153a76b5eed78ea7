"""Which buckets of a period are cut short, by the period's ends or by the data date."""

from __future__ import annotations

from datetime import date

import polars as pl

from report.metrics.filters import Filters
from report.metrics.periods import partial_buckets, with_partial


def _partial(date_from: date, date_to: date, grain: str, data_date: date) -> set[date]:
    return set(partial_buckets(Filters(date_from, date_to, grain), data_date))


def test_this_year_by_month_has_only_the_running_month_partial():
    # «Этот год» on 7 Dec 2026: 1 Jan – 7 Dec; December has 7 of its 31 days, January is whole
    assert _partial(date(2026, 1, 1), date(2026, 12, 7), "month", date(2026, 12, 7)) == {date(2026, 12, 1)}


def test_a_period_starting_mid_week_cuts_its_first_week_and_ending_mid_week_its_last():
    # Wed 4 Mar – Tue 17 Mar 2026, data up to 7 Dec: weeks of Mon 2 Mar and Mon 16 Mar are cut
    got = _partial(date(2026, 3, 4), date(2026, 3, 17), "week", date(2026, 12, 7))
    assert got == {date(2026, 3, 2), date(2026, 3, 16)}


def test_whole_months_in_the_past_are_not_partial():
    assert _partial(date(2026, 1, 1), date(2026, 3, 31), "month", date(2026, 12, 7)) == set()


def test_the_data_date_cuts_the_bucket_even_inside_the_period():
    # period to 31 Dec but data only to 7 Dec: December is cut by the data; by day, 7 Dec itself
    assert _partial(date(2026, 11, 1), date(2026, 12, 31), "month", date(2026, 12, 7)) == {date(2026, 12, 1)}
    assert _partial(date(2026, 12, 1), date(2026, 12, 31), "day", date(2026, 12, 7)) == {date(2026, 12, 7)}
    # a quarter starting in its middle month: Q4 from 1 Nov, data to 7 Dec
    assert _partial(date(2026, 11, 1), date(2026, 12, 7), "quarter", date(2026, 12, 7)) == {date(2026, 10, 1)}


def test_with_partial_marks_rows_of_cut_buckets():
    df = pl.DataFrame({"bucket": [date(2026, 11, 1), date(2026, 12, 1)], "deals": [4, 1]})
    assert with_partial(df, frozenset({date(2026, 12, 1)}))["partial"].to_list() == [False, True]
    assert with_partial(pl.DataFrame({"city": ["a"]}), frozenset()).columns == ["city"]
