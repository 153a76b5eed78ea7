"""Figure builders: aggregates in, figures out; colours per stage; the input is never changed."""

from __future__ import annotations

from datetime import date

import polars as pl
from polars.testing import assert_frame_equal

from report import figures

COHORT = pl.DataFrame(
    {
        "stage": ["lead", "phone", "booked", "attended", "contract", "won", "lost"],
        "reached": [8, 6, 4, 2, 2, None, None],
        "current": [1, 0, 1, 0, 1, 1, 1],
    }
)


def test_funnel_shows_the_five_funnel_stages_with_counts_and_conversion_to_previous():
    fig = figures.funnel(COHORT, "reached", "ru")
    trace = fig.data[0]
    assert list(trace.y) == [
        "Лид",
        "Номер получен",
        "Записан на консультацию",
        "Пришёл на первичку",
        "Заключён договор",
    ]
    assert list(trace.x) == [8, 6, 4, 2, 2]
    # 6 of 8 reached phone = 75 %; 4 of 6 booked = 66,7 %
    assert list(trace.text) == ["8", "6 · 75,0 %", "4 · 66,7 %", "2 · 50,0 %", "2 · 100,0 %"]
    # conversion to the first stage is in the hover: 2 of 8 contracts = 25 %
    assert list(trace.customdata[-1]) == ["100,0 %", "25,0 %"]
    assert list(trace.marker.color) == [
        figures.STAGE_COLORS[s] for s in ["lead", "phone", "booked", "attended", "contract"]
    ]


def test_figures_follow_the_locale_separators():
    assert figures.funnel(COHORT, "reached", "ru").layout.separators == ", "
    assert figures.funnel(COHORT, "reached", "en").layout.separators == ".,"
    assert list(figures.funnel(COHORT, "reached", "en").data[0].text)[1] == "6 · 75.0%"


def test_empty_input_gives_an_annotated_empty_figure():
    empty = COHORT.with_columns(pl.lit(0).alias("reached"))
    fig = figures.funnel(empty, "reached", "ru")
    assert fig.data == ()
    assert fig.layout.annotations[0].text == "Нет данных за выбранный период."


def test_builders_do_not_change_their_input():
    before = COHORT.clone()
    figures.funnel(COHORT, "reached", "ru")
    figures.status_bars(COHORT.rename({"current": "deals"}).with_columns(pl.lit("Москва").alias("city")), "city", "ru")
    assert_frame_equal(COHORT, before)


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


def test_status_bars_use_stage_colours_for_every_group():
    df = pl.DataFrame(
        {
            "city": ["Москва", "Москва", "Казань"],
            "status": ["Новая заявка", "Не пришёл", "Новая заявка"],
            "stage": ["lead", "no_show", "lead"],
            "deals": [2, 1, 3],
        }
    )
    fig = figures.status_bars(df, "city", "ru")
    colours = {t.name: t.marker.color for t in fig.data}
    assert colours == {"Лид": figures.STAGE_COLORS["lead"], "Не пришёл": figures.STAGE_COLORS["no_show"]}
    lead = next(t for t in fig.data if t.name == "Лид")
    assert dict(zip(lead.y, lead.x, strict=True)) == {"Москва": 2, "Казань": 3}


def test_stacked_over_time_labels_buckets_and_sums_the_rest():
    rows = []
    for i in range(10):  # ten cities, two months; the top 8 get their own colour, 2 are "остальные"
        rows += [{"city": f"c{i}", "bucket": date(2026, 3, 1), "deals": 10 + i}]
        rows += [{"city": f"c{i}", "bucket": date(2026, 4, 1), "deals": 1}]
    df = pl.DataFrame(rows)
    fig = figures.stacked_over_time(df, "deals", "city", "month", "ru")
    assert len(fig.data) == 9
    assert list(fig.data[0].x) == ["мар 2026", "апр 2026"]
    assert fig.data[0].name == "c9"  # largest first
    rest = fig.data[-1]
    assert rest.name == "остальные" and list(rest.y) == [10 + 11, 2]  # c0 and c1


def test_heatmap_rows_are_the_busiest_groups():
    df = pl.DataFrame(
        {
            "city": ["Москва", "Москва", "Казань"],
            "transition": ["lead→phone", "phone→booked", "lead→phone"],
            "n": [10, 5, 3],
            "median_s": [3600.0, 7200.0, 1800.0],
        }
    )
    fig = figures.heatmap(df, "city", "transition", "median_s", ["lead→phone", "phone→booked"], "ru")
    hm = fig.data[0]
    assert list(hm.y) == ["Казань", "Москва"]  # the busiest on top (plotly draws bottom-up)
    # colour = duration / the column's median: Казань is twice as fast as Москва on lead→phone
    assert [list(r) for r in hm.z] == [[0.5, None], [1.0, 1.0]]
    assert [list(r) for r in hm.text] == [["30 мин", "—"], ["1 ч", "2 ч"]]


def test_duration_axis_unit_keeps_numbers_readable():
    assert figures.duration_unit([130.0, 5400.0]) == "min"  # under 2 h
    assert figures.duration_unit([3600.0, 2 * 86400.0]) == "h"  # under 3 days
    assert figures.duration_unit([None, 10 * 86400.0]) == "d"
    assert figures.duration_unit([]) == "min"
