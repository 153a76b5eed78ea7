"""One module per tab; :func:`render_tab` makes the tab's one round of metric calls and lays it out."""

from __future__ import annotations

from datetime import date
from types import ModuleType

import dash_bootstrap_components as dbc
from dash import html

from etl.config import Config
from etl.snapshot.store import Snapshot
from report import ids
from report.urlstate import ViewState
from report.views import funnels, quality, time, touches
from report.views.panels import Panel, card, run

MODULES: dict[str, ModuleType] = {
    "funnels": funnels,
    "time": time,
    "touches_all": touches,
    "touches_office": touches,
}


def tab_panels(state: ViewState) -> tuple[Panel, ...]:
    return MODULES[state.tab].panels(state)


def find_panel(panel_id: str, state: ViewState) -> Panel | None:
    """The panel with this id on the state's tab (downloads re-run exactly what the view shows)."""
    return next((p for p in tab_panels(state) if p.id == panel_id), None)


def render_tab(state: ViewState, snap: Snapshot, today: date, config: Config) -> list:
    """KPI cards, then a card per panel (chart, table, downloads), then the data-quality panel."""
    module = MODULES[state.tab]
    panels = module.panels(state)
    filters = state.filters(today)
    queries = [(p.id, p.metric_id(state), p.by) for p in panels] + module.kpi_queries(state)
    queries.append(("quality", "quality.panel", ()))
    results, errors = run(queries, snap, filters, state.lang)
    return [
        dbc.Row(module.kpis(results, state), id=ids.KPIS, className="g-2 mb-2"),
        dbc.Row([card(p, state, results.get(p.id), errors.get(p.id)) for p in panels], className="g-3"),
        html.Div(
            quality.panel(results.get("quality"), snap, state.lang, errors.get("quality")),
            id=ids.QUALITY,
            className="mt-2",
        ),
    ]
