"""Bar figures: a rate per group, values per group, a distribution given as counts."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from report.figures.base import (
    SERIES_COLORS,
    STAGE_COLORS,
    base_layout,
    count_ticks,
    duration_unit,
    empty_figure,
    group_label,
    in_unit,
    mark_rows,
    row_limit,
    unit_title,
    value_title,
)
from report.figures.plain import Figure
from report.formatting import fmt_duration, fmt_money, fmt_number, fmt_percent
from report.i18n import column_label

#: Height per group of a one-bar-per-group chart.
ROW_PX = 23


def rate_bars(df: pl.DataFrame, group_col: str, rate_col: str, parts: Sequence[str], lang: str) -> Figure:
    """A rate per group as horizontal bars, sorted, with the counts it is made of (``parts``,
    e.g. attended and no-show) in the hover. Groups without a rate (nothing to divide) cannot be
    drawn: they are left out, counted apart (``no_value``), and stay in the table."""
    rows = df.filter(pl.col(rate_col).is_not_null()).sort(rate_col, descending=False)
    if rows.is_empty():
        return empty_figure(lang)
    labels = [group_label(g, lang, group_col) for g in rows[group_col].to_list()]
    groups = rows[group_col].to_list()
    counts = [[fmt_number(v, lang) for v in rows[c].to_list()] for c in parts]
    detail = ", ".join(f"{column_label(c, lang)}: %{{customdata[{i}]}}" for i, c in enumerate(parts))
    # a bar 20 px thick holds its 11 px label (a thinner one shrinks it under the 10 px minimum
    # and plotly hides it)
    fig = Figure(base_layout(lang, max(220, ROW_PX * rows.height + 40), bargap=0.12))
    fig.add_bar(
        y=labels,
        x=rows[rate_col].to_list(),
        orientation="h",
        marker={"color": STAGE_COLORS["contract"]},
        text=[fmt_percent(v, lang) for v in rows[rate_col].to_list()],
        textposition="auto",
        textfont={"size": 11},
        customdata=[list(c) for c in zip(*counts, strict=True)],
        hovertemplate=f"%{{y}}: %{{text}} ({detail})<extra></extra>",
    )
    fig.update_xaxes(tickformat=".0%", rangemode="tozero", title={"text": f"{column_label(rate_col, lang)}, %"})
    return mark_rows(fig, group_col, groups[::-1], rows.height, df.height - rows.height)


def bars(
    df: pl.DataFrame,
    group_col: str,
    value_cols: Sequence[str],
    names: Sequence[str],
    lang: str,
    *,
    stacked: bool = False,
    colors: Sequence[str] | None = None,
    duration: bool = False,
    money: bool = False,
    limit: int | None = 25,
    keep_order: bool = False,
    title: str | None = None,
) -> Figure:
    """Horizontal bars per group (one or several value columns), largest first (``keep_order``:
    in the rows' own order, top to bottom, e.g. funnel stages); the value axis starts at zero and
    is titled with its unit (``money``: ₽; durations: minutes, hours, days) or ``title``.
    ``limit`` None: every group (a ranking)."""
    if df.is_empty():
        return empty_figure(lang)
    if not stacked and len(value_cols) > 1 and limit is not None:
        limit = min(limit, 15)  # grouped bars get tall fast
    shown = row_limit(limit) if limit is not None else None
    ranked = df if keep_order else df.sort(value_cols[0], descending=True, nulls_last=True)
    rows = (ranked if shown is None else ranked.head(shown)).reverse()
    labels = [group_label(g, lang, group_col) for g in rows[group_col].to_list()]
    per_row = ROW_PX if stacked or len(value_cols) == 1 else 8 + 10 * len(value_cols)
    fig = Figure(base_layout(lang, max(220, per_row * rows.height + 70)))
    # Grouped horizontal bars: plotly draws a group's first trace at the bottom; adding the
    # columns last-first with a reversed legend puts the first column on top and first in the legend.
    grouped = not stacked and len(value_cols) > 1
    fig.update_layout(legend={"traceorder": "reversed" if grouped else "normal"})
    unit = duration_unit([v for c in value_cols for v in rows[c].to_list()]) if duration else "h"
    columns = list(enumerate(zip(value_cols, names, strict=True)))
    for i, (col, name) in reversed(columns) if grouped else columns:
        values = rows[col].to_list()
        text = [
            fmt_duration(v, lang) if duration else fmt_money(v, lang) if money else fmt_number(v, lang) for v in values
        ]
        fig.add_bar(
            y=labels,
            x=in_unit(values, unit) if duration else values,
            orientation="h",
            name=name,
            text=text,
            textposition="auto",
            textfont={"size": 11},
            hovertemplate="%{y}: %{text}<extra>" + name + "</extra>",
            marker={"color": colors[i] if colors else SERIES_COLORS[i % len(SERIES_COLORS)]},
        )
    fig.update_layout(barmode="stack" if stacked else "group", bargap=0.12 if per_row == ROW_PX else None)
    if title is None:
        title = unit_title(unit, lang) if duration else value_title(value_cols, lang, money)
    fig.update_xaxes(title={"text": title}, rangemode="tozero")
    if not duration:
        top = rows.select(pl.sum_horizontal(value_cols) if stacked else pl.max_horizontal(value_cols)).to_series().max()
        fig.update_xaxes(**count_ticks(top, lang))
    return mark_rows(fig, group_col, rows[group_col].to_list()[::-1], df.height)


def histogram_bars(df: pl.DataFrame, x_col: str, y_col: str, lang: str, x_title: str) -> Figure:
    """A distribution given as (value, count) rows, one row per value (as the metric returns it)."""
    rows = df.filter(pl.col(x_col).is_not_null()).sort(x_col)
    if rows.is_empty():
        return empty_figure(lang)
    fig = Figure(base_layout(lang, 260))
    fig.add_bar(
        x=rows[x_col].to_list(),
        y=rows[y_col].to_list(),
        marker={"color": STAGE_COLORS["booked"]},
        text=[str(v) for v in rows[y_col].to_list()],
        textposition="auto",
    )
    fig.update_xaxes(title={"text": x_title}, dtick=1)
    fig.update_yaxes(title={"text": column_label(y_col, lang)}, rangemode="tozero")
    return fig
