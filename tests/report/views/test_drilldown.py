"""Drill-down: a click (grid cell or chart point) read as the deals to list, by hand."""

from __future__ import annotations

from datetime import date

import polars as pl

from report.metrics.drill import DRILLS
from report.urlstate import FUNNEL_TYPES, TAB_PATHS, ViewState
from report.views import tab_panels
from report.views.drilldown import CLICKS, DrillRequest, from_cell, from_point, title
from report.views.grid import records

COHORT_BY_CITY = pl.DataFrame(
    {
        "city": ["Москва", "Москва", None],
        "stage": ["lead", "booked", "booked"],
        "reached": [4, 3, 1],
        "conv_prev": [None, 1.0, 0.5],
    }
)


def cell(df: pl.DataFrame, row: int, col: str) -> dict:
    """What dash-ag-grid sends for a click on a cell: the column and the row's id."""
    return {"colId": col, "rowId": records(df, "ru", "month")[row]["__key"], "value": df[col][row]}


def test_a_grid_count_drills_into_its_row_and_column():
    req = from_cell("funnel.cohort", ("city",), cell(COHORT_BY_CITY, 1, "reached"))
    assert req == DrillRequest("funnel.cohort", "reached", "booked", None, {"city": "Москва"})
    # the null city is the metric's «(без города)» group, kept as null
    assert from_cell("funnel.cohort", ("city",), cell(COHORT_BY_CITY, 2, "reached")).group == {"city": None}


def test_a_rate_or_label_cell_drills_nowhere_and_a_prev_cell_into_the_compared_period():
    assert from_cell("funnel.cohort", ("city",), cell(COHORT_BY_CITY, 1, "conv_prev")) is None
    assert from_cell("funnel.cohort", ("city",), cell(COHORT_BY_CITY, 1, "city")) is None
    df = COHORT_BY_CITY.with_columns(reached_prev=pl.lit(2))
    req = from_cell("funnel.cohort", ("city",), cell(df, 1, "reached_prev"))
    assert req is not None and req.previous and req.column == "reached" and req.stage == "booked"


def test_the_totals_row_lists_every_deal_of_the_panel():
    assert from_cell("deals.created", ("city", "bucket"), {"colId": "deals", "rowId": "{}"}) == DrillRequest(
        "deals.created", "deals"
    )


def test_row_keys_carry_the_key_columns_only_and_dates_as_iso_text():
    rows = pl.DataFrame(
        {
            "city": ["Казань", "Москва"],
            "bucket": [date(2026, 2, 1), date(2026, 3, 1)],
            "deals": [1, 2],
            "rate": [None, 0.5],
        }
    )
    keys = [r["__key"] for r in records(rows, "ru", "month")]
    assert keys == [
        '{"#": 0, "bucket": "2026-02-01", "city": "Казань"}',
        '{"#": 1, "bucket": "2026-03-01", "city": "Москва"}',
    ]
    # two managers of one name still get two row ids, and drill into the same name
    twins = pl.DataFrame({"manager": ["Анна Петрова", "Анна Петрова"], "stage": ["lead", "lead"], "reached": [1, 2]})
    keys = [r["__key"] for r in records(twins, "ru", "month")]
    assert keys[0] != keys[1]
    req = from_cell("funnel.cohort", ("manager",), {"colId": "reached", "rowId": keys[1]})
    assert req == DrillRequest("funnel.cohort", "reached", "lead", None, {"manager": "Анна Петрова"})


def test_a_heatmap_cell_reads_city_and_stage_from_its_labels():
    point = {"x": "Записан на консультацию", "y": "(без города)", "z": 1}
    req = from_point("funnel-city", "funnel.cohort", ("city",), COHORT_BY_CITY, point, None, "ru", "month")
    assert req == DrillRequest("funnel.cohort", "reached", "booked", None, {"city": None})


def test_a_trace_names_the_count_and_a_bucket_label_its_date():
    df = pl.DataFrame({"bucket": [date(2026, 3, 1), date(2026, 4, 1)], "attended": [2, 1], "no_show": [1, 0]})
    point = {"x": "мар 2026", "y": 1}
    req = from_point("attendance", "consultations.attendance", ("bucket",), df, point, "Не пришёл", "ru", "month")
    assert req == DrillRequest("consultations.attendance", "no_show", None, None, {"bucket": "2026-03-01"})
    # the show-rate line is not a count: no list
    assert from_point("attendance", "consultations.attendance", ("bucket",), df, point, "явка", "ru", "month") is None


def test_title_says_metric_count_stage_and_group():
    req = DrillRequest("deals.created", "deals", None, None, {"city": "Москва", "bucket": "2026-03-01"})
    assert (
        title(req, "Создано сделок", 1234, "ru", "month")
        == "Создано сделок · Сделки · Москва · мар 2026 — сделок: 1 234"
    )


def test_every_clickable_panel_is_on_a_tab_and_counts_deals():
    panels = {
        p.id: p for tab in TAB_PATHS for funnel in FUNNEL_TYPES for p in tab_panels(ViewState(tab=tab, funnel=funnel))
    }
    for panel_id in CLICKS:
        panel = panels[panel_id]
        for funnel in FUNNEL_TYPES:
            assert panel.metric_id(ViewState(funnel=funnel)) in DRILLS, panel_id


def test_title_names_a_status_only_when_it_says_more_than_its_stage():
    lost = DrillRequest("deals.status_as_of", "deals", "lost", "Закрыто и не реализовано", {"city": "Барнаул"})
    assert title(lost, "Сделки по статусам", 64, "ru", "month") == (
        "Сделки по статусам · Сделки · Закрыто и не реализовано · Барнаул — сделок: 64"
    )
    renamed = DrillRequest("deals.status_as_of", "deals", "lead", "Неразобранное")
    assert "Лид · Неразобранное" in title(renamed, "Сделки по статусам", 1, "ru", "month")
