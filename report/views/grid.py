"""A panel's table as an AG Grid: sortable and filterable by any column, first column pinned,
numbers right-aligned in the locale's format, and a footer row of totals from the metric.

Formatting is done once, in Python (:func:`format_cell`, the same text the rest of the UI uses):
each row carries the raw value (sorting and number filters use it) and its text next to it
(``<col>__t``), which the grid shows through a one-line ``valueFormatter``. Writing the formats
again in JavaScript would make two places that must agree.
"""

from __future__ import annotations

import json
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
)
from report.i18n import GRID_LOCALE_RU, column_label, stage_label, t, transition_label

TEXT = "__t"  # suffix of the field holding a cell's text
KEY = "__key"  # the field holding a row's id (row_key)
ROW_HEIGHT = 28
AUTO_HEIGHT_ROWS = 10  # up to this many rows the grid grows to fit; above, it scrolls at a fixed height


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
    if col in RATE_COLUMNS:
        return fmt_percent(value, lang)  # type: ignore[arg-type]
    if col in MONEY_COLUMNS:
        return fmt_money(value, lang)  # type: ignore[arg-type]
    if col.endswith("_s"):
        return fmt_duration(value, lang)  # type: ignore[arg-type]
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


def row_key(row: dict[str, object], index: int) -> str:
    """A row's id in the grid: its key values (the non-numeric columns, raw) as JSON, and its
    position (``#``), which keeps ids unique should two rows share their keys (two managers of
    one name). A click on the row drills into the key values (views/drilldown.py)."""
    keys = {k: v for k, v in row.items() if isinstance(v, bool) or not isinstance(v, int | float)}
    return json.dumps({**keys, "#": index}, ensure_ascii=False, sort_keys=True, default=_raw)


def records(df: pl.DataFrame, lang: str, grain: str) -> list[dict[str, object]]:
    """The rows as grid records: raw value and text per column, and the row's key (its id)."""
    out = []
    for i, row in enumerate(df.iter_rows(named=True)):
        record: dict[str, object] = {KEY: row_key(row, i)}
        for col, value in row.items():
            record[col] = _raw(value)
            record[col + TEXT] = format_cell(col, value, lang, grain)
        out.append(record)
    return out


def totals_row(totals: pl.DataFrame | None, df: pl.DataFrame, lang: str, grain: str) -> list[dict[str, object]]:
    """The footer: the metric's by=() row (never a sum made here), labelled «Итого» in the first
    column. None (no totals call, or one that is not a single row) = no footer."""
    if totals is None or totals.height != 1 or df.is_empty():
        return []
    (record,) = records(totals.select([c for c in df.columns if c in totals.columns]), lang, grain)
    first = df.columns[0]
    return [{**record, KEY: "{}", first: None, first + TEXT: t("total", lang)}]


def column_def(col: str, numeric: bool, first: bool, lang: str) -> dict[str, object]:
    """Numbers: sorted and filtered by value, shown as text, right-aligned. Bucket: sorted by its
    date, shown and filtered as its label. Other columns (city, stage, manager…): their text."""
    label = column_label(col, lang)
    text = f"params.data ? params.data[{json.dumps(col + TEXT)}] : ''"
    spec: dict[str, object] = {"colId": col, "headerName": label, "headerTooltip": label}
    if numeric:
        spec |= {
            "field": col,
            "valueFormatter": {"function": text},
            "type": "rightAligned",
            "filter": "agNumberColumnFilter",
        }
    elif col == "bucket":
        spec |= {"field": col, "valueFormatter": {"function": text}, "filterValueGetter": {"function": text}}
    else:
        spec |= {"field": col + TEXT}
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


def grid(df: pl.DataFrame, totals: pl.DataFrame | None, panel_id: str, lang: str, grain: str) -> dag.AgGrid:
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
        rowData=records(df, lang, grain),
        columnDefs=[column_def(c, c in numeric, i == 0, lang) for i, c in enumerate(df.columns)],
        defaultColDef={
            "sortable": True,
            "filter": True,
            "resizable": True,
            "wrapHeaderText": True,
            "autoHeaderHeight": True,
        },
        # autoSize: every column as wide as its widest cell and header, so nothing is cut; a wide
        # table scrolls sideways inside its card with the first column pinned.
        columnSize="autoSize",
        columnSizeOptions={"skipHeader": False},
        dashGridOptions=options,
        getRowId=f"params.data.{KEY}",
        style=style,
        className="report-grid",
    )
