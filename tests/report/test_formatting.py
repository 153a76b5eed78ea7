"""Locale formatting: what people read in the UI (Russian default, English equivalents)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from report.formatting import (
    fmt_bucket,
    fmt_count_of,
    fmt_date,
    fmt_datetime,
    fmt_duration,
    fmt_money,
    fmt_number,
    fmt_percent,
    fmt_short,
)


@pytest.mark.parametrize(
    ("value", "lang", "decimals", "expected"),
    [
        (1234.5, "ru", None, "1 234,5"),
        (1234.5, "en", None, "1,234.5"),
        (1234567, "ru", None, "1 234 567"),
        (8, "ru", None, "8"),
        (2.0, "ru", None, "2"),  # a whole float reads as a count
        (0.333333, "ru", 2, "0,33"),
        (-1500.25, "ru", 1, "-1 500,2"),  # banker's rounding of .25 is Python's own: 1500.2
        (None, "ru", None, "—"),
        (float("nan"), "en", None, "—"),
    ],
)
def test_fmt_number(value, lang, decimals, expected):
    assert fmt_number(value, lang, decimals) == expected


def test_fmt_percent_uses_russian_typography():
    assert fmt_percent(0.25, "ru") == "25,0 %"
    assert fmt_percent(0.6667, "en") == "66.7%"
    assert fmt_percent(None, "ru") == "—"  # a rate over 0 is empty, not 0


def test_fmt_money_rounds_to_roubles():
    assert fmt_money(125000.4, "ru") == "125 000 ₽"
    assert fmt_money(1234567.6, "en") == "1,234,568 ₽"


def test_dates():
    assert fmt_date(date(2026, 12, 31), "ru") == "31.12.2026"
    assert fmt_date(date(2026, 1, 5), "ru") == "05.01.2026"
    assert fmt_date(date(2026, 12, 31), "en") == "31 Dec 2026"
    assert fmt_datetime(datetime(2026, 6, 30, 12, 5), "ru") == "30.06.2026 12:05"


@pytest.mark.parametrize(
    ("seconds", "ru", "en"),
    [
        (2 * 86400 + 3 * 3600, "2 д 3 ч", "2 d 3 h"),
        (3 * 3600, "3 ч", "3 h"),  # a zero smaller unit is not shown
        (45 * 60, "45 мин", "45 min"),
        (90, "1 мин 30 с", "1 min 30 s"),
        (30, "30 с", "30 s"),
        (0, "0 с", "0 s"),
        (59.6, "1 мин", "1 min"),  # rounds to a whole minute, not "60 с"
        (86400 + 23.6 * 3600, "2 д", "2 d"),  # 1 д 23,6 ч rounds up to 2 д
        (3600 + 29 * 60 + 40, "1 ч 30 мин", "1 h 30 min"),
    ],
)
def test_fmt_duration_shows_two_largest_units(seconds, ru, en):
    assert fmt_duration(seconds, "ru") == ru
    assert fmt_duration(seconds, "en") == en


def test_fmt_duration_missing():
    assert fmt_duration(None, "ru") == "—"


def test_bucket_labels_name_the_bucket_by_its_first_day():
    monday = date(2026, 3, 2)  # ISO weeks start on Monday
    assert fmt_bucket(monday, "week", "ru") == "нед. с 02.03.2026"
    assert fmt_bucket(monday, "week", "en") == "wk of 2 Mar 2026"
    assert fmt_bucket(date(2026, 3, 1), "month", "ru") == "мар 2026"
    assert fmt_bucket(date(2026, 4, 1), "quarter", "ru") == "II кв. 2026"
    assert fmt_bucket(date(2026, 10, 1), "quarter", "en") == "Q4 2026"
    assert fmt_bucket(date(2026, 1, 1), "year", "ru") == "2026"
    assert fmt_bucket(date(2026, 3, 5), "day", "ru") == "05.03.2026"


def test_count_of():
    assert fmt_count_of(12, 1040, "ru") == "12 из 1 040"
    assert fmt_count_of(12, 40, "en") == "12 of 40"


def test_fmt_short_writes_thousands_and_millions_in_words():
    assert fmt_short(1500, "ru") == "1,5 тыс."
    assert fmt_short(2_500_000, "ru") == "2,5 млн"
    assert fmt_short(1_250_000, "ru") == "1,25 млн"
    assert fmt_short(500_000, "ru", unit=1e6) == "0,5 млн"  # one word per axis
    assert fmt_short(950, "ru") == "950"
    assert fmt_short(1500, "en") == "1.5k"
