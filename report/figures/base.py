"""What every figure shares: colours per stage and series, the base layout, duration units.

Colours are fixed per stage across all charts; numbers follow the locale through
``layout.separators`` and the plotly locale script in ``assets/``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

import polars as pl

from report.figures.plain import Figure
from report.formatting import fmt_short
from report.i18n import column_label, t

#: One colour per stage, used by every chart (funnel order: blue → green; side stages: warm/grey).
STAGE_COLORS: dict[str, str] = {
    "lead": "#9ecae1",
    "phone": "#6baed6",
    "booked": "#3182bd",
    "attended": "#31a354",
    "contract": "#006d2c",
    "won": "#00441b",
    "not_booked": "#fdae6b",
    "no_answer": "#fd8d3c",
    "no_show": "#e6550d",
    "lost": "#969696",
    "other": "#d9d9d9",
}
#: Colours of non-stage series (cities, managers, kinds), colour-blind friendly.
SERIES_COLORS: tuple[str, ...] = (
    "#4c78a8",
    "#f58518",
    "#54a24b",
    "#e45756",
    "#72b7b2",
    "#b279a2",
    "#eeca3b",
    "#9d755d",
    "#ff9da6",
    "#bab0ac",
)
#: Days in stage, young → old (deals.open_age's buckets): blues, then ever darker oranges.
AGE_COLORS: tuple[str, ...] = ("#c6dbef", "#9ecae1", "#6baed6", "#fdd0a2", "#fd8d3c", "#e6550d", "#a63603")
KIND_COLORS = {"calls": "#4c78a8", "sms": "#f58518", "touches": "#54a24b"}
MEDIAN_COLOR = "#4c78a8"
P90_COLOR = "#e45756"
TOP_N = 8


def base_layout(lang: str, height: int = 320, **extra: object) -> dict:
    """Shared layout: compact margins, locale separators, legend on top (fits a phone width)."""
    layout = {
        # plotly's "none" template, as plotly.py sent it: no 7 KB default template shipped with
        # every figure; the look is set here.
        "template": {"data": {"scatter": [{"type": "scatter"}]}},
        "colorway": list(SERIES_COLORS),
        "height": height,
        "margin": {"l": 8, "r": 8, "t": 8, "b": 8},
        "separators": ", " if lang != "en" else ".,",  # decimal mark, then thousands separator
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0, "title": None, "traceorder": "normal"},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
        # exponentformat "none": «50 000», never plotly's SI letters «50k» (see count_ticks)
        "xaxis": {"automargin": True, "gridcolor": "#eee", "exponentformat": "none"},
        "yaxis": {"automargin": True, "gridcolor": "#eee", "exponentformat": "none"},
        "hoverlabel": {"namelength": -1},
        # Labels inside bars never shrink below 10 px: one that would is hidden (the hover keeps it).
        "uniformtext": {"minsize": 10, "mode": "hide"},
    }
    layout.update(extra)
    return layout


def nice_step(top: float, ticks: int = 5) -> float:
    """A round tick step (1, 2, 2,5 or 5 × 10ⁿ) giving about ``ticks`` ticks from 0 to ``top``."""
    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def count_ticks(top: float | None, lang: str) -> dict:
    """Tick values and labels for a value axis from 0 to ``top``, with words for large numbers
    (``50 тыс.``, ``1,5 млн``): plotly's own tick format can only write SI letters (``50k``),
    which are not Russian. Empty (plotly's ticks) below 10 000, where numbers are short; the
    layout's ``exponentformat="none"`` then keeps plotly from writing letters anyway."""
    if top is None or top < 10_000 or not math.isfinite(top):
        return {}
    step = nice_step(top)
    vals = [i * step for i in range(int(math.ceil(top / step)) + 1)]
    unit = 1e6 if vals[-1] >= 1e6 else 1e3
    return {"tickmode": "array", "tickvals": vals, "ticktext": [fmt_short(v, lang, unit) for v in vals]}


def partial_flags(df: pl.DataFrame, buckets: Sequence[object]) -> list[bool]:
    """Per bucket: is it cut short (the metric layer's ``partial`` column; none without it)."""
    if "partial" not in df.columns:
        return [False] * len(buckets)
    cut = set(df.filter(pl.col("partial"))["bucket"].to_list())
    return [b in cut for b in buckets]


def hatch(flags: Sequence[bool]) -> dict:
    """A bar marker's pattern: cut buckets hatched, whole ones plain."""
    return {"shape": ["/" if f else "" for f in flags], "fillmode": "overlay", "fgcolor": "white", "size": 7}


def solid_and_dotted(ys: Sequence[float | None], flags: Sequence[bool]) -> tuple[list, list]:
    """A line's points split in two traces: solid over whole buckets, dotted from the last whole
    bucket into a cut one (gaps are not joined, so each part draws only its own segments)."""
    solid = [None if f else y for y, f in zip(ys, flags, strict=True)]
    near = [f or (i > 0 and flags[i - 1]) or (i + 1 < len(flags) and flags[i + 1]) for i, f in enumerate(flags)]
    dotted = [y if n and any(flags) else None for y, n in zip(ys, near, strict=True)]
    return solid, dotted


def add_partial_key(fig: Figure, flags: Sequence[bool], lang: str, line: bool = False) -> None:
    """A legend entry «неполный период» (hatched or dotted, as the chart marks it) when a bucket is cut."""
    if not any(flags):
        return
    name = t("partial_period", lang)
    if line:
        fig.add_scatter(x=[None], y=[None], mode="lines", name=name, line={"color": "#888", "dash": "dot"})
    else:
        marker = {"color": "#bbb", "pattern": {"shape": "/", "fillmode": "overlay", "fgcolor": "white", "size": 7}}
        fig.add_bar(x=[None], y=[None], name=name, marker=marker)


_UNITS = {  # seconds per unit, axis title ru/en
    "min": (60, "минуты", "minutes"),
    "h": (3600, "часы", "hours"),
    "d": (86400, "дни", "days"),
}


def duration_unit(values: Sequence[float | None]) -> str:
    """Axis unit that keeps numbers readable: minutes under 2 h, hours under 3 days, else days."""
    top = max((v for v in values if v is not None), default=0)
    return "min" if top < 7200 else "h" if top < 3 * 86400 else "d"


def in_unit(values: Sequence[float | None], unit: str) -> list[float | None]:
    size = _UNITS[unit][0]
    return [v / size if v is not None else None for v in values]


def unit_title(unit: str, lang: str) -> str:
    return _UNITS[unit][2 if lang == "en" else 1]


MONEY_UNIT = "₽"


def value_title(cols: Sequence[str], lang: str, money: bool = False) -> str:
    """A value axis's title: what is counted, with its unit (₽ for money). Several columns go
    one per line when together they would not fit a phone's width (about 40 characters)."""
    labels = [column_label(c, lang) for c in cols]
    title = " / ".join(labels)
    if len(title) > 40:
        title = " /<br>".join(labels)
    return f"{title}, {MONEY_UNIT}" if money else title


def empty_figure(lang: str, height: int = 160) -> Figure:
    fig = Figure(base_layout(lang, height))
    fig.add_annotation(text=t("no_data", lang), showarrow=False, font={"color": "#888"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


_ALL_ROWS: ContextVar[bool] = ContextVar("all_rows", default=False)


@contextmanager
def all_rows() -> Iterator[None]:
    """Figures built inside draw every group, not their top N (the panel's «показать все»).

    A context rather than a parameter: the limit is a figure's own default, and a panel's figure
    function (declared in a view) need not thread it through."""
    token = _ALL_ROWS.set(True)
    try:
        yield
    finally:
        _ALL_ROWS.reset(token)


def row_limit(default: int | None) -> int | None:
    """How many groups a figure draws: its default, or all inside :func:`all_rows`."""
    return None if _ALL_ROWS.get() else default


def top_groups(df: pl.DataFrame, group: str, weight: str, n: int | None = TOP_N) -> list:
    """The ``n`` groups (None = all) with the largest total ``weight``, largest first; the group
    "unknown" (null) ranks like any other. The totals only rank; they are never drawn."""
    totals = df.group_by(group).agg(pl.col(weight).sum())
    ranked = totals.sort([weight, group], descending=[True, False], nulls_last=True)[group]
    return ranked.to_list() if n is None else ranked.head(n).to_list()


def rows_of(df: pl.DataFrame, col: str, value: object) -> pl.DataFrame:
    """The rows whose ``col`` is ``value`` (None matches the null group)."""
    return df.filter(pl.col(col).is_null() if value is None else pl.col(col) == value)


def mark_rows(fig: Figure, group_col: str, order: Sequence[object], total: int, no_value: int = 0) -> Figure:
    """Record on the figure which groups it draws, top to bottom, and of how many it could draw
    (``total``): the panel writes «показаны N из M» from it and lists its table in the chart's
    order. ``no_value``: groups that cannot be drawn at all (a rate with nothing to divide); they
    are not in ``total`` (no switch could draw them) and the panel names their number apart."""
    meta = {"group": group_col, "order": list(order), "total": total}
    if no_value:
        meta["no_value"] = no_value
    fig.update_layout(meta=meta)
    return fig


def add_previous(
    fig: Figure, x: Sequence[object], y: Sequence[object], name: str, color: str, lang: str, **trace: object
) -> None:
    """The compared period's series (a ``<column>_prev`` the metric layer joined by bucket
    position) as a faint dashed line under the same colour, named «<name>, было».

    With ``legendgroup`` (one line per group of a chart) the line has no legend entry of its own:
    it follows its group's entry, and :func:`previous_key` explains the dashes once."""
    fig.add_scatter(
        x=list(x),
        y=list(y),
        name=f"{name}, {t('prev_header', lang)}",
        mode="lines",
        line={"color": color, "dash": "dash", "width": 1.5},
        opacity=0.6,
        showlegend="legendgroup" not in trace,
        **trace,
    )


def previous_key(fig: Figure, lang: str) -> None:
    """One legend entry «- - было» for the dashed lines of every group."""
    fig.add_scatter(
        x=[None],
        y=[None],
        name=t("prev_period", lang),
        mode="lines",
        line={"color": "#777", "dash": "dash", "width": 1.5},
        hoverinfo="skip",
    )


def group_label(value: object, lang: str, col: str = "city") -> str:
    if value is None:
        return t("unknown_city", lang) if col == "city" else "—"
    return str(value)
