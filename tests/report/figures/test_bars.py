"""Bar figures: rates sorted with their parts in the hover."""

from __future__ import annotations

import polars as pl

from tests.report.figures.validated import figures


def test_rate_bars_sort_by_rate_and_show_the_counts_they_are_made_of():
    df = pl.DataFrame(
        {
            "city": ["Москва", "Казань", "Омск"],
            "attended": [3, 1, 0],
            "no_show": [1, 3, 0],
            "show_rate": [0.75, 0.25, None],  # Омск: nobody was due, no rate
        }
    )
    bar = figures.rate_bars(df, "city", "show_rate", ("attended", "no_show"), "ru").data[0]
    assert list(bar.y) == ["Казань", "Москва"]  # lowest first (plotly draws bottom-up), Омск left out
    assert list(bar.text) == ["25,0 %", "75,0 %"]
    assert [list(c) for c in bar.customdata] == [["1", "3"], ["3", "1"]]
    assert "Пришли: %{customdata[0]}, Не пришли: %{customdata[1]}" in bar.hovertemplate


def test_bars_record_their_top_to_bottom_order_and_how_many_they_left_out():
    df = pl.DataFrame({"city": [f"c{i}" for i in range(30)], "mean": [float(i) for i in range(30)]})
    fig = figures.bars(df, "city", ["mean"], ["среднее"], "ru")
    assert len(fig.data[0].y) == 25
    assert fig.layout.meta == {"group": "city", "order": [f"c{i}" for i in range(29, 4, -1)], "total": 30}
    with figures.all_rows():
        assert len(figures.bars(df, "city", ["mean"], ["среднее"], "ru").data[0].y) == 30


def test_value_axes_start_at_zero_and_say_their_unit():
    df = pl.DataFrame({"package": ["Стандарт", "Премиум"], "price_mean": [100000.0, 150000.0]})
    fig = figures.bars(df, "package", ["price_mean"], ["средний чек"], "ru", money=True)
    assert fig.layout.xaxis.rangemode == "tozero"
    assert fig.layout.xaxis.title.text.endswith(", ₽")
    rates = pl.DataFrame({"city": ["Москва"], "contract": [1], "attended": [4], "rate": [0.25]})
    assert figures.rate_bars(rates, "city", "rate", ("contract", "attended"), "ru").layout.xaxis.title.text.endswith(
        ", %"
    )
    # labels inside bars never shrink below a readable size
    assert fig.layout.uniformtext.minsize == 10


def test_bars_can_keep_the_rows_order_and_name_their_axis():
    """Stages stacked by age: drawn in the metric's order (lead on top), the axis says «Сделки»."""
    df = pl.DataFrame({"stage": ["Лид", "Номер получен"], "d0_1": [1, 5], "d1_3": [2, 0]})
    fig = figures.bars(
        df, "stage", ["d0_1", "d1_3"], ["0–1", "1–3"], "ru", stacked=True, keep_order=True, title="Сделки"
    )
    assert list(fig.data[0].y) == ["Номер получен", "Лид"]  # plotly draws bottom-up: Лид is on top
    assert fig.layout.meta["order"] == ["Лид", "Номер получен"]
    assert fig.layout.xaxis.title.text == "Сделки" and fig.layout.barmode == "stack"


def test_large_values_are_ticked_in_russian_words_never_si_letters():
    df = pl.DataFrame({"package": ["Стандарт", "Премиум"], "price_mean": [100000.0, 150000.0]})
    axis = figures.bars(df, "package", ["price_mean"], ["средний чек"], "ru", money=True).layout.xaxis
    assert list(axis.ticktext) == ["0", "50 тыс.", "100 тыс.", "150 тыс."]
    assert list(axis.tickvals) == [0, 50000, 100000, 150000]
    assert axis.exponentformat == "none"  # plotly's own ticks (zoomed, small axes) write no «k» either
    stacked = pl.DataFrame({"city": ["Москва"], "a": [1_200_000], "b": [1_300_000]})
    axis = figures.bars(stacked, "city", ["a", "b"], ["a", "b"], "ru", stacked=True).layout.xaxis
    assert axis.ticktext[-1] == "2,5 млн"  # the stack's top, 2,5 млн, not its largest part
    english = figures.bars(df, "package", ["price_mean"], ["mean"], "en", money=True).layout.xaxis
    assert english.ticktext[1] == "50k"
    small = pl.DataFrame({"city": ["Москва"], "n": [40]})
    assert figures.bars(small, "city", ["n"], ["n"], "ru").layout.xaxis.tickvals is None  # plotly's ticks: 0…40


def test_grouped_bars_read_top_down_in_the_legends_order():
    df = pl.DataFrame({"manager": ["Анна"], "outgoing": [5], "incoming": [3], "answered": [2]})
    fig = figures.bars(df, "manager", ["outgoing", "incoming", "answered"], ["исх", "вх", "отв"], "ru")
    # plotly draws a group's first trace lowest: the first column is added last, so it is on top,
    # and the reversed legend lists it first
    assert [tr.name for tr in fig.data] == ["отв", "вх", "исх"]
    assert fig.layout.legend.traceorder == "reversed"
    assert [tr.marker.color for tr in fig.data] == [figures.SERIES_COLORS[i] for i in (2, 1, 0)]


def test_money_bars_are_labelled_in_roubles():
    """The mean cheque by package: 68 753,0 read as a count; it is 68 753 ₽ (no kopecks)."""
    df = pl.DataFrame({"package": ["Стандарт", "Базовый"], "price_mean": [68753.04, 34393.8]})
    fig = figures.bars(df, "package", ["price_mean"], ["средний чек"], "ru", money=True)
    assert list(fig.data[0].text) == ["34 394 ₽", "68 753 ₽"]  # bottom-up: the largest on top
