"""Bar figures: rates sorted with their parts in the hover."""

from __future__ import annotations

import polars as pl

from report import figures


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
