"""«CSV для Excel»: what a Russian Excel opens by double-click without an import wizard."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl

from report.downloads import to_csv, to_excel_csv
from report.views.panel_callbacks import absolute_link


def test_excel_csv_has_semicolons_decimal_commas_russian_dates_and_a_bom():
    df = pl.DataFrame(
        {
            "bucket": [date(2026, 3, 1), date(2026, 4, 1)],
            "city": ["Москва", None],
            "deals": [1234, 5],
            "show_rate": [0.25, None],
            "median_s": [5400.0, 90.0],  # 1,5 h and 0,025 h
        }
    )
    data = to_excel_csv(df, "ru")
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data[3:].decode().split("\r\n")
    assert lines[0] == "Период;Город;Сделки;Явка;Медиана, ч"
    assert lines[1] == "01.03.2026;Москва;1234;0,25;1,5"
    assert lines[2] == "01.04.2026;(без города);5;;0,025"
    # the contract CSV stays as it was: commas, ISO dates, seconds, points
    assert to_csv(df).decode("utf-8-sig").splitlines()[1] == "2026-03-01,Москва,1234,0.25,5400.0"


def test_a_text_with_a_semicolon_is_quoted_and_times_keep_their_minutes():
    df = pl.DataFrame(
        {"manager": ["Иванов; старший"], "at": [datetime(2026, 3, 2, 14, 5, tzinfo=UTC)]}  # noqa: UP017
    )
    lines = to_excel_csv(df, "ru")[3:].decode().split("\r\n")
    assert lines[1] == '"Иванов; старший";02.03.2026 14:05'


def test_the_xlsx_link_is_absolute_from_the_config_or_the_request():
    assert absolute_link("/funnels?city=X", "", "http://10.0.0.5:8050/") == "http://10.0.0.5:8050/funnels?city=X"
    assert absolute_link("/funnels", "https://report.example.ru/sales", "http://10.0.0.5:8050/") == (
        "https://report.example.ru/sales/funnels"
    )
