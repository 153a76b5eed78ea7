"""Duration figures drawn from aggregates: median bar, whisker to p90, readable units."""

from __future__ import annotations

import polars as pl

from tests.report.figures.validated import figures


def test_duration_ranges_draw_median_with_a_whisker_to_p90():
    df = pl.DataFrame(
        {
            "transition": ["phone→booked", "lead→phone"],
            "n": [4, 6],
            "mean_s": [82800.0, 27000.0],
            "median_s": [79200.0, 18000.0],
            "p90_s": [140760.0, 36000.0],
        }
    )
    fig = figures.duration_ranges(df, "transition", "ru", order=["lead→phone", "phone→booked"])
    bar = fig.data[0]
    # listed in funnel order from the top (plotly draws y bottom-up, so reversed)
    assert list(bar.y) == ["phone→booked", "lead→phone"]
    assert list(bar.x) == [22.0, 5.0]  # medians in hours (p90 is under three days)
    assert list(bar.error_x.array) == [(140760 - 79200) / 3600, (36000 - 18000) / 3600]
    assert list(bar.text) == ["22 ч", "5 ч"]
    assert list(fig.data[1].x) == [23.0, 7.5]  # means as diamonds
    assert fig.layout.xaxis.type is None and fig.layout.xaxis.title.text == "часы"  # 5 h of 39 h: linear


def test_duration_axis_unit_keeps_numbers_readable():
    assert figures.duration_unit([130.0, 5400.0]) == "min"  # under 2 h
    assert figures.duration_unit([3600.0, 2 * 86400.0]) == "h"  # under 3 days
    assert figures.duration_unit([None, 10 * 86400.0]) == "d"
    assert figures.duration_unit([]) == "min"


def test_minutes_and_hours_share_a_log_axis_ticked_in_human_units():
    # lead→phone: median 4 min, p90 2 h; booked→attended: median 6 h, p90 2 d. On a linear axis
    # to 2 days the 4-minute bar would be 0,1 % of the width; on the log axis it reads.
    df = pl.DataFrame(
        {
            "transition": ["lead→phone", "booked→attended"],
            "n": [10, 10],
            "mean_s": [1200.0, 40000.0],
            "median_s": [240.0, 21600.0],
            "p90_s": [7200.0, 172800.0],
        }
    )
    fig = figures.duration_ranges(df, "transition", "ru", order=["lead→phone", "booked→attended"])
    axis = fig.layout.xaxis
    assert axis.type == "log"
    assert list(fig.data[0].x) == [21600.0, 240.0]  # seconds on the log axis, funnel order from the top
    assert list(fig.data[0].error_x.array) == [172800.0 - 21600.0, 7200.0 - 240.0]  # whisker to p90
    # ticks from 160 s (240 / 1,5) to 259 200 s (2 d × 1,5): 5 min … 1 d
    assert list(axis.ticktext) == ["5 мин", "15 мин", "1 ч", "4 ч", "1 д"]
    assert axis.title.text == "время, логарифмическая шкала"
    assert list(fig.data[0].text) == ["6 ч", "4 мин"]


def test_a_zero_median_is_drawn_at_the_floor_but_labelled_as_it_is():
    df = pl.DataFrame({"transition": ["a"], "n": [3], "mean_s": [600.0], "median_s": [0.0], "p90_s": [3600.0]})
    fig = figures.duration_ranges(df, "transition", "ru")
    assert fig.layout.xaxis.type == "log"
    assert list(fig.data[0].x) == [30.0] and list(fig.data[0].text) == ["0 с"]


def test_duration_over_time_picks_its_unit_from_the_data():
    from datetime import date

    df = pl.DataFrame(
        {
            "bucket": [date(2026, 3, 1), date(2026, 4, 1)],
            "n": [5, 5],
            "median_s": [600.0, 1200.0],
            "p90_s": [1800.0, 3600.0],
        }
    )
    fig = figures.duration_over_time(df, "month", "ru")
    assert fig.layout.yaxis.title.text == "минуты"  # p90 at most 1 h: minutes, not 0,04 days
    assert list(fig.data[0].y) == [10.0, 20.0]
    assert list(fig.data[1].y) == [30.0, 60.0]
