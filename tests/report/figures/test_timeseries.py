"""Figures over time buckets."""

from __future__ import annotations

from datetime import date

import polars as pl

from tests.report.figures.validated import figures


def test_stacked_over_time_labels_buckets_and_says_what_it_left_out():
    rows = []
    for i in range(10):  # ten cities, two months; the top 8 get their own bar, 2 are left out
        rows += [{"city": f"c{i}", "bucket": date(2026, 3, 1), "deals": 10 + i}]
        rows += [{"city": f"c{i}", "bucket": date(2026, 4, 1), "deals": 1}]
    df = pl.DataFrame(rows)
    fig = figures.stacked_over_time(df, "deals", "city", "month", "ru")
    assert len(fig.data) == 8  # no summed "остальные" bar: a sum is a metric's job
    assert list(fig.data[0].x) == ["мар 2026", "апр 2026"]
    assert fig.data[0].name == "c9"  # largest first
    assert fig.layout.meta == {"group": "city", "order": [f"c{i}" for i in range(9, 1, -1)], "total": 10}
    with figures.all_rows():
        every = figures.stacked_over_time(df, "deals", "city", "month", "ru")
    assert [t.name for t in every.data] == [f"c{i}" for i in range(9, -1, -1)]
    assert every.layout.meta["total"] == 10


def test_lines_over_time_draw_each_part_as_its_own_line():
    df = pl.DataFrame(
        {
            "manager": ["Аня", "Аня", "Боря"],
            "bucket": [date(2026, 3, 1), date(2026, 4, 1), date(2026, 3, 1)],
            "outgoing": [5, 2, 9],
            "incoming": [1, 0, 3],
        }
    )
    fig = figures.lines_over_time(df, "manager", {"outgoing": "исх.", "incoming": "вх."}, "month", "ru")
    lines = {t.name: (list(t.y), t.line.dash) for t in fig.data}
    assert lines == {
        "Боря · исх.": ([9, 0], "solid"),  # Боря first: most outgoing calls
        "Боря · вх.": ([3, 0], "dot"),
        "Аня · исх.": ([5, 2], "solid"),
        "Аня · вх.": ([1, 0], "dot"),
    }
    assert [t.name for t in fig.data][0] == "Боря · исх."


def test_the_compared_period_is_a_faint_dashed_line_per_group_with_one_legend_key():
    """Moscow 5 and 3 deals now, 2 and (no such bucket) before; the line carries the metric's _prev."""
    df = pl.DataFrame(
        {
            "city": ["Москва", "Москва"],
            "bucket": [date(2026, 3, 1), date(2026, 4, 1)],
            "deals": [5, 3],
            "deals_prev": [2, None],
        }
    )
    fig = figures.stacked_over_time(df, "deals", "city", "month", "ru")
    bar, before, key = fig.data
    assert bar.type == "bar" and list(bar.y) == [5, 3]
    assert before.line.dash == "dash" and list(before.y) == [2, None] and before.showlegend is False
    assert before.legendgroup == "Москва" and before.line.color == bar.marker.color
    assert key.name == "пунктир — период сравнения" and key.showlegend is not False
    # without a comparison nothing extra is drawn
    assert len(figures.stacked_over_time(df.drop("deals_prev"), "deals", "city", "month", "ru").data) == 1


def test_stacked_counts_are_ticked_to_the_tallest_stack_in_thousands():
    # March: 6 000 + 7 000 = 13 000 deals, April 2 000: about five steps to 13 000 = 2 600, rounded
    # up to 5 000, so the axis runs to 15 тыс.
    df = pl.DataFrame(
        {
            "city": ["Москва", "Казань", "Москва"],
            "bucket": [date(2026, 3, 1), date(2026, 3, 1), date(2026, 4, 1)],
            "deals": [6000, 7000, 2000],
        }
    )
    axis = figures.stacked_over_time(df, "deals", "city", "month", "ru").layout.yaxis
    assert list(axis.ticktext) == ["0", "5 тыс.", "10 тыс.", "15 тыс."]
    assert "k" not in "".join(axis.ticktext)


def test_a_cut_last_bucket_is_hatched_and_named_in_the_legend():
    df = pl.DataFrame(
        {
            "city": ["Москва", "Москва"],
            "bucket": [date(2026, 11, 1), date(2026, 12, 1)],
            "deals": [40, 9],
            "partial": [False, True],  # December: data to the 7th
        }
    )
    fig = figures.stacked_over_time(df, "deals", "city", "month", "ru")
    assert list(fig.data[0].marker.pattern.shape) == ["", "/"]
    assert fig.data[-1].name == "неполный период"
    whole = figures.stacked_over_time(df.drop("partial"), "deals", "city", "month", "ru")
    assert list(whole.data[0].marker.pattern.shape) == ["", ""]
    assert "неполный период" not in [t.name for t in whole.data]


def test_a_cut_bucket_is_reached_by_a_dotted_segment():
    df = pl.DataFrame(
        {
            "g": ["все"] * 3,
            "bucket": [date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)],
            "price_mean": [100.0, 120.0, 90.0],
            "partial": [False, False, True],
        }
    )
    fig = figures.lines_over_time(df, "g", "price_mean", "month", "ru")
    solid, dotted = fig.data[0], fig.data[1]
    assert list(solid.y) == [100.0, 120.0, None] and solid.line.dash == "solid"
    assert list(dotted.y) == [None, 120.0, 90.0] and dotted.line.dash == "dot"
    assert dotted.showlegend is False
    assert fig.data[-1].name == "неполный период"
