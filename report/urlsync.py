"""The URL ⇄ filters callback and the frame's labels (registered per app by ``report.app``)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import dash
from dash import ALL, Input, Output, ctx, no_update

from report import ids, urlstate
from report.i18n import t
from report.source import SnapshotSource
from report.urlstate import ViewState
from report.views import frame


def _dates_of(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


#: The filter bar's controls and the property the URL sets, in the order of ``sync``'s arguments.
_CONTROLS = [
    (ids.TABS, "active_tab"),
    (ids.PERIOD, "value"),
    (ids.DATE_RANGE, "start_date"),
    (ids.DATE_RANGE, "end_date"),
    (ids.GRAIN, "value"),
    (ids.CITIES, "value"),
    (ids.MANAGERS, "value"),
    (ids.CHANNEL, "value"),
    (ids.FUNNEL, "value"),
    (ids.AS_OF, "date"),
    (ids.HOURS, "value"),
    (ids.COMPARE, "value"),
    (ids.CC, "value"),
    (ids.LANG_SWITCH, "value"),
]
_CONTROL_OUTPUTS = [Output(c, prop) for c, prop in _CONTROLS]
_CONTROL_INPUTS = [Input(c, prop) for c, prop in _CONTROLS]


def register_url_sync(app: dash.Dash, source: SnapshotSource, default_lang: str) -> None:
    """The one place the URL is read and written (dcc.Location only; every write is a history entry).

    URL changed (first load, Back, a pasted link) → parse, set the controls, don't write the URL.
    A control changed → build the state from all controls, write its canonical URL.
    """

    @app.callback(
        Output(ids.URL, "pathname"),
        Output(ids.URL, "search"),
        Output(ids.STATE, "data"),
        Output(ids.NOTICES, "children"),
        *_CONTROL_OUTPUTS,
        Input(ids.URL, "pathname"),
        Input(ids.URL, "search"),
        *_CONTROL_INPUTS,
    )
    def sync(
        pathname, search, tab, period, start, end, grain, cities, managers, channel, funnel, as_of, hours, compare, cc,
        lang,
    ):  # fmt: skip
        info = source.get()
        today = info.today if info else datetime.now(UTC).date()
        trigger = ctx.triggered_id
        if trigger is None or trigger == ids.URL:
            state, notices = urlstate.parse(
                pathname,
                search,
                known_cities=info.cities if info else None,
                known_managers=info.user_ids if info else None,
                default_lang=default_lang,
            )
            date_from, date_to = state.period_dates(today)
            controls = (
                state.tab,
                state.period,
                date_from.isoformat(),
                date_to.isoformat(),
                state.grain,
                list(state.cities),
                list(state.managers),
                state.channel,
                state.funnel,
                state.as_of.isoformat() if state.as_of else None,
                state.hours,
                state.compare,
                state.cc,
                state.lang,
            )
            return (no_update, no_update, state.to_store(), frame.notices_block(notices, state.lang), *controls)

        start_d, end_d = _dates_of(start), _dates_of(end)
        period = period or urlstate.DEFAULT_PERIOD
        out_start = out_end = no_update
        out_period = no_update
        if trigger == ids.DATE_RANGE:
            if start_d and end_d and start_d <= end_d:
                period = "custom"
                out_period = period
            else:
                return (no_update,) * (4 + len(_CONTROL_OUTPUTS))  # half-picked range: wait
        elif trigger == ids.PERIOD and period != "custom":
            start_d, end_d = urlstate.preset_dates(period, today)
            out_start, out_end = start_d.isoformat(), end_d.isoformat()
        state = ViewState(
            tab=tab if tab in urlstate.TAB_PATHS else "funnels",
            lang=lang if lang in urlstate.LANGS else default_lang,
            period=period,
            date_from=start_d if period == "custom" else None,
            date_to=end_d if period == "custom" else None,
            grain=grain or urlstate.DEFAULT_GRAIN,
            cities=tuple(cities or ()),
            managers=tuple(managers or ()),
            channel=channel or "all",
            funnel=funnel or "cohort",
            as_of=_dates_of(as_of),
            hours=hours or "calendar",
            compare=compare if compare in urlstate.COMPARES else "none",
            cc=bool(cc),
        )
        shown, _ = urlstate.parse(
            pathname,
            search,
            known_cities=info.cities if info else None,
            known_managers=info.user_ids if info else None,
            default_lang=default_lang,
        )
        if state == shown:
            # A control echoed a value the URL already says (Dash 4 date pickers report their
            # value after being set): writing would push a duplicate history entry and hide notices.
            return (no_update,) * (4 + len(_CONTROL_OUTPUTS))
        new_path, new_search = urlstate.encode(state, default_lang=default_lang)
        changed = (new_path, new_search) != (pathname, search or "")
        controls = [no_update] * len(_CONTROL_OUTPUTS)
        controls[1], controls[2], controls[3] = out_period, out_start, out_end
        return (
            new_path if changed else no_update,
            new_search if changed else no_update,
            state.to_store(),
            [],
            *controls,
        )


def register_labels(app: dash.Dash) -> None:
    """Re-translate the frame when the language changes; the controls keep their values."""

    @app.callback(
        Output({"type": frame.TEXT, "key": ALL}, "children"),
        Output(ids.PERIOD, "options"),
        Output(ids.GRAIN, "options"),
        Output(ids.CHANNEL, "options"),
        Output(ids.FUNNEL, "options"),
        Output(ids.HOURS, "options"),
        Output(ids.COMPARE, "options"),
        Output(ids.CITIES, "placeholder"),
        Output(ids.MANAGERS, "placeholder"),
        Output(ids.DATE_RANGE, "display_format"),
        Output(ids.AS_OF, "display_format"),
        *[Output(f"tab-{tab}", "label") for tab in urlstate.TAB_PATHS],
        Input(ids.STATE, "data"),
        prevent_initial_call=True,
    )
    def relabel(data):
        lang = ViewState.from_store(data).lang
        keys = [o["id"]["key"] for o in ctx.outputs_list[0]]
        date_fmt = "DD.MM.YYYY" if lang != "en" else "YYYY-MM-DD"
        return (
            [t(k, lang) for k in keys],
            frame.period_options(lang),
            frame.grain_options(lang),
            frame.channel_options(lang),
            frame.funnel_options(lang),
            frame.hours_options(lang),
            frame.compare_options(lang),
            t("all_cities", lang),
            t("all_managers", lang),
            date_fmt,
            date_fmt,
            *[frame.tab_label(tab, lang) for tab in urlstate.TAB_PATHS],
        )
