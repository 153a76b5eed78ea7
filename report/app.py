"""The Dash app factory: layout, the URL ⇄ filters callback, tab rendering, downloads.

Callbacks are thin: they translate between components and pure functions (``urlstate``, the
metrics through ``report.cache``, ``figures``, ``downloads``). They are registered on the app
instance inside :func:`create_app`, never module-level, so several apps (tests) can coexist.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from etl.config import Config
from etl.snapshot.store import Snapshot, SnapshotError, open_current
from report import ids, urlstate
from report.i18n import t
from report.urlstate import ViewState
from report.views import drilldown, frame, hours_tabs, panel_callbacks

ASSETS = Path(__file__).resolve().parent.parent / "assets"


@dataclass(frozen=True)
class SnapshotInfo:
    """A snapshot plus what the frame needs from it, read once per snapshot."""

    snap: Snapshot
    cities: tuple[str, ...]
    users: pl.DataFrame  # user_id, name, city
    today: date  # the data's "today": data_as_of as a date in the report time zone

    @property
    def user_ids(self) -> set[int]:
        return set(self.users["user_id"].to_list())


class SnapshotSource:
    """The current snapshot, re-read only when ``CURRENT`` changes (an atomic switch needs no restart)."""

    def __init__(self, snapshots_dir: Path, loader: Callable[[], Snapshot] | None = None) -> None:
        self._dir = snapshots_dir
        self._loader = loader
        self._lock = threading.Lock()
        self._key: object = None
        self._info: SnapshotInfo | None = None

    def _current_key(self) -> object:
        try:
            st = (self._dir / "CURRENT").stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def get(self) -> SnapshotInfo | None:
        if self._loader is not None:
            snap = self._loader()
            with self._lock:
                if self._info is None or self._info.snap.id != snap.id:
                    self._info = _read_info(snap)
                return self._info
        key = self._current_key()
        with self._lock:
            if key is not None and key == self._key and self._info is not None:
                return self._info
            try:
                snap = open_current(self._dir)
            except SnapshotError:
                self._key, self._info = None, None
                return None
            if self._info is None or self._info.snap.id != snap.id:
                self._info = _read_info(snap)
            self._key = key
            return self._info


def _read_info(snap: Snapshot) -> SnapshotInfo:
    cities = tuple(sorted(snap.read("cities")["city"].to_list()))
    users = snap.read("users").select("user_id", "name", "city").sort("name")
    today = snap.data_as_of.astimezone(ZoneInfo(snap.timezone)).date()
    return SnapshotInfo(snap=snap, cities=cities, users=users, today=today)


def _manager_options(users: pl.DataFrame) -> list[dict]:
    """Dropdown options: the manager's name with the city, the user id as the value (the URL's key)."""
    return [
        {"label": f"{r['name']} ({r['city']})" if r["city"] else r["name"], "value": r["user_id"]}
        for r in users.iter_rows(named=True)
    ]


def _dates_of(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def create_app(
    config: Config,
    data_dir: Path,
    *,
    snapshot_loader: Callable[[], Snapshot] | None = None,
    extra_layout: Callable[[str], object] | None = None,
    register_extra_callbacks: Callable[[dash.Dash], None] | None = None,
    metric_cache: bool = True,
) -> dash.Dash:
    """Build the report app. ``extra_layout(lang)`` fills the header's admin slot (issue 6);
    ``register_extra_callbacks(app)`` adds its callbacks. ``metric_cache`` sets up the
    process-wide metric cache at ``<data_dir>/<config.cache_dir>`` (shared by every worker)."""
    source = SnapshotSource(Path(data_dir) / config.snapshots_dir, snapshot_loader)
    if metric_cache:
        from report.cache import configure_cache

        configure_cache(Path(data_dir) / config.cache_dir, config.cache_size_limit_mb * 2**20)
    default_lang = config.locale

    app = dash.Dash(
        __name__,
        assets_folder=str(ASSETS),
        title=t("app_title", default_lang),
        suppress_callback_exceptions=True,
        serve_locally=True,
        update_title=None,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.server.config["REPORT_SOURCE"] = source  # for the lead's server and the bench

    def layout() -> html.Div:
        info = source.get()
        cities = list(info.cities) if info else []
        today = info.today if info else datetime.now(UTC).date()
        lang = default_lang
        head = frame.header(lang, admin=extra_layout(lang) if extra_layout is not None else None)
        return html.Div(
            [
                dcc.Location(id=ids.URL, refresh=False),
                dcc.Store(id=ids.STATE),
                dcc.Download(id=ids.DOWNLOAD),
                drilldown.modal(lang),
                head,
                dbc.Container(
                    [
                        html.Div(id=ids.NOTICES),
                        frame.filter_bar(lang, cities, _manager_options(info.users) if info else [], today),
                        frame.tab_strip(lang),
                        dcc.Loading(
                            html.Div(id=ids.PAGE, className="pb-4"),
                            id=ids.PAGE_LOADING,
                            delay_show=400,
                            type="dot",
                        ),
                    ],
                    fluid=True,
                    className="pt-2",
                ),
            ]
        )

    app.layout = layout
    _register_url_sync(app, source, default_lang)
    _register_labels(app)
    _register_page(app, source, config)
    panel_callbacks.register(app, source, default_lang, config.base_url)
    frame.register_callbacks(app)
    # On a phone the filters start folded (they would fill the screen); the button unfolds them.
    app.clientside_callback(
        """function (clicks, isOpen) {
            if (!clicks) { return window.innerWidth >= 768; }
            return !isOpen;
        }""",
        Output(ids.FILTER_COLLAPSE, "is_open"),
        Input(ids.FILTER_TOGGLE, "n_clicks"),
        State(ids.FILTER_COLLAPSE, "is_open"),
    )
    if register_extra_callbacks is not None:
        register_extra_callbacks(app)
    return app


_CONTROL_OUTPUTS = [
    Output(ids.TABS, "active_tab"),
    Output(ids.PERIOD, "value"),
    Output(ids.DATE_RANGE, "start_date"),
    Output(ids.DATE_RANGE, "end_date"),
    Output(ids.GRAIN, "value"),
    Output(ids.CITIES, "value"),
    Output(ids.MANAGERS, "value"),
    Output(ids.CHANNEL, "value"),
    Output(ids.FUNNEL, "value"),
    Output(ids.AS_OF, "date"),
    Output(ids.HOURS, "value"),
    Output(ids.COMPARE, "value"),
    Output(ids.CC, "value"),
    Output(ids.LANG_SWITCH, "value"),
]
_CONTROL_INPUTS = [
    Input(ids.TABS, "active_tab"),
    Input(ids.PERIOD, "value"),
    Input(ids.DATE_RANGE, "start_date"),
    Input(ids.DATE_RANGE, "end_date"),
    Input(ids.GRAIN, "value"),
    Input(ids.CITIES, "value"),
    Input(ids.MANAGERS, "value"),
    Input(ids.CHANNEL, "value"),
    Input(ids.FUNNEL, "value"),
    Input(ids.AS_OF, "date"),
    Input(ids.HOURS, "value"),
    Input(ids.COMPARE, "value"),
    Input(ids.CC, "value"),
    Input(ids.LANG_SWITCH, "value"),
]


def _register_url_sync(app: dash.Dash, source: SnapshotSource, default_lang: str) -> None:
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


def _register_labels(app: dash.Dash) -> None:
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


def _register_page(app: dash.Dash, source: SnapshotSource, config: Config) -> None:
    @app.callback(
        Output(ids.MANAGERS, "options"),
        Input(ids.CITIES, "value"),
        Input(ids.STATE, "data"),
    )
    def manager_options(cities, data):
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
        return _manager_options(pl.concat([users, extra]))

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
