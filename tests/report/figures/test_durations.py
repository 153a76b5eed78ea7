"""Duration figures drawn from aggregates: median bar, whisker to p90, readable units."""

from __future__ import annotations

import polars as pl

from report import figures


def test_duration_ranges_draw_median_with_a_whisker_to_p90():
    df = pl.DataFrame(
        {
            "transition": ["phone→booked", "lead→phone"],
            "n": [4, 6],
            "mean_s": [82800.0, 5400.0],
            "median_s": [79200.0, 3600.0],
            "p90_s": [140760.0, 9000.0],
        }
    )
    fig = figures.duration_ranges(df, "transition", "ru", order=["lead→phone", "phone→booked"])
    bar = fig.data[0]
    # listed in funnel order from the top (plotly draws y bottom-up, so reversed)
    assert list(bar.y) == ["phone→booked", "lead→phone"]
    assert list(bar.x) == [22.0, 1.0]  # medians in hours (p90 is under three days)
    assert list(bar.error_x.array) == [(140760 - 79200) / 3600, (9000 - 3600) / 3600]
    assert list(bar.text) == ["22 ч", "1 ч"]
    assert list(fig.data[1].x) == [23.0, 1.5]  # means as diamonds


def test_duration_axis_unit_keeps_numbers_readable():
    assert figures.duration_unit([130.0, 5400.0]) == "min"  # under 2 h
    assert figures.duration_unit([3600.0, 2 * 86400.0]) == "h"  # under 3 days
    assert figures.duration_unit([None, 10 * 86400.0]) == "d"
    assert figures.duration_unit([]) == "min"
