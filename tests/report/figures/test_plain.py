"""Plain figures: plotly.py takes every figure function's output, built of plain values only, and
the few figure methods update a figure as plotly's own do."""

from __future__ import annotations

from datetime import date

import plotly.graph_objects as go
import polars as pl
import pytest

from report import figures
from report.figures.funnels import RECONCILIATION_PARTS
from report.figures.plain import Figure
from tests.report.figures.validated import figure_functions

NOV, DEC = date(2026, 11, 1), date(2026, 12, 1)
#: Two months, December cut short and compared with an earlier period: partial and _prev paths.
OVER_TIME = pl.DataFrame(
    {
        "city": ["Москва", "Москва", None, None],
        "bucket": [NOV, DEC, NOV, DEC],
        "deals": [40, 9, 3, 1],
        "deals_prev": [30, 20, None, 2],
        "partial": [False, True, False, True],
    }
)
DURATIONS = pl.DataFrame(
    {
        "city": ["Москва", "Казань"],
        "n": [5, 3],
        "mean_s": [900.0, 4 * 86400.0],
        "median_s": [10.0, 86400.0],  # 10 s vs a day: the log axis
        "p90_s": [3600.0, 9 * 86400.0],
    }
)
STAGES = ["lead", "phone", "booked", "attended", "contract"]

#: Each figure function on a small frame that takes it down its less common paths.
CASES = {
    "empty_figure": lambda: figures.empty_figure("ru"),
    "rate_bars": lambda: figures.rate_bars(
        pl.DataFrame({"city": ["Москва", "Омск"], "attended": [3, 0], "no_show": [1, 0], "show_rate": [0.75, None]}),
        "city",
        "show_rate",
        ("attended", "no_show"),
        "ru",
    ),
    "bars": lambda: figures.bars(
        pl.DataFrame({"city": ["Москва", None], "calls": [12_000, 3], "sms": [5, 1]}),
        "city",
        ["calls", "sms"],
        ["звонки", "смс"],
        "en",
    ),
    "histogram_bars": lambda: figures.histogram_bars(
        pl.DataFrame({"bookings": [1, 2, None], "deals": [10, 4, 1]}), "bookings", "deals", "ru", "записей"
    ),
    "duration_ranges": lambda: figures.duration_ranges(DURATIONS, "city", "ru"),
    "duration_over_time": lambda: figures.duration_over_time(
        pl.DataFrame(
            {
                "bucket": [NOV, DEC],
                "n": [5, 2],
                "median_s": [600.0, 900.0],
                "p90_s": [3600.0, 7200.0],
                "median_s_prev": [500.0, None],
                "partial": [False, True],
            }
        ),
        "month",
        "en",
    ),
    "funnel": lambda: figures.funnel(
        pl.DataFrame(
            {
                "stage": STAGES,
                "reached": [8, 6, 4, 3, 1],
                "reached_prev": [7, 5, 4, 2, 2],
                "conv_prev": [None, 0.75, 0.667, 0.75, 0.333],
                "conv_lead": [None, 0.75, 0.5, 0.375, 0.125],
            }
        ),
        "reached",
        "ru",
    ),
    "status_bars": lambda: figures.status_bars(
        pl.DataFrame(
            {
                "group": ["Москва", "Контакт-центр", "Контакт-центр"],
                "city": ["Москва", "Москва", "Казань"],
                "stage": ["lead", "booked", "booked"],
                "deals": [20_000, 3, 2],
            }
        ),
        "group",
        "ru",
    ),
    "reconciliation_bars": lambda: figures.reconciliation_bars(
        pl.DataFrame(
            [("phone", 5, 3, 1, 1, 4, 3, 0, 1)],
            schema=["stage", *(c for side, parts in RECONCILIATION_PARTS.items() for c in (side, *dict(parts)))],
            orient="row",
        ),
        "en",
    ),
    "heatmap": lambda: figures.heatmap(
        pl.DataFrame(
            {
                "city": ["Москва", "Москва", "Казань"],
                "transition": ["a", "b", "a"],
                "median_s": [60.0, 600.0, 240.0],
                "n": [3, 2, 1],
            }
        ),
        "city",
        "transition",
        "median_s",
        ["a", "b"],
        "ru",
    ),
    "attendance_over_time": lambda: figures.attendance_over_time(
        pl.DataFrame(
            {
                "bucket": [NOV, DEC],
                "attended": [30, 4],
                "no_show": [10, 1],
                "show_rate": [0.75, 0.8],
                "show_rate_prev": [0.7, None],
                "partial": [False, True],
            }
        ),
        "month",
        "ru",
    ),
    "stacked_over_time": lambda: figures.stacked_over_time(OVER_TIME, "deals", "city", "month", "ru"),
    "lines_over_time": lambda: figures.lines_over_time(OVER_TIME, "city", "deals", "week", "en"),
}

PLAIN = (dict, list, str, int, float, bool, type(None))


def plain_values(value: object) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and plain_values(v) for k, v in value.items())
    if isinstance(value, list):
        return all(plain_values(v) for v in value)
    return isinstance(value, PLAIN)


def test_every_figure_function_has_a_case_here():
    assert set(CASES) == set(figure_functions())


@pytest.mark.parametrize("name", sorted(CASES))
def test_plotly_takes_the_figure_and_it_holds_plain_values_only(name):
    fig = CASES[name]()
    # plotly.py raises on a property it does not know (a misspelt one plotly.js would ignore)
    drawn = go.Figure(fig.to_dict())
    assert drawn.data or drawn.layout.annotations
    assert plain_values(fig.to_dict())  # nothing for Dash's JSON encoder to convert


def test_the_heat_maps_colours_are_the_ones_plotly_py_sent():
    # plotly.js knows no "RdYlGn_r" and its "Blues" is another scale: the stops are written out,
    # fast = green, slow = red.
    durations = CASES["heatmap"]().to_dict()["data"][0]["colorscale"]
    assert durations[0] == [0.0, "rgb(0,104,55)"] and durations[-1] == [1.0, "rgb(165,0,38)"]
    assert [list(stop) for stop in go.Heatmap(colorscale="RdYlGn_r").colorscale] == durations
    counts = figures.heatmap(
        pl.DataFrame({"city": ["Москва"], "stage": ["lead"], "deals": [3]}),
        "city",
        "stage",
        "deals",
        ["lead"],
        "ru",
        duration=False,
    ).to_dict()["data"][0]["colorscale"]
    assert [list(stop) for stop in go.Heatmap(colorscale="Blues").colorscale] == counts


def test_updates_merge_and_reach_every_axis_as_plotlys_do():
    layout = {"height": 300, "legend": {"x": 0, "title": None}, "yaxis2": {"side": "right"}}
    plain, plotly = Figure(layout), go.Figure(layout=layout)
    for fig in (plain, plotly):
        fig.add_bar(x=["a"], y=[1], customdata=None)
        fig.update_layout(legend={"orientation": "h"}, bargap=None, height=320)
        fig.update_yaxes(title={"text": "сделки"}, rangemode="tozero")
        fig.update_xaxes(tickformat=".0%")
        fig.add_annotation(text="нет данных", showarrow=False)
    assert go.Figure(plain.to_dict()).to_plotly_json() == plotly.to_plotly_json()
    assert plain.layout["yaxis2"] == {"side": "right", "title": {"text": "сделки"}, "rangemode": "tozero"}
    assert plain.layout["legend"] == {"x": 0, "orientation": "h"}
