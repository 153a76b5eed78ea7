"""The admin panel in the report's header: refresh button, progress bar with stage and counts, cancel.

The layout shows the controls only to a signed-in admin, but that is convenience: every callback
re-checks the admin session on the server, and a callback posted without it refuses to act.
The status poll (a ``dcc.Interval``) is enabled only while a refresh runs.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
import flask
from dash import Input, Output, State, ctx, dcc, html, no_update

from report import ids as report_ids
from report.admin import ids, jobs, security
from report.admin.routes import AdminContext, context, current_admin, refresh_status, start_refresh
from report.admin.texts import result_text, stage_text, t

POLL_MS = 700
HIDDEN = {"display": "none"}


def _visible(flag: bool, base: dict[str, str] | None = None) -> dict[str, str]:
    return dict(base or {}) if flag else dict(HIDDEN)


def panel_layout(lang: str) -> html.Div:
    """The header's admin slot; what it shows depends on this request's session (re-checked later)."""
    actx = context() if flask.has_request_context() else None
    user = current_admin(actx) if actx else None
    enabled = bool(actx and actx.settings.admin_enabled)
    cur = jobs.read_json(jobs.RefreshPaths.of(actx.data_dir).current) if (user and actx) else None
    running = bool(cur and cur.get("refresh_id"))
    # A page opened mid-refresh watches it too: it re-renders from the new snapshot when it lands.
    job = {"refresh_id": cur["refresh_id"], "joined": True} if running and cur else None
    return html.Div(
        [
            html.Div(
                [
                    dbc.Button(
                        t("refresh", lang), id=ids.REFRESH, size="sm", color="primary", className="me-2", n_clicks=0
                    ),
                    dbc.Button(
                        t("cancel", lang),
                        id=ids.CANCEL,
                        size="sm",
                        color="outline-danger",
                        className="me-2",
                        n_clicks=0,
                        style=_visible(running),
                    ),
                    html.Span(t("admin_as", lang, user=user or ""), id=ids.USER, className="small text-muted me-2"),
                    _logout_form(lang, user),
                ],
                id=ids.CONTROLS,
                # Inline flex, not Bootstrap's d-flex: its !important would beat display: none.
                style=_visible(bool(user), {"display": "flex", "alignItems": "center"}),
            ),
            html.A(
                t("login", lang),
                id=ids.LOGIN_LINK,
                href="/admin/login" + ("?lang=en" if lang == "en" else ""),  # back to the view via Referer
                className="small",
                style=_visible(enabled and not user),
            ),
            html.Div(
                [
                    dbc.Progress(id=ids.PROGRESS, value=0, striped=True, animated=True, style={"height": "1rem"}),
                    html.Div(id=ids.STAGE, className="small text-muted"),
                ],
                id=ids.PROGRESS_WRAP,
                style=_visible(running, {"minWidth": "16rem", "marginTop": "0.25rem"}),
            ),
            html.Div(id=ids.MESSAGE, className="small"),
            html.Div(id=ids.RESULT, className="small", style={"maxWidth": "32rem"}),
            dcc.Store(id=ids.JOB, data=job),
            dcc.Interval(id=ids.INTERVAL, interval=POLL_MS, disabled=not running),
        ],
        id=ids.ROOT,
    )


def _logout_form(lang: str, user: str | None) -> html.Form:
    """Sign-out is a POST carrying this session's CSRF token: no other site can sign the admin out."""
    token = security.csrf_token() if user and flask.has_request_context() else ""
    return html.Form(
        [
            dcc.Input(type="hidden", name="csrf", value=token, id=ids.LOGOUT + "-csrf"),
            html.Button(t("logout", lang), id=ids.LOGOUT, type="submit", className="btn btn-link btn-sm p-0 small"),
        ],
        action="/admin/logout",
        method="POST",
        className="d-inline m-0",
    )


def _lang_of(state: Any, default: str) -> str:
    lang = state.get("lang") if isinstance(state, dict) else None
    return lang if lang in ("ru", "en") else default


def register_callbacks(app: dash.Dash, actx: AdminContext) -> None:
    """Register the panel's callbacks on this app instance (never module-level)."""

    @app.callback(
        Output(ids.JOB, "data"),
        Output(ids.MESSAGE, "children"),
        Output(ids.INTERVAL, "disabled"),
        Input(ids.REFRESH, "n_clicks"),
        Input(ids.CANCEL, "n_clicks"),
        State(report_ids.STATE, "data"),
        prevent_initial_call=True,
    )
    def act(_refresh_clicks, _cancel_clicks, state):
        """Start/join or cancel — only for an admin session, checked here on the server."""
        lang = _lang_of(state, actx.default_lang)
        user = current_admin(actx)
        if user is None:
            return no_update, dbc.Alert(t("refused", lang), color="danger", className="py-1 px-2 mb-0"), True
        if ctx.triggered_id == ids.CANCEL:
            rid = jobs.cancel(actx.data_dir, actx.environ)
            return no_update, t("cancelling", lang) if rid else t("no_running", lang), False
        try:
            started = start_refresh(actx, user, "ui")
        except jobs.RefreshError as exc:
            return no_update, t("start_error", lang, reason=str(exc)), True
        message = t("joined", lang) if started.joined else t("starting", lang)
        return {"refresh_id": started.refresh_id, "joined": started.joined}, message, False

    @app.callback(
        Output(ids.REFRESH, "children"),
        Output(ids.CANCEL, "children"),
        Output(ids.LOGIN_LINK, "children"),
        Output(ids.LOGIN_LINK, "href"),
        Output(ids.LOGOUT, "children"),
        Output(ids.USER, "children"),
        Input(report_ids.LANG_SWITCH, "value"),
        prevent_initial_call=True,
    )
    def relabel(lang_value):
        """Follow the report's language switch (the layout was rendered in the default language)."""
        lang = _lang_of({"lang": lang_value}, actx.default_lang)
        href = "/admin/login" + ("?lang=en" if lang == "en" else "")
        user = current_admin(actx) or ""
        return (
            t("refresh", lang),
            t("cancel", lang),
            t("login", lang),
            href,
            t("logout", lang),
            t("admin_as", lang, user=user),
        )

    @app.callback(
        Output(ids.PROGRESS, "value"),
        Output(ids.PROGRESS, "label"),
        Output(ids.PROGRESS, "color"),
        Output(ids.PROGRESS, "animated"),
        Output(ids.PROGRESS_WRAP, "style"),
        Output(ids.STAGE, "children"),
        Output(ids.RESULT, "children"),
        Output(ids.MESSAGE, "children", allow_duplicate=True),
        Output(ids.INTERVAL, "disabled", allow_duplicate=True),
        Output(ids.REFRESH, "disabled"),
        Output(ids.CANCEL, "style"),
        Output(report_ids.STATE, "data", allow_duplicate=True),
        Input(ids.INTERVAL, "n_intervals"),
        Input(ids.JOB, "data"),
        State(report_ids.STATE, "data"),
        prevent_initial_call=True,
    )
    def poll(_n, job, state):
        """Progress while a refresh runs; its result in words when it ends; re-render on success."""
        lang = _lang_of(state, actx.default_lang)
        wrap_style = {"minWidth": "16rem", "marginTop": "0.25rem"}
        if current_admin(actx) is None:
            # A viewer's page polls nothing and is told nothing: the refusal is said only when a
            # non-admin actually presses refresh (``act``).
            return 0, "", "secondary", False, HIDDEN, "", "", "", True, True, HIDDEN, no_update
        st = refresh_status(actx)
        run = st.get("refresh")
        if st.get("running") and run:
            pct = int(run.get("percent") or 0)
            stage = stage_text(run, lang)
            if run.get("cancelling"):
                stage = f"{stage} — {t('cancelling', lang)}"
            return pct, f"{pct} %", "primary", True, wrap_style, stage, "", "", False, True, {}, no_update
        last = st.get("last") or {}
        watched = isinstance(job, dict) and job.get("refresh_id") and last.get("refresh_id") == job.get("refresh_id")
        text = result_text(last, lang) if last else ""
        color = {"succeeded": "success", "cancelled": "secondary"}.get(str(last.get("result")), "danger")
        result = dbc.Alert(text, color=color, className="py-1 px-2 mb-0") if text else ""
        new_state = no_update
        if watched and last.get("result") == "succeeded" and isinstance(state, dict):
            # Re-emit the view state (marked with the refresh) so the page re-renders from the new
            # snapshot; nothing else changes in the view.
            new_state = {**state, "_refreshed": last.get("refresh_id")}
        succeeded = last.get("result") == "succeeded"
        bar_style = wrap_style if watched and succeeded else HIDDEN  # a failure is said in words, not a bar
        pct = 100 if succeeded else 0
        stage = t("stage_done", lang) if succeeded else ""
        return pct, f"{pct} %", color, False, bar_style, stage, result, "", True, False, HIDDEN, new_state
