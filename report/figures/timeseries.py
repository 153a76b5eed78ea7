"""Figures over time buckets: stacked counts, attendance with its show rate, lines per group."""

from __future__ import annotations

import polars as pl

from report.figures.base import (
    SERIES_COLORS,
    STAGE_COLORS,
    TOP_N,
    add_partial_key,
    add_previous,
    base_layout,
    count_ticks,
    empty_figure,
    group_label,
    hatch,
    mark_rows,
    partial_flags,
    previous_key,
    row_limit,
    rows_of,
    solid_and_dotted,
    top_groups,
    value_title,
)
from report.figures.plain import Figure
from report.formatting import MONEY_COLUMNS, fmt_bucket
from report.i18n import column_label, stage_label


def stacked_over_time(df: pl.DataFrame, value_col: str, group_col: str, grain: str, lang: str) -> Figure:
    """Counts per bucket as stacked bars, one colour per group: the top groups, the rest left out
    (and said so by the panel), never summed into an "other" bar."""
    if df.is_empty():
        return empty_figure(lang)
    top = top_groups(df, group_col, value_col, row_limit(TOP_N))
    fig = Figure(base_layout(lang, barmode="stack"))
    buckets = sorted(df["bucket"].unique().to_list())
    labels = [fmt_bucket(b, grain, lang) for b in buckets]
    heights = [0.0] * len(buckets)
    cut = partial_flags(df, buckets)
    for i, g in enumerate(top):
        part = rows_of(df, group_col, g)
        series = dict(zip(part["bucket"].to_list(), part[value_col].to_list(), strict=True))
        heights = [h + (series.get(b) or 0) for h, b in zip(heights, buckets, strict=True)]
        fig.add_bar(
            x=labels,
            y=[series.get(b, 0) for b in buckets],
            name=group_label(g, lang),
            marker={"color": SERIES_COLORS[i % len(SERIES_COLORS)], "pattern": hatch(cut)},
        )
        if f"{value_col}_prev" in df.columns:
            before = dict(zip(part["bucket"].to_list(), part[f"{value_col}_prev"].to_list(), strict=True))
            add_previous(
                fig,
                labels,
                [before.get(b) for b in buckets],
                group_label(g, lang),
                SERIES_COLORS[i % len(SERIES_COLORS)],
                lang,
                legendgroup=str(g),
            )
    if f"{value_col}_prev" in df.columns:
        previous_key(fig, lang)
    add_partial_key(fig, cut, lang)
    fig.update_yaxes(
        title={"text": value_title([value_col], lang)}, rangemode="tozero", **count_ticks(max(heights), lang)
    )
    return mark_rows(fig, group_col, top, df[group_col].n_unique())


def attendance_over_time(df: pl.DataFrame, grain: str, lang: str) -> Figure:
    """Attended and no-show per bucket (bars) with the show rate (line, right axis)."""
    if df.is_empty() or not ((df["attended"] > 0).any() or (df["no_show"] > 0).any()):
        return empty_figure(lang)
    labels = [fmt_bucket(b, grain, lang) for b in df["bucket"].to_list()]
    cut = partial_flags(df, df["bucket"].to_list())
    fig = Figure(base_layout(lang, barmode="stack"))
    for stage in ("attended", "no_show"):
        marker = {"color": STAGE_COLORS[stage], "pattern": hatch(cut)}
        fig.add_bar(x=labels, y=df[stage].to_list(), name=stage_label(stage, lang), marker=marker)
    solid, dotted = solid_and_dotted(df["show_rate"].to_list(), cut)
    rate_name = "show rate" if lang == "en" else "явка"
    for ys, dash, legend in ((solid, "solid", True), (dotted, "dot", False)):
        fig.add_scatter(
            x=labels,
            y=ys,
            name=rate_name,
            legendgroup="rate",
            showlegend=legend,
            yaxis="y2",
            mode="lines+markers",
            line={"color": "#333", "dash": dash},
        )
    if "show_rate_prev" in df.columns:
        add_previous(fig, labels, df["show_rate_prev"].to_list(), rate_name, "#333", lang, yaxis="y2")
    add_partial_key(fig, cut, lang)
    fig.update_layout(
        yaxis2={
            "overlaying": "y",
            "side": "right",
            "tickformat": ".0%",
            "range": [0, 1],
            "showgrid": False,
            "title": {"text": f"{column_label('show_rate', lang)}, %"},
        }
    )
    fig.update_layout(yaxis={"title": {"text": value_title(["attended", "no_show"], lang)}, "rangemode": "tozero"})
    fig.update_layout(yaxis=count_ticks((df["attended"].fill_null(0) + df["no_show"].fill_null(0)).max(), lang))
    return fig


DASHES = ("solid", "dot", "dash")


def lines_over_time(df: pl.DataFrame, group_col: str, values: str | dict[str, str], grain: str, lang: str) -> Figure:
    """One line per group over buckets (the top groups by the first value's total).

    ``values`` is one column, or several ``{column: name}`` drawn as the parts they are (one line
    style per column, one colour per group) rather than a sum."""
    if df.is_empty():
        return empty_figure(lang)
    cols = {values: ""} if isinstance(values, str) else values
    top = top_groups(df, group_col, next(iter(cols)), row_limit(TOP_N))
    y_title = value_title(list(cols), lang, money=any(c in MONEY_COLUMNS for c in cols))
    buckets = sorted(df["bucket"].unique().to_list())
    labels = [fmt_bucket(b, grain, lang) for b in buckets]
    cut = partial_flags(df, buckets)
    fig = Figure(base_layout(lang))
    for i, g in enumerate(top):
        part = rows_of(df, group_col, g)
        for dash, (col, name) in zip(DASHES, cols.items(), strict=False):
            series = dict(zip(part["bucket"].to_list(), part[col].to_list(), strict=True))
            label = f"{group_label(g, lang)} · {name}" if name else group_label(g, lang)
            solid, dotted = solid_and_dotted([series.get(b, 0) for b in buckets], cut)
            color = SERIES_COLORS[i % len(SERIES_COLORS)]
            for ys, style, legend in ((solid, dash, True), (dotted, "dot", False)):
                if not legend and not any(cut):
                    continue
                fig.add_scatter(
                    x=labels,
                    y=ys,
                    name=label,
                    legendgroup=f"{g}·{col}",
                    showlegend=legend,
                    mode="lines+markers",
                    line={"color": color, "dash": style},
                )
            if f"{col}_prev" in part.columns:
                before = dict(zip(part["bucket"].to_list(), part[f"{col}_prev"].to_list(), strict=True))
                add_previous(
                    fig, labels, [before.get(b) for b in buckets], label, color, lang, legendgroup=f"{g}·{col}"
                )
    if any(f"{c}_prev" in df.columns for c in cols):
        previous_key(fig, lang)
    add_partial_key(fig, cut, lang, line=True)
    top_value = max((v for tr in fig.data for v in tr["y"] if v is not None), default=None)
    fig.update_yaxes(title={"text": y_title}, rangemode="tozero", **count_ticks(top_value, lang))
    return mark_rows(fig, group_col, top, df[group_col].n_unique())
