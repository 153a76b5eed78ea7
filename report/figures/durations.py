"""Duration figures from aggregates (n, mean, median, p90): ranges per group and trends."""

from __future__ import annotations

import math
from collections.abc import Sequence

import polars as pl

from report.figures.base import (
    MEDIAN_COLOR,
    P90_COLOR,
    add_partial_key,
    add_previous,
    base_layout,
    duration_unit,
    empty_figure,
    group_label,
    in_unit,
    mark_rows,
    partial_flags,
    row_limit,
    solid_and_dotted,
    unit_title,
)
from report.figures.plain import Figure
from report.formatting import fmt_bucket, fmt_duration, fmt_number
from report.i18n import t

#: Round durations a log axis is ticked at (seconds): 1, 5, 15 min, 1, 4 h, 1, 7, 30, 90, 365 d.
LOG_TICKS = (60, 300, 900, 3600, 4 * 3600, 86400, 7 * 86400, 30 * 86400, 90 * 86400, 365 * 86400)
LOG_FLOOR = 30.0  # a shorter median is drawn at 30 s (a log axis has no zero); its label keeps the truth
LOG_SPREAD = 20  # log axis once the shortest median is under 1/20 of the longest value


def needs_log(medians: Sequence[float | None], longest: Sequence[float | None]) -> bool:
    """A linear axis from zero, unless the shortest median bar would be under 1/20 of the axis
    (medians in minutes, p90 in hours): then a log axis, so every bar and whisker reads."""
    lows = [v for v in medians if v is not None]
    top = max((v for v in longest if v is not None), default=0.0)
    return bool(lows) and top > 0 and max(min(lows), LOG_FLOOR) * LOG_SPREAD < top


def log_time_axis(values: Sequence[float | None], lang: str) -> dict:
    """A log x axis in seconds ticked at round durations written as people say them (мин/ч/д)."""
    present = [v for v in values if v is not None and v > 0]
    lo, hi = min(present) / 1.5, max(present) * 1.5
    ticks = [v for v in LOG_TICKS if lo <= v <= hi]
    return {
        "type": "log",
        "range": [math.log10(lo), math.log10(hi)],
        "tickmode": "array",
        "tickvals": ticks,
        "ticktext": [fmt_duration(v, lang) for v in ticks],
    }


def duration_ranges(
    df: pl.DataFrame, group_col: str | None, lang: str, *, order: Sequence[str] | None = None, limit: int = 25
) -> Figure:
    """Distribution of a duration drawn from its aggregates: a bar to the median, a whisker to p90,
    a diamond at the mean. (Metrics return n/mean/median/p90, not raw durations, so a box plot's
    quartiles are not available; median and p90 are what the spec asks to show.)"""
    rows = df.filter(pl.col("n") > 0) if "n" in df.columns else df
    if rows.is_empty():
        return empty_figure(lang)
    if group_col is None:
        labels = [t("total", lang)]
        rows = rows.head(1)
    else:
        if order is not None:
            rank = {v: i for i, v in enumerate(order)}
            rows = (
                rows.with_columns(_r=pl.col(group_col).replace_strict(rank, default=len(rank)))
                .sort("_r", descending=True)
                .drop("_r")
            )
        else:
            shown = row_limit(limit)
            ranked = rows.sort("n", descending=True)
            rows = (ranked if shown is None else ranked.head(shown)).reverse()
        labels = [group_label(g, lang, group_col) for g in rows[group_col].to_list()]
    log = needs_log(rows["median_s"].to_list(), rows["p90_s"].to_list() + rows["mean_s"].to_list())
    unit = "s" if log else duration_unit(rows["p90_s"].to_list() + rows["mean_s"].to_list())
    median, p90, mean = (
        [max(v, LOG_FLOOR) if v is not None else None for v in rows[c].to_list()]
        if log
        else in_unit(rows[c].to_list(), unit)
        for c in ("median_s", "p90_s", "mean_s")
    )
    med_txt = [fmt_duration(v, lang) for v in rows["median_s"].to_list()]
    p90_txt = [fmt_duration(v, lang) for v in rows["p90_s"].to_list()]
    mean_txt = [fmt_duration(v, lang) for v in rows["mean_s"].to_list()]
    n_txt = [fmt_number(v, lang) for v in rows["n"].to_list()]
    custom = [list(c) for c in zip(med_txt, p90_txt, mean_txt, n_txt, strict=True)]
    names = ("median", "p90", "mean") if lang == "en" else ("медиана", "p90", "среднее")
    hover = (
        "%{y}<br>"
        + names[0]
        + ": %{customdata[0]}<br>p90: %{customdata[1]}<br>"
        + names[2]
        + ": %{customdata[2]}<br>n = %{customdata[3]}<extra></extra>"
    )
    fig = Figure(base_layout(lang, max(200, 26 * len(labels) + 70)))
    fig.add_bar(
        y=labels,
        x=median,
        orientation="h",
        name=names[0],
        marker={"color": MEDIAN_COLOR},
        text=med_txt,
        textposition="inside",
        customdata=custom,
        hovertemplate=hover,
        error_x={
            "type": "data",
            "symmetric": False,
            "array": [(p - m) if (p is not None and m is not None) else 0 for p, m in zip(p90, median, strict=True)],
            "arrayminus": [0] * len(median),
            "color": P90_COLOR,
            "thickness": 2,
            "width": 6,
        },
    )
    fig.add_scatter(
        y=labels,
        x=mean,
        mode="markers",
        name=names[2],
        marker={"symbol": "diamond", "size": 9, "color": "#333"},
        customdata=custom,
        hovertemplate=hover,
    )
    fig.add_scatter(y=[None], x=[None], mode="lines", name=f"{names[0]} → p90", line={"color": P90_COLOR, "width": 2})
    if log:
        fig.update_xaxes(title={"text": t("log_time_axis", lang)}, **log_time_axis(median + p90 + mean, lang))
    else:
        fig.update_xaxes(title={"text": unit_title(unit, lang)}, rangemode="tozero")
    if group_col is None:
        return fig
    return mark_rows(fig, group_col, rows[group_col].to_list()[::-1], df.height)


def duration_over_time(df: pl.DataFrame, grain: str, lang: str) -> Figure:
    """Median and p90 of a duration per bucket (lines), in the unit the data needs (minutes,
    hours or days, as the other duration charts)."""
    rows = df.filter(pl.col("n") > 0)
    if rows.is_empty():
        return empty_figure(lang)
    labels = [fmt_bucket(b, grain, lang) for b in rows["bucket"].to_list()]
    unit = duration_unit(rows["p90_s"].to_list() + rows["median_s"].to_list())
    cut = partial_flags(rows, rows["bucket"].to_list())
    fig = Figure(base_layout(lang))
    for col, name, color in (
        ("median_s", "медиана" if lang != "en" else "median", MEDIAN_COLOR),
        ("p90_s", "p90", P90_COLOR),
    ):
        vals = rows[col].to_list()
        solid, dotted = solid_and_dotted(in_unit(vals, unit), cut)
        for ys, dash, legend in ((solid, "solid", True), (dotted, "dot", False)):
            if not legend and not any(cut):
                continue
            fig.add_scatter(
                x=labels,
                y=ys,
                name=name,
                legendgroup=col,
                showlegend=legend,
                mode="lines+markers",
                line={"color": color, "dash": dash},
                text=[fmt_duration(v, lang) for v in vals],
                hovertemplate="%{x}: %{text}<extra>" + name + "</extra>",
            )
        if f"{col}_prev" in rows.columns:
            add_previous(fig, labels, in_unit(rows[f"{col}_prev"].to_list(), unit), name, color, lang)
    add_partial_key(fig, cut, lang, line=True)
    fig.update_yaxes(title={"text": unit_title(unit, lang)}, rangemode="tozero")
    return fig
