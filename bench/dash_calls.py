"""The two requests a browser's Dash renderer sends when a view opens or a filter changes, built
from ``GET /_dash-dependencies`` as the renderer builds them (bench/ui.py, bench/locustfile.py).

1. the URL ⇄ filters callback (``report.app``: outputs ``url.pathname`` … ``view-state.data``);
   on opening a link its trigger is ``url.pathname`` and it answers with the controls (the dates
   of the period among them); on a filter change its trigger is that control;
2. the page callback (output ``page-content.children``): the tab's KPI cards and an empty card
   per panel, from the ``view-state`` store the first one answered;
3. one request per panel card (output ``panel-slot.children``): its metric calls, chart and table.

The light callbacks that follow the store (labels, the managers list) compute no metric and are
left out. Pure: no Dash, no polars, no HTTP client here.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import date
from typing import Any

from report import ids, urlstate
from report.urlstate import ViewState

SYNC = f"{ids.URL}.pathname"
PAGE = f"{ids.PAGE}.children"
PANEL = f'{{"panel":["MATCH"],"type":"{ids.PANEL_SLOT}"}}.children'


#: What the load bench's viewers choose among (presets of report.urlstate, grains of the filter bar).
PERIODS = ("this_year", "last_quarter", "this_month", "last_7_days")
GRAINS = ("day", "week", "month")


def changed_filter(rng: random.Random, shown: ViewState, cities: list[str], managers: list[int]) -> ViewState:
    """The view after one filter change as the load bench's viewers make it: one or two cities, a
    manager, the grain, the period or the pipeline class, on the tab shown."""
    what = rng.choice(("cities", "manager", "grain", "period", "channel"))
    if what == "cities" and cities:
        return shown.with_(cities=tuple(rng.sample(cities, rng.choice((1, 2)))), managers=())
    if what == "manager" and managers:
        return shown.with_(managers=(rng.choice(managers),))
    if what == "grain":
        return shown.with_(grain=rng.choice([g for g in GRAINS if g != shown.grain]))
    if what == "period":
        return shown.with_(period=rng.choice([p for p in PERIODS if p != shown.period]))
    return shown.with_(channel="office" if shown.channel == "all" else "all")


def find(deps: list[dict[str, Any]], marker: str) -> dict[str, Any]:
    """The callback of ``/_dash-dependencies`` whose outputs name ``marker`` (``id.property``)."""
    return next(d for d in deps if marker in outputs_of(d["output"], as_keys=True))


def outputs_of(output: str, *, as_keys: bool = False) -> Any:
    """A dependency's ``output`` string (``..a.x...b.y..`` for several) as the renderer posts it:
    a list of ``{id, property}``, or one dict for a single output; ``as_keys``: ``["a.x", …]``."""
    many = output.startswith("..") and output.endswith("..")
    keys = output[2:-2].split("...") if many else [output]
    if as_keys:
        return keys
    outs = [{"id": k.rsplit(".", 1)[0], "property": k.rsplit(".", 1)[1]} for k in keys]
    return outs if many else outs[0]


def payload(dep: dict[str, Any], values: dict[str, Any], changed: list[str]) -> dict[str, Any]:
    """The JSON posted to ``/_dash-update-component``: each input of ``dep`` with its value from
    ``values`` (``"id.property"`` → value; missing = None, as for a control not yet set)."""
    inputs = [
        {"id": i["id"], "property": i["property"], "value": values.get(f"{i['id']}.{i['property']}")}
        for i in dep["inputs"]
    ]
    return {"output": dep["output"], "outputs": outputs_of(dep["output"]), "inputs": inputs, "changedPropIds": changed}


def open_link(sync: dict[str, Any], state: ViewState, default_lang: str) -> dict[str, Any]:
    """Request 1 on opening ``state``'s link (first load, Back, a pasted URL): the URL wins."""
    path, search = urlstate.encode(state, default_lang=default_lang)
    return payload(sync, {f"{ids.URL}.pathname": path, f"{ids.URL}.search": search}, [SYNC])


def change_filters(
    sync: dict[str, Any], state: ViewState, shown: ViewState, default_lang: str, today: date
) -> dict[str, Any]:
    """Request 1 when the controls say ``state`` while the URL still says ``shown`` (the city
    picker was the control touched)."""
    path, search = urlstate.encode(shown, default_lang=default_lang)
    date_from, date_to = state.period_dates(today)
    values = {
        f"{ids.URL}.pathname": path,
        f"{ids.URL}.search": search,
        f"{ids.TABS}.active_tab": state.tab,
        f"{ids.PERIOD}.value": state.period,
        f"{ids.DATE_RANGE}.start_date": date_from.isoformat(),
        f"{ids.DATE_RANGE}.end_date": date_to.isoformat(),
        f"{ids.GRAIN}.value": state.grain,
        f"{ids.CITIES}.value": list(state.cities),
        f"{ids.MANAGERS}.value": list(state.managers),
        f"{ids.CHANNEL}.value": state.channel,
        f"{ids.FUNNEL}.value": state.funnel,
        f"{ids.AS_OF}.date": None,
        f"{ids.HOURS}.value": state.hours,
        f"{ids.LANG_SWITCH}.value": state.lang,
    }
    return payload(sync, values, [f"{ids.CITIES}.value"])


def page(page_dep: dict[str, Any], sync_answer: dict[str, Any]) -> dict[str, Any]:
    """Request 2: the page callback, fed the ``view-state`` store request 1 answered."""
    store = sync_answer["response"][ids.STATE]["data"]
    return payload(page_dep, {f"{ids.STATE}.data": store}, [f"{ids.STATE}.data"])


def panels(panel_dep: dict[str, Any], page_answer: dict[str, Any]) -> list[dict[str, Any]]:
    """Requests 3…: one per panel card the page answered, in the page's order, with the view its
    placeholder carries (``data-view``): what the browser sends for each panel as it comes into
    view (assets/lazyPanels.js hands the view to the card's ``PANEL_VIEW`` store)."""
    out = []
    for placeholder in placeholders_of(page_answer):
        panel = placeholder["data-panel"]
        view = {"type": ids.PANEL_VIEW, "panel": panel}
        out.append(
            {
                "output": panel_dep["output"],
                "outputs": {"id": {"type": ids.PANEL_SLOT, "panel": panel}, "property": "children"},
                "inputs": [{"id": view, "property": "data", "value": json.loads(placeholder["data-view"])}],
                "changedPropIds": [json.dumps(view, sort_keys=True, separators=(",", ":")) + ".data"],
            }
        )
    return out


def placeholders_of(tree: Any) -> list[dict[str, Any]]:
    """The props of every panel placeholder in ``tree`` (an answer's JSON), in the page's order."""
    return [node["props"] for node in _nodes(tree, lambda props: "data-view" in props)]


def _nodes(tree: Any, keep: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """The components of ``tree`` whose props ``keep`` says yes to, depth first (the page's order)."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict) and keep(props):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tree)
    return found


def options_in(layout: Any, component_id: str) -> list[Any]:
    """The option values of component ``component_id`` in a ``/_dash-layout`` answer."""
    stack = [layout]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict) and props.get("id") == component_id:
                return [o["value"] for o in props.get("options") or []]
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return []
