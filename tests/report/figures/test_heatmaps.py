"""Heat maps: busiest rows, colour relative to the column median."""

from __future__ import annotations

import polars as pl

from tests.report.figures.validated import figures


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
    # colour = log2(duration / the column's median): Казань is twice as fast as Москва on lead→phone
    assert [list(r) for r in hm.z] == [[-1.0, None], [0.0, 0.0]]
    assert [list(r) for r in hm.customdata] == [["0,5× медианы", ""], ["1,0× медианы", "1,0× медианы"]]
    # centred on 1×, from ¼× to 4×, and the legend reads in multiples
    assert (hm.zmid, hm.zmin, hm.zmax) == (0, -2, 2)
    assert list(hm.colorbar.ticktext) == ["0,25×", "0,5×", "1×", "2×", "4×"]
    assert [list(r) for r in hm.text] == [["30 мин", "—"], ["1 ч", "2 ч"]]
