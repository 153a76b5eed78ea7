"""Drill-down: a click on a number that counts deals opens the list of exactly those deals.

:data:`CLICKS` is the one table that says which panels drill and how a click on their chart
reads; the metric id and the breakdown come from the panel itself (``Panel.metric``/``by``), and
``report.metrics.drill`` lists the deals. One generic callback (``panel_callbacks``) turns a
click into a :class:`DrillRequest` here and lays out the answer; nothing here counts deals.

A click becomes (metric id, column, stage, status, group):
- a grid cell: its column is the count (``reached``, ``deals``…; ``<count>_prev`` = the same count
  in the compared period), its row's key values (every non-numeric column, carried in the row
  id) give the stage, the status and the breakdown values; the totals row has no group.
  A cell that is not a count of :data:`report.metrics.drill.DRILLS` (a rate, a label) does nothing.
- a chart point: :class:`ClickMap` names which key column the point's ``x``, ``y`` and its trace
  name are, and the label is matched to the metric's own values by the label the grid shows
  (:func:`report.views.grid.format_cell`, which is the figures' labelling too).

Choices: the list shows the first :data:`LIMIT` deals (the CSV has them all); the deal id links
to the deal (new tab); times are in the report's time zone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import polars as pl
from dash import dcc, html

from report import ids
from report.formatting import fmt_date, fmt_datetime, fmt_number
from report.i18n import GRID_LOCALE_RU, column_label, stage_label, t
from report.metrics.drill import DRILLS
from report.views.frame import T
from report.views.grid import ROW_HEIGHT, TEXT, format_cell

LIMIT = 500  # ~170 KB of rows to the browser; the CSV has them all
#: Suffix of a compared period's column (report.metrics.compare).
PREV = "_prev"


@dataclass(frozen=True)
class ClickMap:
    """How a panel's chart click reads: ``x``/``y``/``trace`` → the key column it names
    (``"column"`` = the trace is one of the metric's counts, e.g. attended / no-show);
    ``column``: the count a chart point stands for (None: the drill's default)."""

    x: str | None = None
    y: str | None = None
    trace: str | None = None
    column: str | None = None


#: Panel id → how its chart click reads. A panel listed here drills from its grid as well;
#: ``chart=None``: grid only (its chart's bars are not one group of the metric).
CLICKS: dict[str, ClickMap | None] = {
    "funnel-cohort": ClickMap(y="stage", column="reached"),
    "funnel-flow": ClickMap(y="stage", column="entries"),
    "funnel-city": ClickMap(x="stage", y="city"),
    # The chart puts the contact centre in a bar of its own (all its cities): grid only.
    "status-city": None,
    "created": ClickMap(x="bucket", trace="city"),
    "bookings": ClickMap(x="bucket", trace="city"),
    "attendance": ClickMap(x="bucket", trace="column"),
    "attendance-city": ClickMap(y="city", column="attended"),
    "negative": ClickMap(y="city", trace="stage"),
    "open-age": ClickMap(y="stage", trace="column"),
    "stuck-city": ClickMap(x="stage", y="city", column="stuck"),
}


@dataclass(frozen=True)
class DrillRequest:
    """What was clicked, as ``deal_page`` takes it; ``previous``: in the compared period."""

    metric_id: str
    column: str
    stage: str | None = None
    status: str | None = None
    group: dict[str, object] = field(default_factory=dict)
    previous: bool = False

    def to_store(self) -> dict[str, object]:
        return asdict(self)

    def deals_of(self) -> dict[str, object]:
        """What ``deal_page`` and ``deal_list`` take besides the snapshot, filters and metric."""
        return {"column": self.column, "stage": self.stage, "status": self.status, "group": self.group}

    @classmethod
    def from_store(cls, data: Mapping[str, object]) -> DrillRequest:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})  # type: ignore[arg-type]


def _request(metric_id: str, column: str, keys: Mapping[str, object], by: tuple[str, ...]) -> DrillRequest | None:
    drill = DRILLS.get(metric_id)
    previous = column.endswith(PREV)
    column = column.removesuffix(PREV)
    if drill is None or column not in drill.columns:
        return None
    stage = keys.get("stage")
    if drill.needs_stage and stage is None:
        return None
    group = {k: keys[k] for k in by if k in keys}
    status = keys.get("status")
    return DrillRequest(metric_id, column, stage, status, group, previous)  # type: ignore[arg-type]


def from_cell(metric_id: str, by: tuple[str, ...], cell: Mapping[str, object]) -> DrillRequest | None:
    """A grid click (dash-ag-grid ``cellClicked``: ``colId``, ``rowId``)."""
    try:
        keys = json.loads(str(cell.get("rowId")))
    except ValueError:
        return None
    if not isinstance(keys, dict):
        return None
    return _request(metric_id, str(cell.get("colId") or ""), keys, by)


def _match(df: pl.DataFrame, col: str, label: object, lang: str, grain: str) -> tuple[bool, object]:
    """The value of ``col`` whose label (as the grid and the charts write it) is ``label``."""
    if col not in df.columns:
        return False, None
    for value in df[col].unique(maintain_order=True).to_list():
        if format_cell(col, value, lang, grain) == label or value == label:
            return True, value.isoformat() if hasattr(value, "isoformat") else value
    return False, None


def from_point(
    panel_id: str,
    metric_id: str,
    by: tuple[str, ...],
    df: pl.DataFrame,
    point: Mapping[str, object],
    trace_name: str | None,
    lang: str,
    grain: str,
) -> DrillRequest | None:
    """A chart click (plotly ``clickData`` point, and its trace's name) on the metric's table ``df``."""
    clicks = CLICKS.get(panel_id)
    drill = DRILLS.get(metric_id)
    if clicks is None or drill is None:
        return None
    column = clicks.column or drill.columns[0]
    keys: dict[str, object] = {}
    for axis, label in (("x", point.get("x")), ("y", point.get("y")), ("trace", trace_name)):
        col = getattr(clicks, axis)
        if col is None:
            continue
        if col == "column":
            names = {stage_label(c, lang): c for c in drill.columns} | {column_label(c, lang): c for c in drill.columns}
            if label not in names:
                return None
            column = names[label]  # type: ignore[index]
            continue
        found, value = _match(df, col, label, lang, grain)
        if not found:
            return None
        keys[col] = value
    return _request(metric_id, column, keys, by)


def _typed(col: str, value: object) -> object:
    """A key value as the metric has it (a bucket travels as ISO text)."""
    return date.fromisoformat(value) if col == "bucket" and isinstance(value, str) else value


def title(request: DrillRequest, metric_title: str, total: int, lang: str, grain: str) -> str:
    """«Воронка когорты · Дошли · Записан на консультацию · Москва — 3 сделки»."""
    parts = [metric_title, column_label(request.column, lang)]
    if request.previous:
        parts.append(t("drill_previous", lang))
    if request.stage:
        parts.append(stage_label(request.stage, lang))
    if request.status and request.status != (stage_label(request.stage, lang) if request.stage else None):
        parts.append(request.status)  # the account's status, when it says more than the stage
    parts += [format_cell(k, _typed(k, v), lang, grain) for k, v in request.group.items()]
    return " · ".join(str(p) for p in parts) + f" — {t('drill_count', lang, n=fmt_number(total, lang))}"


DEAL_COLUMNS = ("deal_id", "city", "manager", "channel", "stage", "created_at", "stage_entered_at", "days_in_stage")
TEXT_COLUMNS = ("city", "manager", "channel", "stage")
TIME_COLUMNS = ("created_at", "stage_entered_at")


def deal_records(df: pl.DataFrame, lang: str, timezone: str) -> list[dict[str, object]]:
    """The deals as grid rows, lean (a list can be a thousand rows): numbers raw, names as their
    text (which is how they sort), times as UTC ``YYYY-MM-DDTHH:MM`` to sort by and their local
    text (``<col>__t``) to show, and the deal's URL for its link when there is one."""
    out = []
    zone = ZoneInfo(timezone)
    for row in df.iter_rows(named=True):
        record: dict[str, object] = {"deal_id": row["deal_id"], "days_in_stage": row["days_in_stage"]}
        for col in TEXT_COLUMNS:
            record[col] = format_cell(col, row[col], lang, "day")
        for col in TIME_COLUMNS:
            value = row[col]
            record[col] = value.strftime("%Y-%m-%dT%H:%M") if value else None
            record[col + TEXT] = fmt_datetime(value.astimezone(zone), lang) if value else "—"
        if row["url"]:
            record["url"] = row["url"]
        out.append(record)
    return out


def _deal_column(col: str, lang: str) -> dict[str, object]:
    label = column_label(col, lang)
    spec: dict[str, object] = {"colId": col, "field": col, "headerName": label, "headerTooltip": label}
    if col == "deal_id":
        # assets/dashAgGridComponentFunctions.js: the id as a link to the deal, in a new tab
        spec |= {"cellRenderer": "DealLink", "pinned": "left", "filter": "agNumberColumnFilter"}
    elif col in TIME_COLUMNS:
        text = {"function": f"params.data ? params.data['{col}{TEXT}'] : ''"}
        spec |= {"valueFormatter": text, "filterValueGetter": text}
    elif col == "days_in_stage":
        spec |= {"type": "rightAligned", "filter": "agNumberColumnFilter"}
    return spec


def deal_grid(df: pl.DataFrame, lang: str, timezone: str) -> dag.AgGrid:
    """The deal list: the id links to the deal in a new tab; every column sorts; the columns fit
    the window's width."""
    options: dict[str, object] = {"rowHeight": ROW_HEIGHT, "enableCellTextSelection": True}
    if lang != "en":
        options["localeText"] = GRID_LOCALE_RU
    return dag.AgGrid(
        id=ids.DRILL_GRID,
        rowData=deal_records(df, lang, timezone),
        columnDefs=[_deal_column(c, lang) for c in DEAL_COLUMNS],
        defaultColDef={"sortable": True, "filter": True, "resizable": True},
        columnSize="responsiveSizeToFit",
        dashGridOptions=options,
        style={"height": "60vh", "width": "100%"},
        className="report-grid",
    )


def body(df: pl.DataFrame, total: int, lang: str, timezone: str, filters_line: str) -> list:
    """The filters the list is under, a note when it is cut, the grid."""
    out: list = [html.P(filters_line, className="small text-muted mb-2")]
    if total > df.height:
        out.append(html.P(t("drill_cut", lang, n=fmt_number(df.height, lang)), className="small mb-2"))
    out.append(deal_grid(df, lang, timezone))
    return out


def filters_line(date_from, date_to, cities, managers, channel: str, lang: str) -> str:
    """«01.01.2026 – 30.06.2026 · Москва · Все воронки»: what the list is filtered by."""
    parts = [f"{fmt_date(date_from, lang)} – {fmt_date(date_to, lang)}"]
    parts.append(", ".join(cities) if cities else t("all_cities", lang))
    if managers:
        parts.append(", ".join(managers))
    parts.append(f"{t('channel', lang)}: {t(f'ch_{channel}', lang).lower()}")
    return " · ".join(parts)


def modal(lang: str) -> html.Div:
    """The drill-down window (empty until a click), its CSV button and what it lists."""
    return html.Div(
        [
            dbc.Modal(
                [
                    dbc.ModalHeader(dbc.ModalTitle(id=ids.DRILL_TITLE, className="h6")),
                    dbc.ModalBody(id=ids.DRILL_BODY),
                    dbc.ModalFooter(
                        dbc.Button(
                            ["⬇ ", T("download_csv", lang)],
                            id=ids.DRILL_CSV,
                            size="sm",
                            color="secondary",
                            outline=True,
                        )
                    ),
                ],
                id=ids.DRILL_MODAL,
                size="xl",
                fullscreen="md-down",
                is_open=False,
                scrollable=True,
            ),
            dcc.Store(id=ids.DRILL_REQUEST),
            dcc.Download(id=ids.DRILL_DOWNLOAD),
        ]
    )
