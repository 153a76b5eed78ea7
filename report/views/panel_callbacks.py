"""Callbacks of one panel: its downloads, its «показать все» switch and its drill-down.

Both re-run exactly the metric call the view made (same filters, same breakdown, so the same
cache key): what is downloaded or redrawn is what the tab shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import dash
import flask
from dash import ALL, MATCH, Input, Output, State, ctx, dcc, html, no_update

from report import downloads, ids, urlstate
from report.formatting import fmt_datetime
from report.i18n import t
from report.metrics.compare import shifted
from report.metrics.drill import deal_list, deal_page
from report.metrics.filters import Filters
from report.metrics.periods import partial_buckets
from report.urlstate import ViewState
from report.views import drilldown, frame
from report.views.panels import compute, draw, figure_of, metric_texts, rows_note

if TYPE_CHECKING:
    from report.source import SnapshotSource


def register(app: dash.Dash, source: SnapshotSource, default_lang: str, base_url: str = "") -> None:
    """``base_url``: the report's address for the XLSX's absolute link ("" = the request's)."""
    _register_show_all(app, source)
    _register_rank(app, source)
    _register_downloads(app, source, default_lang, base_url)
    _register_drill(app, source)
    _register_drill_csv(app, source)


def _redraw(source: SnapshotSource, data: dict, *, every: bool = False, rank: str | None = None):
    """The panel whose control fired, drawn again for the view in ``data`` with the same calls
    as its card (comparison, totals, cut buckets): (state, panel, children, meta), or None when
    there is no snapshot or no such panel."""
    from report.views import find_panel

    state = ViewState.from_store(data)
    info = source.get()
    panel = find_panel(ctx.triggered_id["panel"], state)
    if info is None or panel is None:
        return None
    filters = state.filters(info.today)
    mode = state.compare_mode
    df = compute(info.snap, panel.metric_id(state), filters, panel.by, mode)
    totals = compute(info.snap, panel.metric_id(state), filters, (), mode) if panel.totals_key else None
    cut = partial_buckets(filters, info.today)
    children, meta = draw(panel, state, df, totals, every=every, partial=cut, rank=rank)
    return state, panel, children, meta


def _register_show_all(app: dash.Dash, source: SnapshotSource) -> None:
    @app.callback(
        Output({"type": ids.PANEL_BODY, "panel": MATCH}, "children"),
        Output({"type": ids.ROWS_NOTE, "panel": MATCH}, "children"),
        Input({"type": ids.SHOW_ALL, "panel": MATCH}, "value"),
        State(ids.STATE, "data"),
        prevent_initial_call=True,
    )
    def show_all(every, data):
        drawn = _redraw(source, data, every=bool(every))
        if drawn is None:
            return no_update, no_update
        state, _panel, children, meta = drawn
        return children, rows_note(meta, state.lang, bool(every))


def _register_rank(app: dash.Dash, source: SnapshotSource) -> None:
    """A ranking panel's «Ранжировать по»: chart and table redrawn in the chosen order."""

    @app.callback(
        Output({"type": ids.RANK_BODY, "panel": MATCH}, "children"),
        Input({"type": ids.RANK, "panel": MATCH}, "value"),
        State(ids.STATE, "data"),
        prevent_initial_call=True,
    )
    def rank(column, data):
        drawn = _redraw(source, data, rank=column)
        if drawn is None:
            return no_update
        _state, panel, children, _meta = drawn
        return html.Div(children, id=ids.panel_id(ids.PANEL_BODY, panel.id))


def absolute_link(relative: str, base_url: str, host_url: str) -> str:
    """The view's link as an address: the configured base URL, else the one the request came to."""
    return (base_url or host_url).rstrip("/") + relative


def _register_downloads(app: dash.Dash, source: SnapshotSource, default_lang: str, base_url: str) -> None:
    """CSV/XLSX of one panel: the same metric call (same filters, same cache key) as the view."""

    @app.callback(
        Output(ids.DOWNLOAD, "data"),
        Input({"type": ids.DL_BUTTON, "panel": ALL, "fmt": ALL}, "n_clicks"),
        State(ids.STATE, "data"),
        prevent_initial_call=True,
    )
    def download(_clicks, data):
        trigger = ctx.triggered_id
        if not trigger or not ctx.triggered or not ctx.triggered[0].get("value"):
            return no_update  # buttons re-created by a re-render, not clicked
        from report.views import find_panel

        state = ViewState.from_store(data)
        info = source.get()
        panel = find_panel(trigger["panel"], state)
        if info is None or panel is None:
            return no_update
        filters = state.filters(info.today)
        metric_id = panel.metric_id(state)
        df = compute(info.snap, metric_id, filters, panel.by, state.compare_mode)
        fmt = trigger["fmt"]
        name = downloads.filename(metric_id, filters.date_from, filters.date_to, fmt)
        lang = state.lang
        if fmt == "csv":
            return dcc.send_bytes(downloads.to_csv(df), name)
        if fmt == "excel_csv":
            return dcc.send_bytes(downloads.to_excel_csv(df, lang), name.removesuffix(".excel_csv") + "_excel.csv")
        title, definition = metric_texts(metric_id, lang, filters.hours)
        names = dict(zip(info.users["user_id"].to_list(), info.users["name"].to_list(), strict=True))
        rows = downloads.filter_rows(
            lang=lang,
            tab_label=frame.tab_label(state.tab, lang),
            period_label=t(f"p_{state.period}", lang),
            date_from=filters.date_from,
            date_to=filters.date_to,
            grain_label=t(f"g_{filters.grain}", lang),
            cities=filters.cities,
            managers=[names.get(m, str(m)) for m in filters.managers],
            channel_label=t(f"c_{filters.channel}", lang),
            as_of=filters.effective_as_of,
            snapshot_id=info.snap.id,
            data_as_of=fmt_datetime(info.snap.data_as_of.astimezone(ZoneInfo(info.snap.timezone)), lang),
            link=absolute_link(urlstate.href(state, default_lang=default_lang), base_url, flask.request.host_url),
        )
        content = downloads.to_xlsx(df, lang=lang, title=title, definition=definition, filter_rows=rows)
        return dcc.send_bytes(content, name)


def _register_drill(app: dash.Dash, source: SnapshotSource) -> None:
    """A click on a count (a chart point or a grid cell) of a panel in ``drilldown.CLICKS``
    opens the list of its deals; the window's CSV button downloads the whole list."""
    closed = (no_update,) * 4

    @app.callback(
        Output(ids.DRILL_MODAL, "is_open"),
        Output(ids.DRILL_TITLE, "children"),
        Output(ids.DRILL_BODY, "children"),
        Output(ids.DRILL_REQUEST, "data"),
        Input({"type": ids.GRAPH, "panel": ALL}, "clickData"),
        Input({"type": ids.TABLE, "panel": ALL}, "cellClicked"),
        State({"type": ids.SHOW_ALL, "panel": ALL}, "value"),
        State(ids.STATE, "data"),
        prevent_initial_call=True,
    )
    def drill(_points, _cells, _every, data):
        trigger = ctx.triggered_id
        clicked = ctx.triggered[0].get("value") if ctx.triggered else None
        if not trigger or not clicked:
            return closed  # graphs and grids re-created by a re-render, not clicked
        from report.views import find_panel

        state = ViewState.from_store(data)
        info = source.get()
        panel = find_panel(trigger["panel"], state)
        if info is None or panel is None or panel.id not in drilldown.CLICKS:
            return closed
        metric_id = panel.metric_id(state)
        filters = state.filters(info.today)
        if trigger["type"] == ids.TABLE:
            request = drilldown.from_cell(metric_id, panel.by, clicked)
        else:
            point = (clicked.get("points") or [{}])[0]
            df = compute(info.snap, metric_id, filters, panel.by)
            trace = None
            if panel.figure is not None and "curveNumber" in point:
                every = any(
                    s["id"]["panel"] == panel.id and s.get("value") for s in ctx.states_list[0] if isinstance(s, dict)
                )
                shown = panel.rows(df, state) if panel.rows is not None else df
                traces = figure_of(panel, state, shown, every, partial_buckets(filters, info.today)).data
                trace = traces[point["curveNumber"]].get("name") if point["curveNumber"] < len(traces) else None
            request = drilldown.from_point(panel.id, metric_id, panel.by, df, point, trace, state.lang, state.grain)
        if request is None:
            return closed
        return (True, *_drill_window(request, state, info))


def _drill_window(request: drilldown.DrillRequest, state: ViewState, info) -> tuple[str, list, dict]:
    filters = _drill_filters(request, state, info.today)
    rows, total = deal_page(info.snap, filters, request.metric_id, **request.deals_of(), limit=drilldown.LIMIT)
    names = dict(zip(info.users["user_id"].to_list(), info.users["name"].to_list(), strict=True))
    line = drilldown.filters_line(
        filters.date_from,
        filters.date_to,
        filters.cities,
        [names.get(m, str(m)) for m in filters.managers],
        filters.channel,
        state.lang,
    )
    title = drilldown.title(request, metric_texts(request.metric_id, state.lang)[0], total, state.lang, state.grain)
    body = drilldown.body(rows, total, state.lang, info.snap.timezone, line)
    return title, body, request.to_store()


def _drill_filters(request: drilldown.DrillRequest, state: ViewState, today) -> Filters:
    """The view's filters, or the compared period's for a ``_prev`` figure."""
    filters = state.filters(today)
    return shifted(filters, state.compare_mode) if request.previous and state.compare_mode else filters


def _register_drill_csv(app: dash.Dash, source: SnapshotSource) -> None:
    @app.callback(
        Output(ids.DRILL_DOWNLOAD, "data"),
        Input(ids.DRILL_CSV, "n_clicks"),
        State(ids.DRILL_REQUEST, "data"),
        State(ids.STATE, "data"),
        prevent_initial_call=True,
    )
    def drill_csv(clicks, request_data, data):
        info = source.get()
        if not clicks or not request_data or info is None:
            return no_update
        request = drilldown.DrillRequest.from_store(request_data)
        state = ViewState.from_store(data)
        filters = _drill_filters(request, state, info.today)
        df = deal_list(info.snap, filters, request.metric_id, **request.deals_of())
        name = downloads.filename(f"deals.{request.metric_id}", filters.date_from, filters.date_to, "csv")
        return dcc.send_bytes(downloads.to_csv(df), name)
