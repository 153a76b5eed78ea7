"""Funnel figures: the five-stage funnel and deals per group stacked by stage."""

from __future__ import annotations

import polars as pl

from etl.config import FUNNEL_STAGES
from report.figures.base import (
    STAGE_COLORS,
    base_layout,
    count_ticks,
    empty_figure,
    group_label,
    mark_rows,
    row_limit,
    top_groups,
    value_title,
)
from report.figures.plain import Figure
from report.formatting import fmt_number, fmt_percent
from report.i18n import column_label, stage_label, t


def funnel(df: pl.DataFrame, value_col: str, lang: str) -> Figure:
    """The five funnel stages with counts and the metric's conversions: ``conv_prev`` (to the
    previous stage) on the bar, ``conv_lead`` (to the first stage, when the metric has it) in
    the hover. Nothing is divided here: the funnel metrics return both rates."""
    rows = df.filter(pl.col("stage").is_in(FUNNEL_STAGES))
    if rows.is_empty() or not (rows[value_col].fill_null(0) > 0).any():
        return empty_figure(lang)
    stages = rows["stage"].to_list()
    values = rows[value_col].fill_null(0).to_list()
    prev_rates = rows["conv_prev"].to_list()
    lead_rates = rows["conv_lead"].to_list() if "conv_lead" in rows.columns else [None] * rows.height
    texts = [
        fmt_number(v, lang) if i == 0 else f"{fmt_number(v, lang)} · {fmt_percent(prev_rates[i], lang)}"
        for i, v in enumerate(values)
    ]
    prev_word, lead_word = ("← prev", "← lead") if lang == "en" else ("от пред.", "от лида")
    hover = f"%{{y}}: %{{x}}<br>{prev_word}: %{{customdata[0]}}"
    if "conv_lead" in rows.columns:
        hover += f"<br>{lead_word}: %{{customdata[1]}}"
    custom = [[fmt_percent(p, lang), fmt_percent(f, lang)] for p, f in zip(prev_rates, lead_rates, strict=True)]
    if f"{value_col}_prev" in rows.columns:  # a comparison is on: the earlier figure in the hover
        hover += f"<br>{t('prev_header', lang)}: %{{customdata[2]}}"
        custom = [[*c, fmt_number(b, lang)] for c, b in zip(custom, rows[f"{value_col}_prev"].to_list(), strict=True)]
    # room on the right for the text beside the narrowest bars (outside text is not in automargin)
    fig = Figure(base_layout(lang, 300, margin={"l": 8, "r": 80, "t": 8, "b": 8}))
    fig.add_trace(
        "funnel",
        y=[stage_label(s, lang) for s in stages],
        x=values,
        text=texts,
        textinfo="text",
        textposition="auto",
        cliponaxis=False,
        marker={"color": [STAGE_COLORS[s] for s in stages]},
        connector={"line": {"color": "#ccc", "width": 1}},
        customdata=custom,
        hovertemplate=hover + "<extra></extra>",
    )
    fig.update_yaxes(gridcolor="white")
    return fig


def status_bars(df: pl.DataFrame, group_col: str, lang: str, *, limit: int = 15) -> Figure:
    """Deals per group stacked by stage (status as of a date): one colour per stage.

    A group may come in several rows per stage (the contact centre: one per city); each row is
    its own segment of the stack (plotly stacks them), so the hover names the part and nothing is
    added up here."""
    if df.is_empty():
        return empty_figure(lang)
    groups = top_groups(df, group_col, "deals", row_limit(limit))
    shown = df.filter(pl.col(group_col).is_in(groups) | (pl.col(group_col).is_null() if None in groups else False))
    order = [group_label(g, lang) for g in reversed(groups)]
    # The stage legend wraps into a row per stage on a phone and takes its height from the bars;
    # 12 px per stage shown keeps every group's label drawn there (on a desktop: roomier bars).
    legend = shown["stage"].n_unique()
    fig = Figure(base_layout(lang, max(200, 24 * len(groups) + 80 + 12 * legend), barmode="stack"))
    part_col = "city" if group_col != "city" and "city" in df.columns else None
    for stage, color in STAGE_COLORS.items():
        part = shown.filter(pl.col("stage") == stage)
        if part.is_empty():
            continue
        name = stage_label(stage, lang)
        parts = (
            [f" · {group_label(c, lang)}" if c != g else "" for g, c in part.select(group_col, part_col).iter_rows()]
            if part_col
            else None
        )
        fig.add_bar(
            y=[group_label(g, lang) for g in part[group_col].to_list()],
            x=part["deals"].to_list(),
            orientation="h",
            name=name,
            marker={"color": color},
            customdata=parts,
            hovertemplate="%{y}" + ("%{customdata}" if parts else "") + ": %{x}<extra>" + name + "</extra>",
        )
    fig.update_yaxes(categoryorder="array", categoryarray=order)
    tallest = shown.group_by(group_col).agg(pl.col("deals").sum())["deals"].max()
    fig.update_xaxes(title={"text": value_title(["deals"], lang)}, rangemode="tozero", **count_ticks(tallest, lang))
    return mark_rows(fig, group_col, groups, df[group_col].n_unique())


#: The parts of funnel.reconciliation, per side (the metric's column names), and their colours.
RECONCILIATION_PARTS: dict[str, tuple[tuple[str, str], ...]] = {
    "flow": (("first_by_cohort", "#3182bd"), ("first_by_older", "#9ecae1"), ("repeat", "#fd8d3c")),
    "cohort": (("cohort_in_period", "#31a354"), ("cohort_after", "#a1d99b"), ("implied", "#bdbdbd")),
}


def reconciliation_bars(df: pl.DataFrame, lang: str) -> Figure:
    """Per funnel stage two stacked bars side by side: the flow's entries and the cohort's reached
    deals, each split into the parts funnel.reconciliation returns (they add up to the totals by
    the metric's identities; nothing is added here, plotly stacks the parts)."""
    rows = df.filter(pl.col("stage").is_in(FUNNEL_STAGES))
    if rows.is_empty() or not (rows["flow"].fill_null(0) + rows["cohort"].fill_null(0) > 0).any():
        return empty_figure(lang)
    stages = [stage_label(s, lang) for s in rows["stage"].to_list()]
    fig = Figure(base_layout(lang, 340, barmode="stack"))
    for side, parts in RECONCILIATION_PARTS.items():
        side_label = column_label(side, lang)
        for col, color in parts:
            part = column_label(col, lang)
            name = f"{side_label}: {part[:1].lower()}{part[1:]}"
            fig.add_bar(
                x=[stages, [side_label] * len(stages)],
                y=rows[col].to_list(),
                name=name,
                marker={"color": color},
                hovertemplate="%{x}: %{y}<extra>" + name + "</extra>",
            )
    fig.update_yaxes(title={"text": column_label("deals", lang)}, rangemode="tozero")
    return fig
