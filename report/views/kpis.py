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
    #: Is a rise good news (green) or bad (red)? None: neither (grey), e.g. touches per deal.
    up_is_good: bool | None = True

    def text(self, lang: str) -> str:
        if self.label.startswith("stage:"):
            return stage_label(self.label.removeprefix("stage:"), lang)
        return t(self.label, lang)


def _signed(value: float, text: str) -> str:
    return f"{'+' if value > 0 else '−' if value < 0 else '±'}{text}"


def delta_parts(kpi: Kpi, delta: object, share: object, lang: str) -> list[str]:
    """``["+7", "(+700,0 %)"]``: the change since the compared period and the change as a share
    of it (both from ``report.metrics.compare.deltas``); a rate's change is in percentage points.
    Two parts so a narrow card wraps between them, never inside one."""
    if delta is None:
        return ["—"]
    size = abs(float(delta))  # type: ignore[arg-type]
    if kpi.kind == "percent":
        text = f"{fmt_number(size * 100, lang, 1)} {'pp' if lang == 'en' else 'п.п.'}"
    else:
        text = FORMATS[kpi.kind](size, lang)
    parts = [_signed(float(delta), text)]  # type: ignore[arg-type]
    if share is not None:
        parts.append(f"({_signed(float(share), fmt_percent(abs(float(share)), lang))})")  # type: ignore[arg-type]
    return parts


def delta_text(kpi: Kpi, delta: object, share: object, lang: str) -> str:
    """«+7 (+700,0 %)»: :func:`delta_parts` as one line."""
    return " ".join(delta_parts(kpi, delta, share, lang))


def delta_color(kpi: Kpi, delta: object) -> str:
    """Green when the change is good news, red when bad, grey when neither or none."""
    if delta is None or delta == 0 or kpi.up_is_good is None:
        return "text-muted"
    return "text-success" if (float(delta) > 0) == kpi.up_is_good else "text-danger"  # type: ignore[arg-type]


def kpi_card(key: str, label: str, value: str, delta: html.Div | None = None) -> dbc.Col:
    """A figure a head of sales reads first (and, when comparing, how it changed)."""
    return dbc.Col(
        dbc.Card(
            dbc.CardBody(
                [
                    html.Div(label, className="small text-muted lh-sm"),
                    html.Div(value, id=f"kpi-{key}", className="fs-4 fw-semibold kpi-value"),
                    delta,
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
    return [kpi_card(k.key, k.text(lang), FORMATS[k.kind](cell(df, k.column), lang), _delta(k, df, lang)) for k in kpis]


def _spaced(parts: list[str]) -> list:
    """Each part unbreakable, a plain space between them."""
    out: list = []
    for i, part in enumerate(parts):
        out += [" "] if i else []
        out.append(html.Span(part, className="text-nowrap"))
    return out


def _delta(kpi: Kpi, df: pl.DataFrame | None, lang: str) -> html.Div | None:
    """The change line under a card, when the row has the compare columns."""
    if df is None or f"{kpi.column}_delta" not in df.columns:
        return None
    delta = cell(df, f"{kpi.column}_delta")
    previous = FORMATS[kpi.kind](cell(df, f"{kpi.column}_prev"), lang)
    return html.Div(
        [
            html.Div(
                _spaced(delta_parts(kpi, delta, cell(df, f"{kpi.column}_delta_pct"), lang)),
                id=f"kpi-{kpi.key}-delta",
            ),
            html.Div(f"{t('prev_header', lang)}: {previous}", className="text-muted"),
        ],
        className=f"small kpi-delta {delta_color(kpi, delta)}",
    )
