"""A panel's table as an AG Grid: sortable and filterable by any column, first column pinned,
numbers right-aligned in the locale's format, and a footer row of totals from the metric.

Numbers travel as numbers and are written in the browser (``reportCell`` in
assets/dashAgGridFunctions.js, the formats of report/formatting.py; a test runs both on the same
values): formatting every cell in Python was most of a page's time and size (124k cells on a
touches tab at day grain). Sorting and number filters use the value. The other columns (bucket,
city, stage…) carry their text (``<col>__t``), written in Python once per distinct value, and
the bucket its ISO date too, which it sorts by.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime

import dash_ag_grid as dag
import polars as pl

from report import ids
from report.formatting import (
    DASH,
    MONEY_COLUMNS,
    RATE_COLUMNS,
    base_column,
    fmt_bucket,
    fmt_duration,
    fmt_money,
    fmt_number,
    fmt_percent,
    number_kind,
)
from report.i18n import GRID_LOCALE_RU, column_label, stage_label, t, transition_label

TEXT = "__t"  # suffix of the field holding a cell's text
TOTAL = "__total"  # the totals row's label, for a numeric first column
KEY = "__key"  # the field holding a row's id (row_key)
ROW_HEIGHT = 28
AUTO_HEIGHT_ROWS = 10  # up to this many rows the grid grows to fit; above, it scrolls at a fixed height


NUMBER_FORMATS = {"percent": fmt_percent, "money": fmt_money, "duration": fmt_duration, "number": fmt_number}


def format_cell(col: str, value: object, lang: str, grain: str) -> str:
    """How one table cell reads in the UI (exports keep the plain value); a ``_prev`` column
    reads like its own."""
    col = base_column(col)
    if value is None:
        if col == "city":
            return t("unknown_city", lang)
        return DASH
    if col == "bucket":
        return fmt_bucket(value, grain, lang)  # type: ignore[arg-type]
    if col == "stage":
        return stage_label(str(value), lang)
    if col == "transition":
        return transition_label(str(value), lang)
    if col == "channel":
        return t(f"c_{value}", lang) if value in ("office", "contact_center") else str(value)
    if col in RATE_COLUMNS or col in MONEY_COLUMNS or col.endswith("_s"):
        return NUMBER_FORMATS[number_kind(col)](value, lang)  # type: ignore[operator]
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return fmt_number(value, lang)
    if isinstance(value, date):
        return fmt_bucket(value, "day", lang)
    return str(value)


def _raw(value: object) -> object:
    """A JSON value the grid can sort: dates as ISO text (which sorts like the dates)."""
    return value.isoformat() if isinstance(value, date | datetime) else value


def _replaced(col: str, series: pl.Series, fn: Callable[[object], str], missing: str) -> pl.Expr:
    """``fn`` of each value of ``col``, called once per distinct value (``missing`` for null)."""
    values = series.drop_nulls().unique(maintain_order=True)
    texts = [fn(v) for v in values.to_list()]
    return pl.col(col).replace_strict(values, texts, default=missing, return_dtype=pl.String)


def _key_expr(df: pl.DataFrame) -> pl.Expr:
    """Each row's id in the grid: its key values (the columns that are not numbers, raw, dates as
    ISO text) and its position (``#``) as JSON (``json.dumps(sort_keys=True)``'s text), which
    keeps ids unique should two rows share their keys (two managers of one name). A click on the
    row drills into the key values (views/drilldown.py). Written per distinct value."""
    keys = [c for c, dt in df.schema.items() if not dt.is_numeric()]
    parts: list[pl.Expr] = []
    for name in sorted(["#", *keys]):
        value = (
            pl.int_range(pl.len()).cast(pl.String)
            if name == "#"
            else _replaced(name, df[name], lambda v: json.dumps(_raw(v), ensure_ascii=False), "null")
        )
        parts += [pl.lit((", " if parts else "{") + json.dumps(name, ensure_ascii=False) + ": "), value]
    return pl.concat_str([*parts, pl.lit("}")]).alias(KEY)


def records(df: pl.DataFrame, lang: str, grain: str, keys: bool = True) -> list[dict[str, object]]:
    """The rows as grid records: a number column's value; another column's text (``<col>__t``),
    and for the bucket its ISO date too; the row's key (its id), unless ``keys`` is False (a grid
    nothing drills from: its ids would only add bytes)."""
    columns: list[pl.Expr] = [_key_expr(df)] if keys else []
    for col, dtype in df.schema.items():
        if dtype.is_numeric():
            columns.append(pl.col(col))
            continue
        if col == "bucket":
            columns.append(_replaced(col, df[col], lambda v: _raw(v), None).alias(col))  # type: ignore[arg-type]
        text = _replaced(
            col, df[col], lambda v, c=col: format_cell(c, v, lang, grain), format_cell(col, None, lang, grain)
        )
        columns.append(text.alias(col + TEXT))
    return df.select(columns).to_dicts()


def totals_row(totals: pl.DataFrame | None, df: pl.DataFrame, lang: str, grain: str) -> list[dict[str, object]]:
    """The footer: the metric's by=() row (never a sum made here), labelled «Итого» in the first
    column (``__total``: the label a numeric first column shows). None (no totals call, or one
    that is not a single row) = no footer."""
    if totals is None or totals.height != 1 or df.is_empty():
        return []
    (record,) = records(totals.select([c for c in df.columns if c in totals.columns]), lang, grain)
    first, label = df.columns[0], t("total", lang)
    return [{**record, KEY: "{}", TOTAL: label, first: None, first + TEXT: label}]


def column_def(col: str, numeric: bool, first: bool, lang: str) -> dict[str, object]:
    """Numbers: sorted and filtered by value, shown as text, right-aligned. Bucket: sorted by its
    date, shown and filtered as its label. Other columns (city, stage, manager…): their text."""
    label = column_label(col, lang)
    text = f"params.data ? params.data[{json.dumps(col + TEXT)}] : ''"
    spec: dict[str, object] = {"colId": col, "headerName": label, "headerTooltip": label}
    if numeric:
        cell = f"reportCell(params, {json.dumps(number_kind(col))}, {json.dumps(lang)})"
        spec |= {
            "field": col,
            "valueFormatter": {"function": cell},
            "type": "rightAligned",
            "filter": "agNumberColumnFilter",
        }
    elif col == "bucket":
        spec |= {"field": col, "valueFormatter": {"function": text}, "filterValueGetter": {"function": text}}
    else:
        spec |= {"field": col + TEXT}
    if not numeric and col != "bucket":
        # long labels («Записан на консультацию → Пришёл на первичку») wrap onto a second line
        # rather than push the numbers out of the card
        spec |= {"wrapText": True, "autoHeight": True, "minWidth": 110, "flex": 2}
    if first:
        spec |= {"pinned": "left", "lockPinned": True}
    return spec


def beside_previous(columns: list[str]) -> list[str]:
    """Each compared period's column right after its own column (with_previous appends them)."""
    prev = {c for c in columns if base_column(c) != c and base_column(c) in columns}
    out: list[str] = []
    for c in columns:
        if c in prev:
            continue
        out.append(c)
        if f"{c}_prev" in prev:
            out.append(f"{c}_prev")
    return out


def grid(
    df: pl.DataFrame, totals: pl.DataFrame | None, panel_id: str, lang: str, grain: str, keys: bool = True
) -> dag.AgGrid:
    """``keys``: rows carry their key as their id (a click on a cell drills into it)."""
    numeric = {c for c, dt in df.schema.items() if dt.is_numeric()}
    df = df.select(beside_previous(df.columns))
    options: dict[str, object] = {
        "pinnedBottomRowData": totals_row(totals, df, lang, grain),
        "rowHeight": ROW_HEIGHT,
        "headerHeight": 32,
        "suppressMovableColumns": True,
        "enableCellTextSelection": True,
    }
    if lang != "en":
        options["localeText"] = GRID_LOCALE_RU
    style: dict[str, str] = {"width": "100%"}
    if df.height <= AUTO_HEIGHT_ROWS:
        options["domLayout"] = "autoHeight"
    else:
        style["height"] = f"{AUTO_HEIGHT_ROWS * ROW_HEIGHT + 80}px"
    return dag.AgGrid(
        id=ids.panel_id(ids.TABLE, panel_id),
        rowData=records(df, lang, grain, keys),
        columnDefs=[column_def(c, c in numeric, i == 0, lang) for i, c in enumerate(df.columns)],
        # Columns share the card's width (flex): at 1280 px a half-width card holds the cohort
        # funnel's six columns and a duration table's p90 (sized to their headers, the last ones
        # were cut off behind a sideways scroll). Headers wrap, label columns wrap and take twice
        # a number's share; below the minimum widths the grid scrolls sideways, first column pinned.
        defaultColDef={
            "sortable": True,
            "filter": True,
            "resizable": True,
            "wrapHeaderText": True,
            "autoHeaderHeight": True,
            "minWidth": 80,
            "flex": 1,
        },
        dashGridOptions=options,
        getRowId=f"params.data.{KEY}" if keys else None,
        style=style,
        className="report-grid",
    )
