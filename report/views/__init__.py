"""One module per tab; :func:`render_tab` lays a tab out and :func:`render_panel` draws each panel.

A tab module declares ``panels(state)`` (each a metric call and how it is drawn), ``KPI_METRIC``
(the ``kpi.<tab>`` metric whose one row feeds the cards) and ``KPIS`` (which of its columns are
shown, and how). Views say what a tab shows; metrics compute every number.
"""

from __future__ import annotations

import json
from datetime import date
from functools import cache, partial
from types import ModuleType

import dash_bootstrap_components as dbc
from dash import html

from etl.config import Config
from etl.snapshot.store import Snapshot
from report import ids
from report.cache import kept_render, rendered
from report.metrics.compare import deltas
from report.metrics.filters import Filters
from report.metrics.periods import partial_buckets
from report.metrics.registry import get
from report.urlstate import FUNNEL_TYPES, TAB_PATHS, ViewState
from report.views import funnels, quality, time, touches
from report.views.kpis import KPI_KEY, kpi_cards
from report.views.panels import Panel, card_body, run, shell

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


def panel_key(panel: Panel, state: ViewState, snap: Snapshot, filters: Filters, cut: frozenset[date]) -> str:
    """What a panel's card depends on: the snapshot, the panel and its metric call, the view
    (language, grain, comparison, hours…) and the buckets cut short (which depend on "today")."""
    view = json.dumps(state.to_store(), sort_keys=True)
    return f"{snap.id}|{state.tab}|{panel.id}|{panel.metric_id(state)}|{filters.key()}|{view}|{sorted(cut)}"


def render_tab(state: ViewState, snap: Snapshot, today: date, config: Config) -> list:
    """KPI cards, then each panel's card with a placeholder body (:func:`render_panel` fills it,
    one callback per panel, so the first screen does not wait for the last panel), then the
    data-quality panel."""
    module = MODULES[state.tab]
    filters = state.filters(today)
    calls = [(KPI_KEY, module.KPI_METRIC, ()), ("quality", QUALITY_METRIC, ())]
    results, errors = run(calls, snap, filters, state.lang, state.compare_mode, ("quality",))
    kpis = results.get(KPI_KEY)
    if kpis is not None and state.compare_mode:
        kpis = deltas(kpis, [k.column for k in module.KPIS])
    return [
        dbc.Row(kpi_cards(module.KPIS, kpis, state.lang), id=ids.KPIS, className="g-2 mb-2"),
        dbc.Row([shell(p, state) for p in module.panels(state)], className="g-3"),
        html.Div(
            quality.panel(results.get("quality"), snap, state.lang, errors.get("quality")),
            id=ids.QUALITY,
            className="mt-2",
        ),
    ]


def render_panel(panel_id: str, state: ViewState, snap: Snapshot, today: date) -> list:
    """A panel's card body: its metric call (and its totals call), drawn; kept rendered in the
    shared cache (``report.cache.rendered``), so a view seen before costs no metric call and no
    figure. A body with an error is not kept."""
    panel = find_panel(panel_id, state)
    if panel is None:
        return []
    filters = state.filters(today)
    cut = partial_buckets(filters, today)
    key = panel_key(panel, state, snap, filters, cut)
    kept = kept_render(key)
    if kept is not None:
        return kept
    metric_id = panel.metric_id(state)
    calls = [(panel.id, metric_id, panel.by)] + ([(panel.totals_key, metric_id, ())] if panel.totals_key else [])
    results, errors = run(calls, snap, filters, state.lang, state.compare_mode)
    totals = results.get(panel.totals_key or "")
    body = partial(card_body, panel, state, results.get(panel.id), errors.get(panel.id), totals, cut)
    return body() if errors else rendered(key, body)
