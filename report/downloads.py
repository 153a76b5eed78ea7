"""CSV and XLSX of a panel's table: the same rows the view shows.

CSV keeps the export contract (plain numbers, ISO dates, rates as fractions, durations in
seconds) so scripts can read it; it starts with a BOM so Excel opens the Cyrillic right. «CSV для
Excel» is the same table for a Russian Excel opened by double-click: semicolons, decimal commas,
dd.mm.yyyy dates, and the XLSX's headers and units. XLSX is for people: localised headers,
Russian number and date formats, durations in hours, and a second sheet with the filters and the
metric's definition.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime

import polars as pl
import xlsxwriter

from report.formatting import MONEY_COLUMNS, RATE_COLUMNS, base_column
from report.i18n import column_label, stage_label, t


def to_csv(df: pl.DataFrame) -> bytes:
    """The table as UTF-8 CSV (with BOM), contract column names, plain values."""
    return b"\xef\xbb\xbf" + df.write_csv(date_format="%Y-%m-%d", datetime_format="%Y-%m-%dT%H:%M:%SZ").encode()


def _excel_value(col: str, kind: str, value: object, lang: str) -> str:
    if value is None:
        text = _text(col, None, lang)
        return "" if text is None else str(text)
    if kind == "date":
        if isinstance(value, datetime):
            return value.strftime("%d.%m.%Y %H:%M")
        return value.strftime("%d.%m.%Y")  # type: ignore[attr-defined]
    if kind == "hours":
        value = float(value) / 3600  # type: ignore[arg-type]
    if kind in ("int", "float", "rate", "money", "hours"):
        number = float(value)  # type: ignore[arg-type]
        text = str(int(number)) if number.is_integer() else repr(round(number, 6))
        return text.replace(".", ",")
    return str(_text(col, value, lang))


def to_excel_csv(df: pl.DataFrame, lang: str = "ru") -> bytes:
    """The table for Excel with Russian regional settings: ``;`` between fields, ``0,25`` decimals,
    ``31.12.2026`` dates, a BOM for the Cyrillic; headers and units as in the XLSX (durations in
    hours, rates as fractions, no thousands separators, so every cell stays a number)."""
    kinds = [_kind(c, dt) for c, dt in df.schema.items()]
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow([_header(c, k, lang) for c, k in zip(df.columns, kinds, strict=True)])
    for row in df.iter_rows():
        writer.writerow([_excel_value(c, k, v, lang) for c, k, v in zip(df.columns, kinds, row, strict=True)])
    return b"\xef\xbb\xbf" + buf.getvalue().encode()


def filename(metric_id: str, date_from: date, date_to: date, ext: str) -> str:
    return f"{metric_id.replace('.', '_')}_{date_from.isoformat()}_{date_to.isoformat()}.{ext}"


def _kind(col: str, dtype: pl.DataType) -> str:
    col = base_column(col)
    if col in RATE_COLUMNS:
        return "rate"
    if col in MONEY_COLUMNS:
        return "money"
    if col.endswith("_s") and dtype.is_numeric():
        return "hours"
    if dtype == pl.Date or dtype == pl.Datetime:
        return "date"
    if dtype.is_integer():
        return "int"
    if dtype.is_float():
        return "float"
    return "text"


def _header(col: str, kind: str, lang: str) -> str:
    label = column_label(col, lang)
    return f"{label}, {'h' if lang == 'en' else 'ч'}" if kind == "hours" else label


def _text(col: str, value: object, lang: str) -> object:
    if value is None:
        return t("unknown_city", lang) if col == "city" else None
    if col == "stage":
        return stage_label(str(value), lang)
    if col == "channel" and value in ("office", "contact_center"):
        return t(f"c_{value}", lang)
    return value


def to_xlsx(
    df: pl.DataFrame,
    *,
    lang: str,
    title: str,
    definition: str,
    filter_rows: Sequence[tuple[str, str]],
) -> bytes:
    """A workbook: sheet 1 = the table with locale formats, sheet 2 = filters and definition."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "remove_timezone": True})
    bold = wb.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1, "text_wrap": True, "valign": "top"})
    formats = {
        # Excel stores format codes in its invariant form; a Russian Excel shows them as 1 234,5 and 31.12.2026.
        "int": wb.add_format({"num_format": "#,##0"}),
        "float": wb.add_format({"num_format": "#,##0.0"}),
        "hours": wb.add_format({"num_format": "#,##0.0"}),
        "rate": wb.add_format({"num_format": "0.0%"}),
        "money": wb.add_format({"num_format": '#,##0 "₽"'}),
        "date": wb.add_format({"num_format": "dd.mm.yyyy" if lang != "en" else "yyyy-mm-dd"}),
        "text": None,
    }
    data_name = "Data" if lang == "en" else "Данные"
    ws = wb.add_worksheet(data_name)
    kinds = [_kind(c, dt) for c, dt in df.schema.items()]
    for j, (col, kind) in enumerate(zip(df.columns, kinds, strict=True)):
        header = _header(col, kind, lang)
        ws.write(0, j, header, bold)
        ws.set_column(j, j, max(10, min(40, len(header) + 2)))
    for i, row in enumerate(df.iter_rows(), start=1):
        for j, (col, kind, value) in enumerate(zip(df.columns, kinds, row, strict=True)):
            if value is None:
                text = _text(col, None, lang)
                if text is not None:
                    ws.write_string(i, j, str(text))
                continue
            if kind == "hours":
                ws.write_number(i, j, float(value) / 3600, formats["hours"])
            elif kind == "date":
                ws.write_datetime(
                    i,
                    j,
                    value if isinstance(value, datetime) else datetime.combine(value, datetime.min.time()),
                    formats["date"],
                )
            elif kind in ("int", "float", "rate", "money"):
                ws.write_number(i, j, float(value), formats[kind])
            else:
                ws.write_string(i, j, str(_text(col, value, lang)))
    ws.freeze_panes(1, 0)
    if df.height:
        ws.autofilter(0, 0, df.height, max(0, df.width - 1))

    meta = wb.add_worksheet(t("filters_sheet", lang))
    meta.set_column(0, 0, 26)
    meta.set_column(1, 1, 90)
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    rows = [(t("metric", lang), title), (t("definition", lang), definition), *filter_rows]
    for i, (key, value) in enumerate(rows):
        meta.write_string(i, 0, key, bold)
        meta.write_string(i, 1, value, wrap)
    wb.close()
    return buf.getvalue()


def filter_rows(
    *,
    lang: str,
    tab_label: str,
    period_label: str,
    date_from: date,
    date_to: date,
    grain_label: str,
    cities: Sequence[str],
    managers: Sequence[str],
    channel_label: str,
    as_of: date,
    snapshot_id: str,
    data_as_of: str,
    link: str,
) -> list[tuple[str, str]]:
    """The "Filters" sheet: what was chosen, in words, so a saved file explains itself."""
    from report.formatting import fmt_date

    return [
        ("Tab" if lang == "en" else "Вкладка", tab_label),
        (t("period", lang), f"{fmt_date(date_from, lang)} – {fmt_date(date_to, lang)} ({period_label})"),
        (t("grain", lang), grain_label),
        (t("cities", lang), ", ".join(cities) or t("all_cities", lang)),
        (t("managers", lang), ", ".join(managers) or t("all_managers", lang)),
        (t("channel", lang), channel_label),
        (t("as_of", lang), fmt_date(as_of, lang)),
        ("Snapshot" if lang == "en" else "Снимок данных", snapshot_id),
        (t("data_as_of", lang), data_as_of),
        ("Link" if lang == "en" else "Ссылка", link),
    ]
