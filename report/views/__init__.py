"""One module per tab; :func:`render_tab` picks the tab's module and renders its body."""

from __future__ import annotations

from datetime import date

from dash import html

from etl.config import Config
from etl.snapshot import Snapshot
from report.urlstate import ViewState
from report.views import frame
from report.views.i18n import t


def render_tab(state: ViewState, snap: Snapshot, today: date, config: Config) -> list:
    """The body of the tab ``state.tab``: KPI cards, panels (chart + table + downloads), quality."""
    return [
        html.H2(t(f"tab_{state.tab}", state.lang), className="h5"),
        html.P(frame.row_counts_line(snap.row_counts, state.lang), id="row-counts", className="small text-muted"),
    ]
