"""A panel = one metric call drawn as a chart with its table and downloads underneath.

Tab modules declare their panels; :func:`run` makes one round of metric calls (through the
cache) and :func:`card` lays each out. Nothing here filters or adds up data: the metric does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
import polars as pl
from dash import dcc, html

from etl.snapshot.store import Snapshot
from report import ids
from report.cache import compute_metric
from report.figures import all_rows
from report.i18n import t
from report.metrics.compare import compare_with
from report.metrics.filters import Filters
from report.urlstate import ViewState
from report.views.drilldown import CLICKS
from report.views.grid import grid

log = logging.getLogger(__name__)

FigureFn = Callable[[pl.DataFrame, ViewState], go.Figure]


@dataclass(frozen=True)
class Panel:
    """``metric`` may depend on the view (e.g. the funnel type); ``figure`` None = table only."""

    id: str
    metric: str | Callable[[ViewState], str]
    by: tuple[str, ...] = ()
    figure: FigureFn | None = None
    width: int = 6
    subtitle: tuple[str, str] | None = None  # (ru, en), e.g. "по городам"
    table: bool = True
    extra_class: str = field(default="")
    #: A footer of totals from the same metric's by=() call (one row). False where that call is
    #: not one row (a funnel by city: stages) or a total means nothing (a leaderboard).
    totals: bool = True
    #: An i18n key of a short text under the definition (what a table's parts mean), or None.
    note: str | None = None

    def metric_id(self, state: ViewState) -> str:
        return self.metric(state) if callable(self.metric) else self.metric

    @property
    def totals_key(self) -> str | None:
        """The result key of the totals call, None when the panel has none."""
        return f"{self.id}#total" if self.totals and self.by else None


def compute(
    snap: Snapshot, metric_id: str, filters: Filters, by: tuple[str, ...], compare: str | None = None
) -> pl.DataFrame:
    """Every metric call of the UI goes through the shared cache (it computes directly when unset).

    ``compare`` (``previous``/``year``): the same call over the compared period too, joined as
    ``<column>_prev`` columns by ``report.metrics.compare``."""
    if compare is None:
        return compute_metric(snap, metric_id, filters, by)
    return compare_with(lambda f: compute_metric(snap, metric_id, f, by), filters, by, compare)


def metric_texts(metric_id: str, lang: str, hours: str = "calendar") -> tuple[str, str]:
    """Title and definition from the registry (the id itself when the metric is not there yet);
    in business ``hours`` a duration metric's definition says what it then counts."""
    from report.metrics.registry import all_metrics

    metric = all_metrics().get(metric_id)
    if metric is None:
        return metric_id, ""
    return metric.title(lang), metric.definition(lang, hours)


def graph(fig: go.Figure, panel_id: str, lang: str) -> dcc.Graph:
    """The figure at its own height (the container is sized to it, the width follows the card)."""
    height = fig.layout.height or 320
    return dcc.Graph(
        id=ids.panel_id(ids.GRAPH, panel_id),
        figure=fig,
        responsive=True,
        style={"height": f"{height}px"},
        config={
            "locale": "en" if lang == "en" else "ru",
            "displaylogo": False,
            "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "zoom2d", "pan2d"],
        },
        className="mb-2",
    )


def download_buttons(panel_id: str, lang: str) -> html.Div:
    return html.Div(
        [
            dbc.Button(
                ["⬇ ", t(f"download_{fmt}", lang)],
                id=ids.panel_id(ids.DL_BUTTON, panel_id, fmt=fmt),
                size="sm",
                color="secondary",
                outline=True,
                className="me-1",
            )
            for fmt in ("csv", "xlsx")
        ],
        className="mt-2",
    )


def ordered(df: pl.DataFrame, meta: dict | None) -> pl.DataFrame:
    """The table's rows in the chart's order (top to bottom), rows the chart left out after them.

    Stable: rows of one group (a city's buckets, stages) keep the metric's order among them."""
    if not meta or meta.get("group") not in df.columns:
        return df
    rank = {value: i for i, value in enumerate(meta["order"])}
    ranks = [rank.get(v, len(rank)) for v in df[meta["group"]].to_list()]
    return df.with_columns(pl.Series("_rank", ranks)).sort("_rank", maintain_order=True).drop("_rank")


def figure_of(panel: Panel, state: ViewState, df: pl.DataFrame, every: bool = False) -> go.Figure:
    """The panel's chart (``every``: all groups, not its top N)."""
    assert panel.figure is not None
    with all_rows() if every else nullcontext():
        return panel.figure(df, state)


def draw(
    panel: Panel, state: ViewState, df: pl.DataFrame, totals: pl.DataFrame | None = None, every: bool = False
) -> tuple[list, dict | None]:
    """The panel's chart and table (``every``: the chart draws all groups, not its top N), and
    what the chart says about its rows (see ``figures.base.mark_rows``)."""
    children: list = []
    meta = None
    if panel.figure is not None:
        fig = figure_of(panel, state, df, every)
        meta = fig.layout.meta
        children.append(graph(fig, panel.id, state.lang))
    if panel.table:
        children.append(grid(ordered(df, meta), totals, panel.id, state.lang, state.grain))
    return children, meta


def rows_note(meta: dict | None, lang: str, every: bool) -> str:
    """«показаны N из M» while the chart leaves groups out, «показаны все M» once it shows all."""
    if not meta:
        return ""
    return (
        t("rows_all", lang, m=meta["total"]) if every else t("rows_shown", lang, n=len(meta["order"]), m=meta["total"])
    )


def rows_control(panel_id: str, meta: dict | None, lang: str) -> html.Div | None:
    """Only on a chart that left groups out: the note and a switch that draws them all."""
    if not meta or len(meta["order"]) >= meta["total"]:
        return None
    return html.Div(
        [
            html.Span(rows_note(meta, lang, False), id=ids.panel_id(ids.ROWS_NOTE, panel_id), className="me-3"),
            dbc.Switch(
                id=ids.panel_id(ids.SHOW_ALL, panel_id),
                label=t("show_all", lang),
                value=False,
                className="d-inline-block mb-0",
            ),
        ],
        className="small text-muted mb-1 d-flex flex-wrap align-items-center",
    )


def card(
    panel: Panel, state: ViewState, df: pl.DataFrame | None, error: str | None, totals: pl.DataFrame | None = None
) -> dbc.Col:
    lang = state.lang
    metric_id = panel.metric_id(state)
    title, definition = metric_texts(metric_id, lang, state.hours)
    if panel.subtitle:
        title = f"{title}: {panel.subtitle[1] if lang == 'en' else panel.subtitle[0]}"
    body: list = [html.P(definition, className="small text-muted mb-2")] if definition else []
    if panel.note:
        body.append(html.P(t(panel.note, lang), className="small text-muted mb-2 panel-note"))
    if error is not None:
        body.append(dbc.Alert(error, color="danger", className="small"))
    elif df is not None:
        children, meta = draw(panel, state, df, totals)
        body.append(rows_control(panel.id, meta, lang))
        drillable = "drillable" if panel.id in CLICKS else None
        body.append(html.Div(children, id=ids.panel_id(ids.PANEL_BODY, panel.id), className=drillable))
        body.append(download_buttons(panel.id, lang))
    return dbc.Col(
        dbc.Card(
            [dbc.CardHeader(html.H3(title, className="h6 mb-0")), dbc.CardBody(body)],
            id=ids.panel_id(ids.PANEL, panel.id),
            className="h-100 shadow-sm",
        ),
        xs=12,
        lg=panel.width,
        className="mb-3",
    )


def run(
    queries: list[tuple[str, str, tuple[str, ...]]],
    snap: Snapshot,
    filters: Filters,
    lang: str,
    compare: str | None = None,
    plain: tuple[str, ...] = (),
) -> tuple[dict[str, pl.DataFrame], dict[str, str]]:
    """One round of metric calls: key → DataFrame, and key → error text for the ones that failed.
    ``compare``: every call also over the compared period, except the keys in ``plain``."""
    results: dict[str, pl.DataFrame] = {}
    errors: dict[str, str] = {}
    for key, metric_id, by in queries:
        try:
            results[key] = compute(snap, metric_id, filters, by, None if key in plain else compare)
        except KeyError:
            errors[key] = t("not_ready", lang)
        except Exception as exc:  # one broken metric must not blank the whole tab
            log.exception("metric %s failed", metric_id)
            errors[key] = t("error", lang, v=f"{type(exc).__name__}: {exc}")
    return results, errors
