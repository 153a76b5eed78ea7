"""A panel = one metric call drawn as a chart with its table and downloads underneath.

Tab modules declare their panels; :func:`run` makes one round of metric calls (through the
cache) and :func:`card` lays each out. Nothing here filters or adds up data: the metric does.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date

import dash_bootstrap_components as dbc
import polars as pl
from dash import dcc, html

from etl.snapshot.store import Snapshot
from report import ids
from report.cache import compute_metric
from report.figures import all_rows
from report.figures.plain import Figure
from report.i18n import column_label, t
from report.metrics.compare import compare_with
from report.metrics.filters import Filters
from report.metrics.periods import with_partial
from report.urlstate import ViewState
from report.views.drilldown import CLICKS
from report.views.grid import grid

log = logging.getLogger(__name__)

FigureFn = Callable[[pl.DataFrame, ViewState], Figure]


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
    #: The rows the panel shows, derived from the metric's (e.g. a grouping column): the chart
    #: and the table both get them, so the table can follow the chart's order. Exports keep the
    #: metric's own rows.
    rows: Callable[[pl.DataFrame, ViewState], pl.DataFrame] | None = None
    #: A ranking panel: the columns it can rank by (first = default), chosen in the card; its
    #: ``figure`` then takes the column as a third argument, and the table follows the chart.
    ranks: tuple[str, ...] = ()

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


def graph(fig: Figure, panel_id: str, lang: str) -> dcc.Graph:
    """The figure at its own height (the container is sized to it, the width follows the card)."""
    height = fig.layout.get("height") or 320
    return dcc.Graph(
        id=ids.panel_id(ids.GRAPH, panel_id),
        figure=fig.to_dict(),
        responsive=True,
        style={"height": f"{height}px"},
        config={
            "locale": "en" if lang == "en" else "ru",
            "displaylogo": False,
            "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "zoom2d", "pan2d"],
        },
        className="mb-2",
    )


#: The panel's downloads: the contract CSV, the CSV for a Russian Excel, the XLSX.
DOWNLOADS = ("csv", "excel_csv", "xlsx")


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
            for fmt in DOWNLOADS
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


def figure_of(
    panel: Panel,
    state: ViewState,
    df: pl.DataFrame,
    every: bool = False,
    partial: frozenset[date] = frozenset(),
    rank: str | None = None,
) -> Figure:
    """The panel's chart of ``df`` (its derived rows), as :func:`draw` draws it: ``every``: all
    groups, not its top N; ``partial``: the cut buckets it marks; ``rank``: a ranking panel's column."""
    assert panel.figure is not None
    with all_rows() if every else nullcontext():
        shown = with_partial(df, partial) if partial else df
        if panel.ranks:
            return panel.figure(shown, state, rank if rank in panel.ranks else panel.ranks[0])  # type: ignore[call-arg]
        return panel.figure(shown, state)


def draw(
    panel: Panel,
    state: ViewState,
    df: pl.DataFrame,
    totals: pl.DataFrame | None = None,
    every: bool = False,
    partial: frozenset[date] = frozenset(),
    rank: str | None = None,
) -> tuple[list, dict | None]:
    """The panel's chart and table (``every``: the chart draws all groups, not its top N), and
    what the chart says about its rows (see ``figures.base.mark_rows``). ``partial``: the
    buckets cut short (``metrics.periods.partial_buckets``), which the chart marks. ``rank``: the
    column a ranking panel ranks by (its first by default)."""
    children: list = []
    meta = None
    if panel.rows is not None:
        df = panel.rows(df, state)
    if panel.figure is not None:
        fig = figure_of(panel, state, df, every, partial, rank)
        meta = fig.layout.get("meta")
        children.append(graph(fig, panel.id, state.lang))
    if panel.table:
        children.append(grid(ordered(df, meta), totals, panel.id, state.lang, state.grain, keys=panel.id in CLICKS))
    return children, meta


def rows_note(meta: dict | None, lang: str, every: bool) -> str:
    """«показаны N из M» while the chart leaves groups out, «показаны все M» once it shows all,
    then how many groups have no value to draw (they are only in the table)."""
    if not meta:
        return ""
    cut = not every and len(meta["order"]) < meta["total"]
    shown = (
        t("rows_shown", lang, n=len(meta["order"]), m=meta["total"]) if cut else t("rows_all", lang, m=meta["total"])
    )
    missing = meta.get("no_value", 0)
    return f"{shown} · {t('rows_no_value', lang, k=missing)}" if missing else shown


def rows_control(panel_id: str, meta: dict | None, lang: str) -> html.Div | None:
    """On a chart that left groups out: the note and a switch that draws them all; on one with
    groups it cannot draw: the note alone."""
    if not meta:
        return None
    cut = len(meta["order"]) < meta["total"]
    if not cut and not meta.get("no_value"):
        return None
    note = html.Span(rows_note(meta, lang, False), id=ids.panel_id(ids.ROWS_NOTE, panel_id), className="me-3")
    switch = dbc.Switch(
        id=ids.panel_id(ids.SHOW_ALL, panel_id),
        label=t("show_all", lang),
        value=False,
        className="d-inline-block mb-0",
    )
    return html.Div(
        [note, switch] if cut else [note],
        className="small text-muted mb-1 d-flex flex-wrap align-items-center",
    )


def rank_control(panel: Panel, lang: str) -> html.Div | None:
    """«Ранжировать по»: which column a ranking panel's chart and table are ordered by."""
    if not panel.ranks:
        return None
    return html.Div(
        [
            html.Label(t("rank_by", lang), className="small text-muted me-2 mb-0"),
            dcc.Dropdown(
                id=ids.panel_id(ids.RANK, panel.id),
                options=[{"label": column_label(c, lang), "value": c} for c in panel.ranks],
                value=panel.ranks[0],
                clearable=False,
                searchable=False,
                style={"minWidth": "16rem"},
            ),
        ],
        className="d-flex flex-wrap align-items-center mb-2",
    )


def card_title(panel: Panel, state: ViewState) -> str:
    title, _definition = metric_texts(panel.metric_id(state), state.lang, state.hours)
    if panel.subtitle:
        title = f"{title}: {panel.subtitle[1] if state.lang == 'en' else panel.subtitle[0]}"
    return title


def shell(panel: Panel, state: ViewState) -> dbc.Col:
    """The panel's card as the tab lays it out: its title, and a placeholder where its body
    comes once the panel's own callback has drawn it.

    The placeholder carries the view (``data-view``); assets/lazyPanels.js hands it to the
    card's ``PANEL_VIEW`` store when the placeholder comes near the window, which starts the
    panel's callback. Choice: panels out of view are drawn when scrolled to (within a quarter window
    height), not all at once: the first screen comes first, and the server draws what is read."""
    placeholder = html.Div(
        dbc.Placeholder(xs=12, animation="glow", style={"height": "12rem"}),
        className="panel-placeholder",
        **{"data-panel": panel.id, "data-view": json.dumps(state.to_store(), sort_keys=True)},
    )
    return dbc.Col(
        dbc.Card(
            [
                dbc.CardHeader(html.H3(card_title(panel, state), className="h6 mb-0")),
                dbc.CardBody(html.Div(placeholder, id=ids.panel_id(ids.PANEL_SLOT, panel.id))),
                dcc.Store(id=ids.panel_id(ids.PANEL_VIEW, panel.id)),
            ],
            id=ids.panel_id(ids.PANEL, panel.id),
            className="h-100 shadow-sm",
        ),
        xs=12,
        lg=panel.width,
        className="mb-3",
    )


def card_body(
    panel: Panel,
    state: ViewState,
    df: pl.DataFrame | None,
    error: str | None,
    totals: pl.DataFrame | None = None,
    partial: frozenset[date] = frozenset(),
) -> list:
    """What the card holds under its title: the definition, then the chart, table and downloads
    (or the error)."""
    lang = state.lang
    _title, definition = metric_texts(panel.metric_id(state), lang, state.hours)
    body: list = [html.P(definition, className="small text-muted mb-2")] if definition else []
    if panel.note:
        body.append(html.P(t(panel.note, lang), className="small text-muted mb-2 panel-note"))
    if error is not None:
        body.append(dbc.Alert(error, color="danger", className="small"))
    elif df is not None:
        children, meta = draw(panel, state, df, totals, partial=partial)
        body.append(rank_control(panel, lang))
        body.append(rows_control(panel.id, meta, lang))
        drillable = "drillable" if panel.id in CLICKS else None
        inner = html.Div(children, id=ids.panel_id(ids.PANEL_BODY, panel.id), className=drillable)
        body.append(html.Div(inner, id=ids.panel_id(ids.RANK_BODY, panel.id)) if panel.ranks else inner)
        body.append(download_buttons(panel.id, lang))
    return [b for b in body if b is not None]


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
