"""Figure builders: pure functions DataFrame → plotly Figure. They never filter or mutate input.

Every figure carries aggregates only (a few hundred points at most). Colours are fixed per stage
across all charts; numbers follow the locale through ``layout.separators`` and the plotly locale
script in ``assets/``.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
import polars as pl

from etl.config import FUNNEL_STAGES
from report.formatting import fmt_bucket, fmt_duration, fmt_number, fmt_percent
from report.i18n import stage_label, t

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
KIND_COLORS = {"calls": "#4c78a8", "sms": "#f58518", "touches": "#54a24b"}
MEDIAN_COLOR = "#4c78a8"
P90_COLOR = "#e45756"
TOP_N = 8


def base_layout(lang: str, height: int = 320, **extra: object) -> dict:
    """Shared layout: compact margins, locale separators, legend on top (fits a phone width)."""
    layout = {
        # "none": no 7 KB default template shipped with every figure; the look is set here.
        "template": "none",
        "colorway": list(SERIES_COLORS),
        "height": height,
        "margin": {"l": 8, "r": 8, "t": 8, "b": 8},
        "separators": ", " if lang != "en" else ".,",  # decimal mark, then thousands separator
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0, "title": None, "traceorder": "normal"},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
        "xaxis": {"automargin": True, "gridcolor": "#eee"},
        "yaxis": {"automargin": True, "gridcolor": "#eee"},
        "hoverlabel": {"namelength": -1},
    }
    layout.update(extra)
    return layout


_UNITS = {  # seconds per unit, axis title ru/en
    "min": (60, "минуты", "minutes"),
    "h": (3600, "часы", "hours"),
    "d": (86400, "дни", "days"),
}


def duration_unit(values: Sequence[float | None]) -> str:
    """Axis unit that keeps numbers readable: minutes under 2 h, hours under 3 days, else days."""
    top = max((v for v in values if v is not None), default=0)
    return "min" if top < 7200 else "h" if top < 3 * 86400 else "d"


def _in_unit(values: Sequence[float | None], unit: str) -> list[float | None]:
    size = _UNITS[unit][0]
    return [v / size if v is not None else None for v in values]


def _unit_title(unit: str, lang: str) -> str:
    return _UNITS[unit][2 if lang == "en" else 1]


def empty_figure(lang: str, height: int = 160) -> go.Figure:
    fig = go.Figure(layout=base_layout(lang, height))
    fig.add_annotation(text=t("no_data", lang), showarrow=False, font={"color": "#888"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def funnel(df: pl.DataFrame, value_col: str, lang: str) -> go.Figure:
    """A funnel of the five funnel stages with counts and conversion to the previous and first stage."""
    rows = df.filter(pl.col("stage").is_in(FUNNEL_STAGES))
    if rows.is_empty() or not (rows[value_col].fill_null(0) > 0).any():
        return empty_figure(lang)
    stages = rows["stage"].to_list()
    values = rows[value_col].fill_null(0).to_list()
    first = values[0] or None
    prev_rates = [None] + [v / p if p else None for p, v in zip(values, values[1:], strict=False)]
    first_rates = [v / first if first else None for v in values]
    texts = [
        fmt_number(v, lang) if i == 0 else f"{fmt_number(v, lang)} · {fmt_percent(prev_rates[i], lang)}"
        for i, v in enumerate(values)
    ]
    fig = go.Figure(
        go.Funnel(
            y=[stage_label(s, lang) for s in stages],
            x=values,
            text=texts,
            textinfo="text",
            textposition="auto",
            cliponaxis=False,
            marker={"color": [STAGE_COLORS[s] for s in stages]},
            connector={"line": {"color": "#ccc", "width": 1}},
            customdata=[
                [fmt_percent(p, lang), fmt_percent(f, lang)] for p, f in zip(prev_rates, first_rates, strict=True)
            ],
            hovertemplate="%{y}: %{x}<br>"
            + (
                "← prev: %{customdata[0]}<br>← lead: %{customdata[1]}"
                if lang == "en"
                else "от пред.: %{customdata[0]}<br>от лида: %{customdata[1]}"
            )
            + "<extra></extra>",
        ),
        layout=base_layout(lang, 300),
    )
    fig.update_yaxes(gridcolor="white")
    return fig


def _top(df: pl.DataFrame, group: str, weight: str, n: int = TOP_N) -> list:
    """The ``n`` groups with the largest total ``weight``, largest first (nulls last)."""
    totals = df.filter(pl.col(group).is_not_null()).group_by(group).agg(pl.col(weight).sum())
    return totals.sort(weight, descending=True, nulls_last=True)[group].head(n).to_list()


def _label(value: object, lang: str, col: str = "city") -> str:
    if value is None:
        return t("unknown_city", lang) if col == "city" else "—"
    return str(value)


def stacked_over_time(df: pl.DataFrame, value_col: str, group_col: str, grain: str, lang: str) -> go.Figure:
    """Counts per bucket as stacked bars, one colour per group (the top groups; the rest summed)."""
    if df.is_empty():
        return empty_figure(lang)
    top = _top(df, group_col, value_col)
    others = df.filter(~pl.col(group_col).is_in(top) | pl.col(group_col).is_null())
    fig = go.Figure(layout=base_layout(lang, barmode="stack"))
    buckets = sorted(df["bucket"].unique().to_list())
    labels = [fmt_bucket(b, grain, lang) for b in buckets]
    for i, g in enumerate(top):
        part = df.filter(pl.col(group_col) == g)
        series = dict(zip(part["bucket"].to_list(), part[value_col].to_list(), strict=True))
        fig.add_bar(
            x=labels,
            y=[series.get(b, 0) for b in buckets],
            name=_label(g, lang),
            marker_color=SERIES_COLORS[i % len(SERIES_COLORS)],
        )
    if not others.is_empty():
        rest = others.group_by("bucket").agg(pl.col(value_col).sum())
        series = dict(zip(rest["bucket"].to_list(), rest[value_col].to_list(), strict=True))
        fig.add_bar(
            x=labels,
            y=[series.get(b, 0) for b in buckets],
            name="other" if lang == "en" else "остальные",
            marker_color="#cfcfcf",
        )
    return fig


def attendance_over_time(df: pl.DataFrame, grain: str, lang: str) -> go.Figure:
    """Attended and no-show per bucket (bars) with the show rate (line, right axis)."""
    if df.is_empty() or not (df["attended"].sum() + df["no_show"].sum()):
        return empty_figure(lang)
    labels = [fmt_bucket(b, grain, lang) for b in df["bucket"].to_list()]
    fig = go.Figure(layout=base_layout(lang, barmode="stack"))
    fig.add_bar(
        x=labels, y=df["attended"].to_list(), name=stage_label("attended", lang), marker_color=STAGE_COLORS["attended"]
    )
    fig.add_bar(
        x=labels, y=df["no_show"].to_list(), name=stage_label("no_show", lang), marker_color=STAGE_COLORS["no_show"]
    )
    fig.add_scatter(
        x=labels,
        y=df["show_rate"].to_list(),
        name="show rate" if lang == "en" else "явка",
        yaxis="y2",
        mode="lines+markers",
        line={"color": "#333"},
    )
    fig.update_layout(
        yaxis2={"overlaying": "y", "side": "right", "tickformat": ".0%", "range": [0, 1], "showgrid": False}
    )
    return fig


def rate_bars(df: pl.DataFrame, group_col: str, rate_col: str, num_col: str, den_col: str, lang: str) -> go.Figure:
    """A rate per group as horizontal bars, sorted, with "num of den" in the hover."""
    rows = df.filter(pl.col(den_col) > 0).sort(rate_col, descending=False, nulls_last=False)
    if rows.is_empty():
        return empty_figure(lang)
    labels = [_label(g, lang, group_col) for g in rows[group_col].to_list()]
    word = "of" if lang == "en" else "из"
    fig = go.Figure(
        go.Bar(
            y=labels,
            x=rows[rate_col].to_list(),
            orientation="h",
            marker_color=STAGE_COLORS["contract"],
            text=[fmt_percent(v, lang) for v in rows[rate_col].to_list()],
            textposition="auto",
            customdata=list(zip(rows[num_col].to_list(), rows[den_col].to_list(), strict=True)),
            hovertemplate=f"%{{y}}: %{{text}} (%{{customdata[0]}} {word} %{{customdata[1]}})<extra></extra>",
        ),
        layout=base_layout(lang, max(220, 22 * rows.height + 40)),
    )
    fig.update_xaxes(tickformat=".0%", rangemode="tozero")
    return fig


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
    limit: int = 25,
) -> go.Figure:
    """Horizontal bars per group (one or several value columns), largest first."""
    if df.is_empty():
        return empty_figure(lang)
    if not stacked and len(value_cols) > 1:
        limit = min(limit, 15)  # grouped bars get tall fast
    rows = df.sort(value_cols[0], descending=True, nulls_last=True).head(limit).reverse()
    labels = [_label(g, lang, group_col) for g in rows[group_col].to_list()]
    per_row = 22 if stacked or len(value_cols) == 1 else 8 + 10 * len(value_cols)
    fig = go.Figure(layout=base_layout(lang, max(220, per_row * rows.height + 70)))
    fig.update_layout(legend_traceorder="normal")
    unit = duration_unit([v for c in value_cols for v in rows[c].to_list()]) if duration else "h"
    for i, (col, name) in enumerate(zip(value_cols, names, strict=True)):
        values = rows[col].to_list()
        text = [fmt_duration(v, lang) if duration else fmt_number(v, lang) for v in values]
        fig.add_bar(
            y=labels,
            x=_in_unit(values, unit) if duration else values,
            orientation="h",
            name=name,
            text=text,
            textposition="auto",
            hovertemplate="%{y}: %{text}<extra>" + name + "</extra>",
            marker_color=(colors[i] if colors else SERIES_COLORS[i % len(SERIES_COLORS)]),
        )
    fig.update_layout(barmode="stack" if stacked else "group")
    if duration:
        fig.update_xaxes(title_text=_unit_title(unit, lang))
    return fig


def duration_ranges(
    df: pl.DataFrame, group_col: str | None, lang: str, *, order: Sequence[str] | None = None, limit: int = 25
) -> go.Figure:
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
            rows = rows.sort("n", descending=True).head(limit).reverse()
        labels = [_label(g, lang, group_col) for g in rows[group_col].to_list()]
    unit = duration_unit(rows["p90_s"].to_list() + rows["mean_s"].to_list())
    median, p90, mean = (_in_unit(rows[c].to_list(), unit) for c in ("median_s", "p90_s", "mean_s"))
    med_txt = [fmt_duration(v, lang) for v in rows["median_s"].to_list()]
    p90_txt = [fmt_duration(v, lang) for v in rows["p90_s"].to_list()]
    mean_txt = [fmt_duration(v, lang) for v in rows["mean_s"].to_list()]
    n_txt = [fmt_number(v, lang) for v in rows["n"].to_list()]
    custom = list(zip(med_txt, p90_txt, mean_txt, n_txt, strict=True))
    names = ("median", "p90", "mean") if lang == "en" else ("медиана", "p90", "среднее")
    hover = (
        "%{y}<br>"
        + names[0]
        + ": %{customdata[0]}<br>p90: %{customdata[1]}<br>"
        + names[2]
        + ": %{customdata[2]}<br>n = %{customdata[3]}<extra></extra>"
    )
    fig = go.Figure(layout=base_layout(lang, max(200, 26 * len(labels) + 70)))
    fig.add_bar(
        y=labels,
        x=median,
        orientation="h",
        name=names[0],
        marker_color=MEDIAN_COLOR,
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
    fig.update_xaxes(title_text=_unit_title(unit, lang), rangemode="tozero")
    return fig


def heatmap(
    df: pl.DataFrame,
    row_col: str,
    col_col: str,
    value_col: str,
    col_order: Sequence[str],
    lang: str,
    *,
    duration: bool = True,
    limit: int = 20,
    col_labels: Sequence[str] | None = None,
) -> go.Figure:
    """A rows × columns heat map (e.g. city × transition of the median duration).

    Durations are coloured relative to their column's median over the rows shown (1 = typical),
    so a slow city stands out in every transition, not only in the longest one; the cells'
    text keeps the absolute duration.
    """
    rows = df.filter(pl.col(value_col).is_not_null())
    if rows.is_empty():
        return empty_figure(lang)
    weight = "n" if "n" in rows.columns else value_col
    row_keys = _top(rows, row_col, weight, limit)
    cols = [c for c in col_order if c in set(rows[col_col].to_list())]
    lookup = {(r[row_col], r[col_col]): r[value_col] for r in rows.iter_rows(named=True)}
    typical: dict[str, float] = {}
    if duration:
        for ck in cols:
            vals = sorted(v for rk in row_keys if (v := lookup.get((rk, ck))) is not None)
            typical[ck] = vals[len(vals) // 2] if vals else 0.0
    z, text = [], []
    for rk in reversed(row_keys):
        zr, tr = [], []
        for ck in cols:
            v = lookup.get((rk, ck))
            if duration:
                zr.append(v / typical[ck] if (v is not None and typical[ck]) else None)
            else:
                zr.append(v)
            tr.append(fmt_duration(v, lang) if duration else fmt_number(v, lang))
        z.append(zr)
        text.append(tr)
    labels = dict(zip(col_order, col_labels, strict=True)) if col_labels else {}
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[labels.get(c, c) for c in cols],
            y=[_label(r, lang) for r in reversed(row_keys)],
            text=text,
            texttemplate="%{text}",
            hovertemplate="%{y} · %{x}: %{text}<extra></extra>",
            colorscale="RdYlGn_r" if duration else "Blues",
            zmid=1 if duration else None,
            colorbar={
                "title": {"text": ("× median" if lang == "en" else "× медиана") if duration else ""},
                "thickness": 10,
            },
            xgap=2,
            ygap=2,
        ),
        layout=base_layout(lang, max(240, 28 * len(row_keys) + 80)),
    )
    fig.update_xaxes(side="top", gridcolor="white")
    fig.update_yaxes(gridcolor="white")
    return fig


def status_bars(df: pl.DataFrame, group_col: str, lang: str, *, limit: int = 15) -> go.Figure:
    """Deals per group stacked by stage (status as of a date): one colour per stage."""
    if df.is_empty():
        return empty_figure(lang)
    groups = _top(df, group_col, "deals", limit)
    by_stage = df.filter(
        pl.col(group_col).is_in(groups) | (pl.col(group_col).is_null() if None in groups else pl.lit(False))
    )
    by_stage = by_stage.group_by(group_col, "stage").agg(pl.col("deals").sum())
    labels = [_label(g, lang) for g in reversed(groups)]
    fig = go.Figure(layout=base_layout(lang, max(200, 24 * len(groups) + 80), barmode="stack"))
    for stage, color in STAGE_COLORS.items():
        part = by_stage.filter(pl.col("stage") == stage)
        if part.is_empty():
            continue
        series = {r[group_col]: r["deals"] for r in part.iter_rows(named=True)}
        fig.add_bar(
            y=labels,
            x=[series.get(g, 0) for g in reversed(groups)],
            orientation="h",
            name=stage_label(stage, lang),
            marker_color=color,
            hovertemplate="%{y}: %{x}<extra>" + stage_label(stage, lang) + "</extra>",
        )
    return fig


def lines_over_time(df: pl.DataFrame, group_col: str, value_col: str, grain: str, lang: str) -> go.Figure:
    """One line per group over buckets (the top groups by total)."""
    if df.is_empty():
        return empty_figure(lang)
    top = _top(df, group_col, value_col)
    buckets = sorted(df["bucket"].unique().to_list())
    labels = [fmt_bucket(b, grain, lang) for b in buckets]
    fig = go.Figure(layout=base_layout(lang))
    for i, g in enumerate(top):
        part = df.filter(pl.col(group_col) == g) if g is not None else df.filter(pl.col(group_col).is_null())
        series = dict(zip(part["bucket"].to_list(), part[value_col].to_list(), strict=True))
        fig.add_scatter(
            x=labels,
            y=[series.get(b, 0) for b in buckets],
            name=_label(g, lang),
            mode="lines+markers",
            line={"color": SERIES_COLORS[i % len(SERIES_COLORS)]},
        )
    return fig


def duration_over_time(df: pl.DataFrame, grain: str, lang: str) -> go.Figure:
    """Median and p90 of a duration per bucket (lines, in days)."""
    rows = df.filter(pl.col("n") > 0)
    if rows.is_empty():
        return empty_figure(lang)
    labels = [fmt_bucket(b, grain, lang) for b in rows["bucket"].to_list()]
    fig = go.Figure(layout=base_layout(lang))
    for col, name, color in (
        ("median_s", "медиана" if lang != "en" else "median", MEDIAN_COLOR),
        ("p90_s", "p90", P90_COLOR),
    ):
        vals = rows[col].to_list()
        fig.add_scatter(
            x=labels,
            y=[v / 86400 if v is not None else None for v in vals],
            name=name,
            mode="lines+markers",
            line={"color": color},
            text=[fmt_duration(v, lang) for v in vals],
            hovertemplate="%{x}: %{text}<extra>" + name + "</extra>",
        )
    fig.update_yaxes(title_text="days" if lang == "en" else "дни", rangemode="tozero")
    return fig


def histogram_bars(df: pl.DataFrame, x_col: str, y_col: str, lang: str, x_title: str) -> go.Figure:
    """A distribution given as (value, count) rows."""
    rows = df.group_by(x_col).agg(pl.col(y_col).sum()).sort(x_col)
    if rows.is_empty():
        return empty_figure(lang)
    fig = go.Figure(
        go.Bar(
            x=rows[x_col].to_list(),
            y=rows[y_col].to_list(),
            marker_color=STAGE_COLORS["booked"],
            text=rows[y_col].to_list(),
            textposition="auto",
        ),
        layout=base_layout(lang, 260),
    )
    fig.update_xaxes(title_text=x_title, dtick=1)
    return fig
