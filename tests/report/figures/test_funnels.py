"""Funnel figures: the metric's counts and conversions drawn, stage colours."""

from __future__ import annotations

import polars as pl

from tests.report.figures.validated import figures

COHORT = pl.DataFrame(
    {
        "stage": ["lead", "phone", "booked", "attended", "contract", "won", "lost"],
        "reached": [8, 6, 4, 2, 2, None, None],
        # the metric's conversions (worked out by hand): 6/8, 4/6, 2/4, 2/2; to lead 2/8 at contract
        "conv_prev": [None, 0.75, 4 / 6, 0.5, 1.0, None, None],
        "conv_lead": [1.0, 0.75, 0.5, 0.25, 0.25, None, None],
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


def test_funnel_shows_the_metrics_conversions_not_its_own_division():
    # a flow funnel: entries are not nested, so conv_prev is whatever the metric says it is
    flow = pl.DataFrame(
        {
            "stage": ["lead", "phone", "booked", "attended", "contract"],
            "entries": [10, 4, 5, 2, 1],
            "conv_prev": [None, 0.4, 1.25, 0.4, 0.5],
        }
    )
    trace = figures.funnel(flow, "entries", "ru").data[0]
    assert list(trace.text) == ["10", "4 · 40,0 %", "5 · 125,0 %", "2 · 40,0 %", "1 · 50,0 %"]
    assert "от лида" not in trace.hovertemplate  # the flow metric has no conversion to lead


def test_status_bars_stack_the_contact_centres_cities_as_parts():
    df = pl.DataFrame(
        {
            "group": ["Москва", "КЦ", "КЦ"],
            "city": ["Москва", "Москва", "Казань"],
            "stage": ["lead", "lead", "lead"],
            "deals": [2, 3, 4],
        }
    )
    lead = figures.status_bars(df, "group", "ru").data[0]
    # one segment per row: the contact centre's bar is 3 + 4 drawn as two pieces, named by city
    assert list(zip(lead.y, lead.x, lead.customdata, strict=True)) == [
        ("Москва", 2, ""),
        ("КЦ", 3, " · Москва"),
        ("КЦ", 4, " · Казань"),
    ]


def test_reconciliation_draws_each_side_stacked_from_the_metrics_parts():
    """Phone: flow 5 = 3 + 1 + 1, cohort 4 = 3 + 0 + 1 (worked out by hand); lead only the period's deals."""
    df = pl.DataFrame(
        {
            "stage": ["lead", "phone"],
            "flow": [6, 5],
            "first_by_cohort": [6, 3],
            "first_by_older": [0, 1],
            "repeat": [0, 1],
            "cohort": [6, 4],
            "cohort_in_period": [6, 3],
            "cohort_after": [0, 0],
            "implied": [0, 1],
        }
    )
    fig = figures.reconciliation_bars(df, "ru")
    assert fig.layout.barmode == "stack"
    by_name = {tr.name: tr for tr in fig.data}
    assert list(by_name) == [
        "Поток: первый вход, сделки периода",
        "Поток: первый вход, более старые сделки",
        "Поток: повторные входы",
        "Когорта: вход в этап в периоде",
        "Когорта: вход в этап после периода",
        "Когорта: перескок этапа",
    ]
    older = by_name["Поток: первый вход, более старые сделки"]
    assert list(older.x[0]) == ["Лид", "Номер получен"] and set(older.x[1]) == {"Поток"}
    assert list(older.y) == [0, 1]
    assert list(by_name["Когорта: перескок этапа"].y) == [0, 1]
    assert set(by_name["Когорта: перескок этапа"].x[1]) == {"Когорта"}


def test_funnel_hover_gives_the_compared_periods_figure_when_comparing():
    fig = figures.funnel(COHORT.with_columns(reached_prev=pl.Series([1, 1, 0, 0, 0, None, None])), "reached", "ru")
    assert "было: %{customdata[2]}" in fig.data[0].hovertemplate
    assert [c[2] for c in fig.data[0].customdata] == ["1", "1", "0", "0", "0"]
    assert "было" not in figures.funnel(COHORT, "reached", "ru").data[0].hovertemplate


def test_status_bars_title_their_value_axis():
    df = pl.DataFrame({"city": ["Москва", "Москва"], "stage": ["lead", "booked"], "deals": [3, 4]})
    axis = figures.status_bars(df, "city", "ru").layout.xaxis
    assert axis.title.text == "Сделки" and axis.rangemode == "tozero"
