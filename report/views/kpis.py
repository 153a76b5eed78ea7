"""KPI cards: one row of a tab's ``kpi.<tab>`` metric, laid out as cards (no arithmetic here).

A tab declares its cards as :class:`Kpi` values (which column, how it reads); every number is a
column of the registered metric's single by=() row, so a card and its definition in
``docs/metrics.md`` can never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import dash_bootstrap_components as dbc
import polars as pl
from dash import html

from report.formatting import fmt_duration, fmt_money, fmt_number, fmt_percent
from report.i18n import stage_label, t

#: How a card's value reads, by kind (the metric returns plain numbers: fractions, seconds, ₽).
FORMATS: dict[str, Callable[[object, str], str]] = {
    "count": lambda v, lang: fmt_number(v, lang),  # type: ignore[arg-type]
    "decimal1": lambda v, lang: fmt_number(v, lang, 1),  # type: ignore[arg-type]
    "decimal2": lambda v, lang: fmt_number(v, lang, 2),  # type: ignore[arg-type]
    "percent": lambda v, lang: fmt_percent(v, lang),  # type: ignore[arg-type]
    "money": lambda v, lang: fmt_money(v, lang),  # type: ignore[arg-type]
    "duration": lambda v, lang: fmt_duration(v, lang),  # type: ignore[arg-type]
}
KPI_KEY = "kpi"  # the result key of the tab's KPI metric call


@dataclass(frozen=True)
class Kpi:
    """One card: ``key`` names it (id ``kpi-<key>``, for links and tests); ``column`` is the
    metric's column; ``label`` an i18n key, or ``stage:<stage>`` for a funnel stage's name."""

    key: str
    column: str
    label: str
    kind: str = "count"

    def text(self, lang: str) -> str:
        if self.label.startswith("stage:"):
            return stage_label(self.label.removeprefix("stage:"), lang)
        return t(self.label, lang)


def kpi_card(key: str, label: str, value: str) -> dbc.Col:
    """A figure a head of sales reads first."""
    return dbc.Col(
        dbc.Card(
            dbc.CardBody(
                [
                    html.Div(label, className="small text-muted lh-sm"),
                    html.Div(value, id=f"kpi-{key}", className="fs-4 fw-semibold kpi-value"),
                ],
                className="py-2 px-3",
            ),
            className="h-100 shadow-sm",
        ),
        xs=6,
        md=3,
        xl=True,
        className="mb-2 kpi-col",
    )


def cell(df: pl.DataFrame | None, column: str) -> object:
    """The value of ``column`` in the metric's one row; None when the call failed or it is absent."""
    if df is None or df.is_empty() or column not in df.columns:
        return None
    return df[column][0]


def kpi_cards(kpis: tuple[Kpi, ...], df: pl.DataFrame | None, lang: str) -> list[dbc.Col]:
    """The cards of a tab from its KPI metric's row (a failed call shows dashes, not zeros)."""
    return [kpi_card(k.key, k.text(lang), FORMATS[k.kind](cell(df, k.column), lang)) for k in kpis]
