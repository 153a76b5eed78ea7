"""A figure as the plain structure ``dcc.Graph`` takes: ``{"data": [traces], "layout": {...}}``.

plotly.py's ``go.Figure`` validates and deep-copies every property it is given, and Dash then
converts its object tree back to JSON: on a tab of twenty charts that cost more than the metrics
(issue 10). The figures here are built as dicts directly, with the few methods the figure modules
use; plotly.js draws them as it drew plotly.py's. Property names are plotly's, written out as
nested dicts (``marker={"color": ...}``, not plotly.py's ``marker_color=``): nothing checks them
at runtime, so tests/report/figures validate every figure function's output in plotly.py.

Values are plain Python (lists, str, numbers, None), so Dash's JSON encoder has nothing to convert.
"""

from __future__ import annotations

import re
from typing import Any

_AXIS = re.compile(r"^[xy]axis\d*$")


def merge(target: dict, update: dict) -> dict:
    """``update`` into ``target`` as plotly's ``update_*`` does: dicts merge key by key, anything
    else (lists too) replaces, and None removes the key (plotly: back to the default)."""
    for key, value in update.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            inner = target.get(key)
            target[key] = merge(inner if isinstance(inner, dict) else {}, value)
        else:
            target[key] = value
    return target


class Figure:
    """Traces (``data``, one dict each with its ``type``) and a ``layout`` dict."""

    def __init__(self, layout: dict | None = None) -> None:
        self.data: list[dict[str, Any]] = []
        self.layout: dict[str, Any] = merge({}, layout or {})

    def add_trace(self, kind: str, **props: Any) -> Figure:
        """A trace of plotly type ``kind`` (``bar``, ``scatter``, ``funnel``, ``heatmap``);
        None properties are left out (plotly's default)."""
        self.data.append({"type": kind, **{k: v for k, v in props.items() if v is not None}})
        return self

    def add_bar(self, **props: Any) -> Figure:
        return self.add_trace("bar", **props)

    def add_scatter(self, **props: Any) -> Figure:
        return self.add_trace("scatter", **props)

    def update_layout(self, **props: Any) -> Figure:
        merge(self.layout, props)
        return self

    def _update_axes(self, letter: str, props: dict) -> Figure:
        """``props`` into every ``<letter>axis*`` of the layout (its first axis at least), as
        plotly's ``update_xaxes``/``update_yaxes`` do on a figure without subplots."""
        keys = {f"{letter}axis"} | {k for k in self.layout if _AXIS.match(k) and k[0] == letter}
        for key in sorted(keys):
            self.layout[key] = merge(self.layout.get(key) or {}, props)
        return self

    def update_xaxes(self, **props: Any) -> Figure:
        return self._update_axes("x", props)

    def update_yaxes(self, **props: Any) -> Figure:
        return self._update_axes("y", props)

    def add_annotation(self, **props: Any) -> Figure:
        self.layout.setdefault("annotations", []).append(props)
        return self

    def to_dict(self) -> dict[str, Any]:
        """What ``dcc.Graph(figure=...)`` takes (and ``plotly.graph_objects.Figure`` validates)."""
        return {"data": self.data, "layout": self.layout}
