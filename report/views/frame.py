"""The page frame: header ("data as of", language, admin slot), URL notices, filter bar, tab strip.

Labels are ``T(key)`` spans that one callback re-labels when the language changes, so the frame
(and the controls' values) survive a language switch.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html

from report import ids
from report.formatting import fmt_datetime, fmt_duration, fmt_number
from report.i18n import t
from report.metrics.filters import CHANNEL_FILTERS, GRAINS, HOURS
from report.urlstate import COMPARES, FUNNEL_TYPES, PRESETS, TAB_PATHS, Notice

TEXT = "t"  # pattern-matching id type of a translatable label


def T(key: str, lang: str, **kw: object) -> html.Span:  # noqa: N802 - reads like a gettext call
    """A label the language callback can re-translate."""
    return html.Span(t(key, lang), id={"type": TEXT, "key": key}, **kw)


def options(prefix: str, values: tuple[str, ...], lang: str) -> list[dict[str, str]]:
    return [{"label": t(f"{prefix}_{v}", lang), "value": v} for v in values]


def period_options(lang: str) -> list[dict[str, str]]:
    return options("p", PRESETS, lang)


def grain_options(lang: str) -> list[dict[str, str]]:
    return options("g", GRAINS, lang)


def channel_options(lang: str) -> list[dict[str, str]]:
    return options("ch", CHANNEL_FILTERS, lang)


def hours_options(lang: str) -> list[dict[str, str]]:
    return options("h", HOURS, lang)


def compare_options(lang: str) -> list[dict[str, str]]:
    return options("cmp", COMPARES, lang)


def funnel_options(lang: str) -> list[dict[str, str]]:
    return options("f", FUNNEL_TYPES, lang)


def tab_label(tab: str, lang: str) -> str:
    return t(f"tab_{tab}", lang)


def header(lang: str, admin: object = None) -> html.Header:
    """Title, "data as of", the admin slot (refresh button and progress, issue 6), language."""
    return html.Header(
        dbc.Container(
            [
                html.Div(
                    [
                        html.H1(T("app_title", lang), className="h4 mb-0 me-3"),
                        html.Div(id=ids.DATA_AS_OF, className="text-muted small"),
                    ],
                    className="d-flex flex-wrap align-items-baseline",
                ),
                html.Div(
                    [
                        copy_link(lang),
                        html.Div(admin, id=ids.ADMIN_SLOT, className="me-3"),
                        dbc.RadioItems(
                            id=ids.LANG_SWITCH,
                            options=[{"label": "RU", "value": "ru"}, {"label": "EN", "value": "en"}],
                            value=lang,
                            inline=True,
                            className="small",
                        ),
                    ],
                    className="d-flex flex-wrap align-items-center gap-1",
                ),
            ],
            fluid=True,
            className="d-flex flex-wrap justify-content-between align-items-center gap-2 py-2",
        ),
        id=ids.HEADER,
        className="border-bottom bg-light",
    )


def copy_link(lang: str) -> html.Div:
    """«Скопировать ссылку»: the page's URL to the clipboard; where the browser refuses (plain
    http, a denied permission) the URL appears in a selected text field to copy by hand."""
    return html.Div(
        [
            dbc.Button(T("copy_link", lang), id=ids.COPY_LINK, size="sm", color="secondary", outline=True),
            dcc.Input(
                id=ids.COPY_LINK_TEXT,
                type="text",
                readOnly=True,
                value="",
                className="form-control form-control-sm ms-1",
                style={"display": "none"},
            ),
            html.Span(id=ids.COPY_LINK_STATUS, className="small text-success ms-1"),
        ],
        className="d-flex align-items-center me-2 copy-link",
    )


_COPY_LINK_TEMPLATE = """function (clicks, data) {
    if (!clicks) { return window.dash_clientside.no_update; }
    const url = window.location.href;
    const en = data && data.lang === 'en';
    const set = window.dash_clientside.set_props;
    const field = () => {
        set(TEXT_ID, {style: {display: 'block', width: 'min(22rem, 60vw)'}});
        setTimeout(() => { const el = document.getElementById(TEXT_ID); if (el) { el.select(); } }, 50);
    };
    const done = () => set(STATUS_ID, {children: en ? COPIED_EN : COPIED_RU});
    if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(url).then(done, field);
    } else {
        field();
    }
    return url;
}"""
COPY_LINK_JS = (
    _COPY_LINK_TEMPLATE.replace("TEXT_ID", json.dumps(ids.COPY_LINK_TEXT))
    .replace("STATUS_ID", json.dumps(ids.COPY_LINK_STATUS))
    .replace("COPIED_EN", json.dumps(t("copied", "en")))
    .replace("COPIED_RU", json.dumps(t("copied", "ru"), ensure_ascii=False))
)


#: On a phone the tab strip scrolls sideways; the chosen tab is brought into it (the strip is
#: scrolled, not the page: ``scrollIntoView`` would also jump the page to the strip).
TAB_INTO_VIEW_JS = """function (active) {
    setTimeout(() => {
        const item = document.getElementById('tab-' + active);
        const strip = document.getElementById(STRIP_ID);
        if (!item || !strip || strip.scrollWidth <= strip.clientWidth) { return; }
        strip.scrollLeft = item.offsetLeft - (strip.clientWidth - item.offsetWidth) / 2;
    }, 0);
}""".replace("STRIP_ID", json.dumps(ids.TABS))


def register_callbacks(app) -> None:
    """Client-side behaviour of the frame (runs in the browser, no server round trip)."""
    app.clientside_callback(TAB_INTO_VIEW_JS, Input(ids.TABS, "active_tab"))
    # The URL goes into the (hidden) field as well, so a page without a clipboard still has it.
    app.clientside_callback(
        COPY_LINK_JS,
        Output(ids.COPY_LINK_TEXT, "value"),
        Input(ids.COPY_LINK, "n_clicks"),
        State(ids.STATE, "data"),
        prevent_initial_call=True,
    )


def data_as_of_line(as_of: datetime | None, tz: str, lang: str, stale_after_hours: float, now: datetime) -> list:
    """ "Data as of …" and, when the snapshot is older than allowed, a visible warning."""
    if as_of is None:
        return [dbc.Alert(t("no_snapshot", lang), color="warning", className="py-1 px-2 mb-0 small")]
    local = as_of.astimezone(ZoneInfo(tz))
    parts: list = [html.Span(f"{t('data_as_of', lang)} {fmt_datetime(local, lang)}", className="me-2")]
    age = now - as_of
    if age > timedelta(hours=stale_after_hours):
        parts.append(
            dbc.Badge(
                t("stale", lang, age=fmt_duration(age.total_seconds(), lang)),
                color="warning",
                text_color="dark",
                id=ids.STALE_WARNING,
            )
        )
    return parts


def notices_block(notices: list[Notice], lang: str) -> list:
    """What was dropped from the URL, said plainly; never an error page."""
    if not notices:
        return []
    return [
        dbc.Alert(
            [html.Div(t(f"n_{n.key}", lang, v=n.value)) for n in notices],
            color="warning",
            dismissable=True,
            className="py-2 mb-2 small",
        )
    ]


def _field(label_key: str, control, lang: str, width: dict[str, int], wrap_id: str | None = None) -> dbc.Col:
    kw = {"id": wrap_id} if wrap_id else {}
    return dbc.Col(
        [html.Label(T(label_key, lang), className="form-label small text-muted mb-0"), control],
        **width,
        **kw,
    )


def filter_bar(lang: str, cities: list[str], managers: list[dict], today: date) -> dbc.Card:
    """Controls start empty; the URL callback fills them on first load (the URL wins).

    Options are in the layout from the start: Dash 4 dropdowns drop a value that is not among
    their options, which would erase a manager from a deep link before the options arrive.
    """
    date_fmt = "DD.MM.YYYY" if lang != "en" else "YYYY-MM-DD"
    toggle = dbc.Button(
        ["⚙ ", T("filters_toggle", lang)],
        id=ids.FILTER_TOGGLE,
        color="light",
        size="sm",
        className="d-md-none w-100 text-start",
    )
    return dbc.Card(
        [
            toggle,
            dbc.Collapse(
                dbc.CardBody(
                    dbc.Row(
                        [
                            _field(
                                "period",
                                dcc.Dropdown(
                                    id=ids.PERIOD, options=period_options(lang), clearable=False, searchable=False
                                ),
                                lang,
                                {"xs": 6, "md": 3, "xl": 2},
                            ),
                            _field(
                                "dates",
                                dcc.DatePickerRange(
                                    id=ids.DATE_RANGE,
                                    display_format=date_fmt,
                                    first_day_of_week=1,
                                    minimum_nights=0,
                                    max_date_allowed=today + timedelta(days=366),
                                    className="w-100",
                                ),
                                lang,
                                {"xs": 12, "md": 5, "xl": 3},
                            ),
                            _field(
                                "grain",
                                dcc.Dropdown(
                                    id=ids.GRAIN, options=grain_options(lang), clearable=False, searchable=False
                                ),
                                lang,
                                {"xs": 6, "md": 2, "xl": 2},
                            ),
                            _field(
                                "channel",
                                dcc.Dropdown(
                                    id=ids.CHANNEL, options=channel_options(lang), clearable=False, searchable=False
                                ),
                                lang,
                                {"xs": 6, "md": 2, "xl": 2},
                                wrap_id=ids.CHANNEL_WRAP,
                            ),
                            _field(
                                "cities",
                                dcc.Dropdown(
                                    id=ids.CITIES,
                                    options=[{"label": c, "value": c} for c in cities],
                                    multi=True,
                                    searchable=True,
                                    placeholder=t("all_cities", lang),
                                ),
                                lang,
                                {"xs": 12, "md": 6, "xl": 3},
                            ),
                            _field(
                                "managers",
                                dcc.Dropdown(
                                    id=ids.MANAGERS,
                                    options=managers,
                                    multi=True,
                                    searchable=True,
                                    placeholder=t("all_managers", lang),
                                ),
                                lang,
                                {"xs": 12, "md": 6, "xl": 4},
                            ),
                            _field(
                                "funnel",
                                dcc.Dropdown(
                                    id=ids.FUNNEL, options=funnel_options(lang), clearable=False, searchable=False
                                ),
                                lang,
                                {"xs": 6, "md": 3, "xl": 2},
                                wrap_id=ids.FUNNEL_WRAP,
                            ),
                            _field(
                                "as_of",
                                dcc.DatePickerSingle(
                                    id=ids.AS_OF,
                                    display_format=date_fmt,
                                    first_day_of_week=1,
                                    clearable=True,
                                    placeholder="—",
                                ),
                                lang,
                                {"xs": 6, "md": 3, "xl": 2},
                                wrap_id=ids.AS_OF_WRAP,
                            ),
                            _field(
                                "hours",
                                dbc.RadioItems(
                                    id=ids.HOURS, options=hours_options(lang), value="calendar", inline=True
                                ),
                                lang,
                                {"xs": 12, "md": 4, "xl": 3},
                                wrap_id=ids.HOURS_WRAP,
                            ),
                            _field(
                                "compare",
                                dcc.Dropdown(
                                    id=ids.COMPARE,
                                    options=compare_options(lang),
                                    clearable=False,
                                    searchable=False,
                                ),
                                lang,
                                {"xs": 6, "md": 3, "xl": 3},
                            ),
                            _field(
                                "cc",
                                dbc.Switch(id=ids.CC, label=T("show_cc", lang), value=False),
                                lang,
                                {"xs": 12, "md": 4, "xl": 2},
                                wrap_id=ids.CC_WRAP,
                            ),
                        ],
                        className="g-2",
                    ),
                    className="py-2",
                ),
                id=ids.FILTER_COLLAPSE,
                is_open=True,
            ),
        ],
        id=ids.FILTER_BAR,
        className="mb-2 shadow-sm",
    )


def tab_strip(lang: str) -> dbc.Tabs:
    return dbc.Tabs(
        [dbc.Tab(label=tab_label(tab, lang), tab_id=tab, id=f"tab-{tab}") for tab in TAB_PATHS],
        id=ids.TABS,
        active_tab="funnels",
        className="mb-2",
    )


def row_counts_line(row_counts: dict[str, int], lang: str) -> str:
    parts = [f"{name}: {fmt_number(n, lang)}" for name, n in row_counts.items()]
    return f"{t('rows', lang)} — " + ", ".join(parts)
