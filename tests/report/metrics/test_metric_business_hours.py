"""Duration metrics in business hours (Filters.hours = "business"), worked by hand.

The account is metric_snapshots.BUSINESS_*. The snapshot records the working hours as a build writes them (etl.config.working_hours_settings
of config.yaml's defaults: offices Monday–Friday 09:00–21:00 in their city's time zone, closed on
the Russian production calendar's days off; the contact centre every day 08:00–22:00 Moscow time,
open on holidays), plus one override: Калининград works every day 10:00–12:00.

Deals (the builder takes Moscow wall-clock times; local time in brackets):
  #61 Новосибирск (UTC+7) office: created Friday 2026-03-13 16:00 (20:00 local) → contract Monday
      03-16 06:00 (10:00 local): 20–21 Friday + 09–10 Monday = 2 business hours; calendar 62 h.
      (The issue says 1 h: that is Friday 20:00 → Monday 09:00. 2 h is the right sum for 10:00.)
  #62 Москва office: created Thursday 2026-04-30 20:00 → contract Monday 05-04 10:00: 20–21 Thursday,
      1 May a public holiday of the calendar, the weekend, 09–10 Monday = 2 h; calendar 86 h.
  #63 Екатеринбург, contact centre: created Saturday 2026-03-14 21:00 → contract Sunday 03-15 09:00
      (Moscow time, the centre's zone): 21–22 + 08–09 = 2 h; calendar 12 h.  (An office would count
      0 on a weekend; the centre's hours in Екатеринбург time would give 3 h.)
  #64 Калининград (UTC+2) office: created Saturday 2026-03-14 12:30 (11:30 local) → contract Sunday
      03-15 12:00 (11:00 local): 11:30–12:00 + 10:00–11:00 = 1.5 h; calendar 23.5 h.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from metric_snapshots import BUSINESS_DEALS as DEALS
from metric_snapshots import BUSINESS_SETTINGS
from metric_snapshots import BUSINESS_TOUCHES as TOUCHES

from report.metrics.filters import Filters
from report.metrics.registry import get
from report.metrics.shaping import MetricInputError
from report.metrics.times import creation_to_contract, to_first_touch
from report.metrics.touches import interval

H = 3600
SPRING = Filters(date(2026, 3, 1), date(2026, 5, 31))
BUSINESS = SPRING.with_(hours="business")


@pytest.fixture
def account(make_snapshot):
    return make_snapshot(DEALS, TOUCHES, settings=BUSINESS_SETTINGS)


def per_city(df: pl.DataFrame) -> dict[str, float]:
    return dict(df.select("city", "mean_s").iter_rows())


def test_creation_to_contract_counts_each_deals_own_working_hours(account):
    assert per_city(creation_to_contract(account, SPRING, ("city",))) == {
        "Екатеринбург": 12 * H,
        "Калининград": 23.5 * H,
        "Москва": 86 * H,
        "Новосибирск": 62 * H,
    }
    assert per_city(creation_to_contract(account, BUSINESS, ("city",))) == {
        "Екатеринбург": 2 * H,  # the contact centre's 08–22 in Moscow time, weekend included
        "Калининград": 1.5 * H,  # the city's own schedule
        "Москва": 2 * H,  # 1 May is a day off of the calendar
        "Новосибирск": 2 * H,  # Friday 20–21 + Monday 09–10, Novosibirsk time
    }
    total = creation_to_contract(account, BUSINESS).row(0, named=True)
    assert (total["n"], total["median_s"]) == (4, 2 * H)


def test_first_touch_and_interval_follow_the_switch(account):
    """#61: created 20:00 local, first call 21:30 local Friday: 1.5 h in calendar time, 1 h of
    working time (20–21); the call back Monday 09:30 local: 60 h later, of which only Monday
    09:00–09:30 is working time (Friday 21:30 is already after hours): 0.5 h."""
    first = to_first_touch(account, BUSINESS, ("city",)).filter(pl.col("city") == "Новосибирск").row(0, named=True)
    assert (first["mean_s"], first["untouched"]) == (1 * H, 0)
    assert to_first_touch(account, SPRING, ("city",)).filter(pl.col("city") == "Новосибирск")["mean_s"][0] == 1.5 * H
    assert interval(account, SPRING)["mean_s"].to_list() == [60 * H]
    assert interval(account, BUSINESS)["mean_s"].to_list() == [0.5 * H]


def test_a_snapshot_without_working_hours_says_to_rebuild(make_snapshot):
    snap = make_snapshot(DEALS)
    with pytest.raises(MetricInputError, match="records no working hours"):
        get("time.creation_to_contract").fn(snap, BUSINESS, ())
    assert get("time.creation_to_contract").fn(snap, SPRING, ())["n"][0] == 4  # calendar needs none


def test_touch_to_next_stage_counts_working_time_but_keeps_seven_calendar_days(account):
    """#61's call Friday 21:30 local is followed by the contract Monday 10:00 local: 60.5 h, of
    which 1 h (Monday 09–10) is working time; within 7 days either way."""
    calendar = get("touches.to_next_stage").fn(account, SPRING, ()).row(0, named=True)
    business = get("touches.to_next_stage").fn(account, BUSINESS, ()).row(0, named=True)
    assert (calendar["median_s"], calendar["share_within_7d"]) == (60.5 * H, 1.0)
    assert (business["median_s"], business["share_within_7d"]) == (1 * H, 1.0)


@pytest.fixture
def march_with_hours(make_snapshot):
    from metric_snapshots import MARCH, MARCH_USERS, TASKS, TOUCH_DEALS
    from metric_snapshots import TOUCHES as MARCH_TOUCHES

    return make_snapshot(MARCH + TOUCH_DEALS, MARCH_TOUCHES, TASKS, MARCH_USERS, settings=BUSINESS_SETTINGS)


def test_the_switch_changes_exactly_the_metrics_declared_with_hours(march_with_hours):
    """On the March account (durations spanning nights and weekends), every metric declared
    ``hours=True`` answers differently in business hours, and every other metric the same."""
    from report.metrics.registry import all_metrics

    march = Filters(date(2026, 3, 1), date(2026, 3, 31))
    for metric in all_metrics().values():
        if not metric.cacheable:  # the quality panel reads the wall clock
            continue
        calendar = metric.fn(march_with_hours, march, ())
        business = metric.fn(march_with_hours, march.with_(hours="business"), ())
        assert calendar.equals(business) != metric.hours, metric.id
