"""Locale formatting for the UI: numbers, percentages, dates, durations and bucket labels.

Pure functions of (value, lang). Russian is the default (``1 234,5``, ``31.12.2026``, ``2 д 3 ч``);
English gets its usual equivalents. Data and exports stay plain; only what people read goes here.
"""

from __future__ import annotations

import math
from datetime import date, datetime

DASH = "—"

_MONTHS_RU = ("янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек")
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ROMAN = ("I", "II", "III", "IV")
_UNITS = {
    "ru": (("д", 86400), ("ч", 3600), ("мин", 60), ("с", 1)),
    "en": (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)),
}


#: Columns that are fractions (shown as %) and money (₽), by metric column name.
RATE_COLUMNS = frozenset(
    {"conv_prev", "conv_lead", "rate", "show_rate", "conversion", "share_stuck", "share_within_7d"}
)
MONEY_COLUMNS = frozenset({"price_sum", "price_mean"})
#: Suffix of a compared period's column (``report.metrics.compare.with_previous``).
PREV = "_prev"


def base_column(col: str) -> str:
    """The column a compared period's column repeats (``reached_prev`` → ``reached``): it reads
    like it. ``conv_prev`` is a column of its own (conversion from the previous stage)."""
    return col.removesuffix(PREV) if col.endswith(PREV) and col not in RATE_COLUMNS else col


def number_kind(col: str) -> str:
    """How a numeric column reads: ``percent``, ``money``, ``duration`` (``*_s``) or ``number``
    (the grid's browser formatter, assets/dashAgGridFunctions.js, takes this name)."""
    col = base_column(col)
    if col in RATE_COLUMNS:
        return "percent"
    if col in MONEY_COLUMNS:
        return "money"
    return "duration" if col.endswith("_s") else "number"


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_number(value: float | int | None, lang: str = "ru", decimals: int | None = None) -> str:
    """``1 234,5`` in Russian, ``1,234.5`` in English; integers keep no decimals.

    ``decimals=None`` shows integers as integers and other numbers with one decimal, which is
    what a sales table needs (counts exact, means readable).
    """
    if _missing(value):
        return DASH
    if decimals is None:
        decimals = 0 if float(value).is_integer() else 1
    text = f"{value:,.{decimals}f}"  # 1,234.5
    if lang == "en":
        return text
    return text.replace(",", " ").replace(".", ",")


_SHORT = {"ru": ((1e9, "млрд"), (1e6, "млн"), (1e3, "тыс.")), "en": ((1e9, "B"), (1e6, "M"), (1e3, "k"))}


def fmt_short(value: float | None, lang: str = "ru", unit: float | None = None) -> str:
    """A large number in words for an axis tick: ``15 тыс.``, ``1,5 млн`` (``15k``, ``1.5M``).

    ``unit`` (1e3, 1e6, 1e9) fixes the word, so the ticks of one axis share it; None picks it
    from the value. Below a thousand the number is written as it is."""
    if _missing(value):
        return DASH
    words = _SHORT["en" if lang == "en" else "ru"]
    size, word = next(((s, w) for s, w in words if (unit or abs(value)) >= s), (1, ""))
    if size == 1 or value == 0:
        return fmt_number(value, lang, None if float(value).is_integer() else 1)
    number = fmt_number(value / size, lang, 2).rstrip("0").rstrip(",.")
    return f"{number}{word}" if lang == "en" else f"{number} {word}"


def fmt_percent(value: float | None, lang: str = "ru", decimals: int = 1) -> str:
    """A fraction 0..1 as a percentage: ``45,3 %`` (Russian typography) or ``45.3%``."""
    if _missing(value):
        return DASH
    number = fmt_number(value * 100, lang, decimals)
    return f"{number}%" if lang == "en" else f"{number} %"


def fmt_money(value: float | None, lang: str = "ru") -> str:
    """Roubles without kopecks: ``125 000 ₽``."""
    if _missing(value):
        return DASH
    return f"{fmt_number(round(value), lang, 0)} ₽"


def fmt_date(value: date | datetime | None, lang: str = "ru") -> str:
    """``31.12.2026`` in Russian, ``31 Dec 2026`` in English (no day/month ambiguity)."""
    if value is None:
        return DASH
    if lang == "en":
        return f"{value.day} {_MONTHS_EN[value.month - 1]} {value.year}"
    return f"{value.day:02d}.{value.month:02d}.{value.year}"


def fmt_datetime(value: datetime | None, lang: str = "ru") -> str:
    """Date and minutes: ``31.12.2026 14:05``."""
    if value is None:
        return DASH
    return f"{fmt_date(value, lang)} {value.hour:02d}:{value.minute:02d}"


def fmt_duration(seconds: float | None, lang: str = "ru") -> str:
    """The two largest units of a duration: ``2 д 3 ч``, ``45 мин``, ``3 h 5 min``.

    The smaller unit is rounded; a zero second unit is not shown (``3 ч``, not ``3 ч 0 мин``).
    """
    if _missing(seconds):
        return DASH
    units = _UNITS["en" if lang == "en" else "ru"]
    total = round(max(0.0, float(seconds)))
    if total < 1:
        return f"0 {units[-1][0]}"
    for i, (name, size) in enumerate(units):
        if total >= size or i == len(units) - 1:
            if i == len(units) - 1:
                return f"{round(total)} {name}"
            small_name, small_size = units[i + 1]
            big = int(total // size)
            small = round((total - big * size) / small_size)
            if small * small_size >= size:  # 1 д 23,6 ч rounds up to 2 д
                big, small = big + 1, 0
            return f"{big} {name}" + (f" {small} {small_name}" if small else "")
    raise AssertionError("unreachable")


def fmt_bucket(value: date | datetime | None, grain: str, lang: str = "ru") -> str:
    """Label of a time bucket given its first day: a day, a week (by its Monday), a month, …"""
    if value is None:
        return DASH
    if grain == "day":
        return fmt_date(value, lang)
    if grain == "week":
        return ("wk of " if lang == "en" else "нед. с ") + fmt_date(value, lang)
    if grain == "month":
        names = _MONTHS_EN if lang == "en" else _MONTHS_RU
        return f"{names[value.month - 1]} {value.year}"
    if grain == "quarter":
        q = (value.month - 1) // 3
        return f"Q{q + 1} {value.year}" if lang == "en" else f"{_ROMAN[q]} кв. {value.year}"
    return str(value.year)


def fmt_count_of(numerator: int | None, denominator: int | None, lang: str = "ru") -> str:
    """``12 из 40`` / ``12 of 40``: rates are always shown with what they are made of."""
    if numerator is None or denominator is None:
        return DASH
    word = "of" if lang == "en" else "из"
    return f"{fmt_number(numerator, lang)} {word} {fmt_number(denominator, lang)}"
