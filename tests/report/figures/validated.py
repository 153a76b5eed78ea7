"""``report.figures`` for tests: each figure function's output passed through plotly.py.

``go.Figure(fig.to_dict())`` raises on a property plotly does not know or a value it does not
take (the figures are plain dicts, nothing checks them at runtime), and gives the tests plotly's
attribute access (``fig.data[0].y``, ``fig.layout.xaxis.title.text``). Everything else of
``report.figures`` (colours, helpers) is passed through as it is.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import plotly.graph_objects as go

from report import figures as plain


def figure_functions() -> dict[str, Callable[..., Any]]:
    """The public functions of ``report.figures`` that return a figure."""
    return {
        name: fn
        for name in plain.__all__
        if callable(fn := getattr(plain, name)) and inspect.signature(fn).return_annotation == "Figure"
    }


def validated(fn: Callable[..., Any]) -> Callable[..., go.Figure]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> go.Figure:
        return go.Figure(fn(*args, **kwargs).to_dict())

    return wrapper


figures = SimpleNamespace(
    **(
        {name: getattr(plain, name) for name in plain.__all__}
        | {name: validated(fn) for name, fn in figure_functions().items()}
    )
)
