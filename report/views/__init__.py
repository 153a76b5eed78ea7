"""One module per tab; :func:`render_tab` makes the tab's one round of metric calls and lays it out.

A tab module declares ``panels(state)`` (each a metric call and how it is drawn), ``KPI_METRIC``
(the ``kpi.<tab>`` metric whose one row feeds the cards) and ``KPIS`` (which of its columns are
shown, and how). Views say what a tab shows; metrics compute every number.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from types import ModuleType

import dash_bootstrap_components as dbc
from dash import html

from etl.config import Config
from etl.snapshot.store import Snapshot
from report import ids
from report.metrics.compare import deltas
from report.metrics.periods import partial_buckets
from report.metrics.registry import get
from report.urlstate import FUNNEL_TYPES, TAB_PATHS, ViewState
from report.views import funnels, quality, time, touches
from report.views.kpis import KPI_KEY, kpi_cards
from report.views.panels import Panel, card, run

MODULES: dict[str, ModuleType] = {
    "funnels": funnels,
    "time": time,
    "touches_all": touches,
    "touches_office": touches,
}
QUALITY_METRIC = "quality.panel"


def tab_panels(state: ViewState) -> tuple[Panel, ...]:
    return MODULES[state.tab].panels(state)


def find_panel(panel_id: str, state: ViewState) -> Panel | None:
    """The panel with this id on the state's tab (downloads re-run exactly what the view shows)."""
    return next((p for p in tab_panels(state) if p.id == panel_id), None)


def queries(state: ViewState) -> list[tuple[str, str, tuple[str, ...]]]:
    """The tab's one round of metric calls: (result key, metric id, breakdown)."""
    module = MODULES[state.tab]
    calls = []
    for p in module.panels(state):
        calls.append((p.id, p.metric_id(state), p.by))
        if p.totals_key:
            calls.append((p.totals_key, p.metric_id(state), ()))
    return [*calls, (KPI_KEY, module.KPI_METRIC, ()), ("quality", QUALITY_METRIC, ())]


def tab_metrics() -> dict[str, list[str]]:
    """Tab → the metric ids it shows (every funnel type included), in the order of the page.

    For docs and tests: a number on a tab that is not in this list is not a metric."""
    return {
        tab: list(
            dict.fromkeys(m for funnel in FUNNEL_TYPES for _key, m, _by in queries(ViewState(tab=tab, funnel=funnel)))
        )
        for tab in TAB_PATHS
    }


@cache
def hours_tabs() -> frozenset[str]:
    """The tabs that show a duration following the «Часы» switch (a metric declared ``hours=True``):
    the switch is offered there, and only there."""
    return frozenset(tab for tab, ids_ in tab_metrics().items() if any(get(m).hours for m in ids_))


def render_tab(state: ViewState, snap: Snapshot, today: date, config: Config) -> list:
    """KPI cards, then a card per panel (chart, table, downloads), then the data-quality panel."""
    module = MODULES[state.tab]
    panels = module.panels(state)
    filters = state.filters(today)
    results, errors = run(queries(state), snap, filters, state.lang, state.compare_mode, ("quality",))
    kpis = results.get(KPI_KEY)
    if kpis is not None and state.compare_mode:
        kpis = deltas(kpis, [k.column for k in module.KPIS])
    cut = partial_buckets(filters, today)
    return [
        dbc.Row(kpi_cards(module.KPIS, kpis, state.lang), id=ids.KPIS, className="g-2 mb-2"),
        dbc.Row(
            [card(p, state, results.get(p.id), errors.get(p.id), results.get(p.totals_key or ""), cut) for p in panels],
            className="g-3",
        ),
        html.Div(
            quality.panel(results.get("quality"), snap, state.lang, errors.get("quality")),
            id=ids.QUALITY,
            className="mt-2",
        ),
    ]
