"""Callbacks of one panel: its downloads and its «показать все» switch.

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
from report.metrics.periods import partial_buckets
from report.urlstate import ViewState
from report.views import frame
from report.views.panels import compute, draw, metric_texts, rows_note

if TYPE_CHECKING:
    from report.app import SnapshotSource


def register(app: dash.Dash, source: SnapshotSource, default_lang: str, base_url: str = "") -> None:
    """``base_url``: the report's address for the XLSX's absolute link ("" = the request's)."""
    _register_show_all(app, source)
    _register_rank(app, source)
    _register_downloads(app, source, default_lang, base_url)


def _register_show_all(app: dash.Dash, source: SnapshotSource) -> None:
    @app.callback(
        Output({"type": ids.PANEL_BODY, "panel": MATCH}, "children"),
        Output({"type": ids.ROWS_NOTE, "panel": MATCH}, "children"),
        Input({"type": ids.SHOW_ALL, "panel": MATCH}, "value"),
        State(ids.STATE, "data"),
        prevent_initial_call=True,
    )
    def show_all(every, data):
        from report.views import find_panel

        state = ViewState.from_store(data)
        info = source.get()
        panel = find_panel(ctx.triggered_id["panel"], state)
        if info is None or panel is None:
            return no_update, no_update
        filters = state.filters(info.today)
        df = compute(info.snap, panel.metric_id(state), filters, panel.by)
        totals = compute(info.snap, panel.metric_id(state), filters, ()) if panel.totals_key else None
        cut = partial_buckets(filters, info.today)
        children, meta = draw(panel, state, df, totals, every=bool(every), partial=cut)
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
        from report.views import find_panel

        state = ViewState.from_store(data)
        info = source.get()
        panel = find_panel(ctx.triggered_id["panel"], state)
        if info is None or panel is None:
            return no_update
        df = compute(info.snap, panel.metric_id(state), state.filters(info.today), panel.by)
        children, _meta = draw(panel, state, df, rank=column)
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
        df = compute(info.snap, metric_id, filters, panel.by)
        fmt = trigger["fmt"]
        name = downloads.filename(metric_id, filters.date_from, filters.date_to, fmt)
        lang = state.lang
        if fmt == "csv":
            return dcc.send_bytes(downloads.to_csv(df), name)
        if fmt == "excel_csv":
            return dcc.send_bytes(downloads.to_excel_csv(df, lang), name.removesuffix(".excel_csv") + "_excel.csv")
        title, definition = metric_texts(metric_id, lang)
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
