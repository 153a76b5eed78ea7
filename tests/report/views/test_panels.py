"""Panels: the «показаны N из M» note counts what the chart can draw; tables follow the chart."""

from __future__ import annotations

import polars as pl

from report.urlstate import ViewState
from report.views.funnels import PANELS
from report.views.panels import draw, rows_control, rows_note
from tests.report.figures.validated import figures


def test_groups_without_a_rate_are_counted_apart_not_as_hidden():
    # 3 cities with a rate, 2 with nobody due: the chart draws all 3 it can; no switch is offered
    # (it could add nothing) and the note says 2 have no value.
    df = pl.DataFrame(
        {
            "city": ["Москва", "Казань", "Омск", "Тула", "Сочи"],
            "attended": [3, 1, 2, 0, 0],
            "no_show": [1, 3, 2, 0, 0],
            "show_rate": [0.75, 0.25, 0.5, None, None],
        }
    )
    meta = figures.rate_bars(df, "city", "show_rate", ("attended", "no_show"), "ru").layout.meta
    assert meta["total"] == 3 and len(meta["order"]) == 3 and meta["no_value"] == 2
    assert rows_note(meta, "ru", False) == "Показаны все 3 · без значения (только в таблице): 2"
    control = rows_control("p", meta, "ru")
    assert control is not None and len(control.children) == 1  # the note, no show-all switch


def test_a_cut_chart_offers_the_switch_and_a_full_one_says_nothing():
    df = pl.DataFrame({"city": [f"c{i}" for i in range(30)], "mean": [float(i) for i in range(30)]})
    meta = figures.bars(df, "city", ["mean"], ["среднее"], "ru").layout.meta
    assert rows_note(meta, "ru", False) == "Показаны 25 из 30"
    assert len(rows_control("p", meta, "ru").children) == 2
    assert rows_note(meta, "ru", True) == "Показаны все 30"
    small = figures.bars(df.head(3), "city", ["mean"], ["среднее"], "ru").layout.meta
    assert rows_control("p", small, "ru") is None


def _table_rows(children: list, col: str) -> list:
    """The text column ``col`` shows, row by row."""
    grid = children[-1]
    return [r[col + "__t"] for r in grid.rowData]


def test_status_table_lists_its_groups_in_the_charts_order():
    # Казань 5 deals, Москва 2 + 1, the contact centre 4 (two cities): chart top to bottom is
    # Казань (5), Контакт-центр (4), Москва (3); the table must read the same.
    df = pl.DataFrame(
        {
            "city": ["Москва", "Москва", "Казань", "Москва", "Казань"],
            "channel": ["office", "office", "office", "contact_center", "contact_center"],
            "stage": ["booked", "lead", "lead", "lead", "booked"],
            "deals": [2, 1, 5, 1, 3],
        }
    )
    (panel,) = [p for p in PANELS if p.id == "status-city"]
    children, meta = draw(panel, ViewState(), df)
    assert meta["order"] == ["Казань", "Контакт-центр", "Москва"]
    assert _table_rows(children, "group") == ["Казань", "Контакт-центр", "Контакт-центр", "Москва", "Москва"]


def test_the_leaderboard_chart_and_table_rank_by_the_chosen_column():
    from report.views.touches import COMMON

    (board,) = [p for p in COMMON if p.id == "leaderboard"]
    df = pl.DataFrame(
        {
            "manager": ["Анна", "Борис", "Вера"],
            "deals": [10, 40, 20],
            "contracts": [5, 8, 2],
            "conversion": [0.5, 0.2, 0.1],
            "median_first_touch_s": [600.0, 60.0, 3600.0],
            "touches_per_deal": [2.0, 1.0, 3.0],
            "answered_minutes": [30.0, 90.0, 10.0],
        }
    )
    state = ViewState(tab="touches_office")
    children, meta = draw(board, state, df)  # default: conversion
    assert meta["order"] == ["Анна", "Борис", "Вера"]
    assert _table_rows(children, "manager") == ["Анна", "Борис", "Вера"]
    children, meta = draw(board, state, df, rank="deals")
    assert meta["order"] == ["Борис", "Вера", "Анна"]
    assert _table_rows(children, "manager") == ["Борис", "Вера", "Анна"]
    children, meta = draw(board, state, df, rank="median_first_touch_s")
    assert meta["order"] == ["Борис", "Анна", "Вера"]  # a time: the fastest first (60 s, 10 min, 1 h)
