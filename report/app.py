"""The Dash app factory: the layout and the registration of every callback.

Callbacks are thin: they translate between components and pure functions (``urlstate``, the
metrics through ``report.cache``, ``figures``, ``downloads``). They are registered on the app
instance inside :func:`create_app`, never module-level, so several apps (tests) can coexist:
the URL ⇄ filters sync in ``report.urlsync``, the page in ``report.page``, the panels' own in
``report.views.panel_callbacks``. The snapshot shown comes from ``report.source``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html

from etl.config import Config
from etl.snapshot.store import Snapshot
from report import ids
from report.i18n import t
from report.page import manager_options, register_page
from report.source import SnapshotInfo, SnapshotSource
from report.urlsync import register_labels, register_url_sync
from report.views import deal_page, drilldown, frame, panel_callbacks

__all__ = ["SnapshotInfo", "SnapshotSource", "create_app"]

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def create_app(
    config: Config,
    data_dir: Path,
    *,
    snapshot_loader: Callable[[], Snapshot] | None = None,
    extra_layout: Callable[[str], object] | None = None,
    register_extra_callbacks: Callable[[dash.Dash], None] | None = None,
    metric_cache: bool = True,
    warm_up: bool = False,
) -> dash.Dash:
    """Build the report app. ``extra_layout(lang)`` fills the header's admin slot (issue 6);
    ``register_extra_callbacks(app)`` adds its callbacks. ``metric_cache`` sets up the
    process-wide metric cache at ``<data_dir>/<config.cache_dir>`` (shared by every worker);
    ``warm_up`` starts this process's background warm-up of each new snapshot (``report.warmup``)."""
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
                        frame.filter_bar(lang, cities, manager_options(info.users) if info else [], today),
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
    register_url_sync(app, source, default_lang)
    register_labels(app)
    register_page(app, source, config)
    panel_callbacks.register(app, source, default_lang, config.base_url)
    frame.register_callbacks(app)
    deal_page.register(app.server, source, default_lang, app.get_asset_url("bootstrap.min.css"))
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
    if warm_up:
        from report.warmup import Warmer

        app.server.config["REPORT_WARMER"] = Warmer(source, config, default_lang).start()
    return app
