"""The tab's page callback, each panel's callback and the managers list (registered per app by
``report.app``)."""

from __future__ import annotations

from datetime import UTC, datetime

import dash
import polars as pl
from dash import MATCH, Input, Output, ctx
from dash.exceptions import PreventUpdate

from etl.config import Config
from report import ids
from report.source import SnapshotSource
from report.urlstate import ViewState
from report.views import frame, hours_tabs


def manager_options(users: pl.DataFrame) -> list[dict]:
    """Dropdown options: the manager's name with the city, the user id as the value (the URL's key)."""
    return [
        {"label": f"{r['name']} ({r['city']})" if r["city"] else r["name"], "value": r["user_id"]}
        for r in users.iter_rows(named=True)
    ]


def register_page(app: dash.Dash, source: SnapshotSource, config: Config) -> None:
    @app.callback(
        Output(ids.MANAGERS, "options"),
        Input(ids.CITIES, "value"),
        Input(ids.STATE, "data"),
    )
    def narrowed_managers(cities, data):
        """Managers narrowed to the chosen cities (all managers when no city is chosen)."""
        info = source.get()
        if info is None:
            return []
        users = info.users
        if cities:
            users = users.filter(pl.col("city").is_in(list(cities)))
        chosen = ViewState.from_store(data).managers
        extra = info.users.filter(
            pl.col("user_id").is_in(list(chosen)) & ~pl.col("user_id").is_in(users["user_id"].to_list())
        )
        return manager_options(pl.concat([users, extra]))

    @app.callback(
        Output(ids.PAGE, "children"),
        Output(ids.DATA_AS_OF, "children"),
        Output(ids.CHANNEL_WRAP, "style"),
        Output(ids.FUNNEL_WRAP, "style"),
        Output(ids.AS_OF_WRAP, "style"),
        Output(ids.HOURS_WRAP, "style"),
        Output(ids.CC_WRAP, "style"),
        Input(ids.STATE, "data"),
        prevent_initial_call=True,
    )
    def page(data):
        from report.views import render_tab

        state = ViewState.from_store(data)
        info = source.get()
        now = datetime.now(UTC)
        as_of_line = frame.data_as_of_line(
            info.snap.data_as_of if info else None,
            info.snap.timezone if info else config.timezone,
            state.lang,
            config.stale_after_hours,
            now,
        )
        hide = {"display": "none"}
        funnel_style = None if state.tab == "funnels" else hide
        channel_style = hide if state.tab == "touches_office" else None
        hours_style = None if state.tab in hours_tabs() else hide
        cc_style = None if state.tab == "touches_office" else hide
        styles = (channel_style, funnel_style, funnel_style, hours_style, cc_style)
        if info is None:
            return [], as_of_line, *styles
        body = render_tab(state, info.snap, info.today, config)
        return body, as_of_line, *styles

    @app.callback(
        Output({"type": ids.PANEL_SLOT, "panel": MATCH}, "children"),
        Input({"type": ids.PANEL_VIEW, "panel": MATCH}, "data"),
    )
    def panel(data):
        """One panel's body, when its card appears (each panel has its own request, so the
        browser shows each as soon as it is drawn)."""
        from report.views import render_panel

        if not data:
            raise PreventUpdate  # not in view yet (assets/lazyPanels.js): the placeholder stays
        info = source.get()
        if info is None:
            return []
        return render_panel(ctx.outputs_list["id"]["panel"], ViewState.from_store(data), info.snap, info.today)
