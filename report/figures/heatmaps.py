"""Heat maps: rows × columns of a count or a duration."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
import polars as pl

from report.figures.base import base_layout, empty_figure, group_label, mark_rows, row_limit, top_groups
from report.formatting import fmt_duration, fmt_number


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
    row_keys = top_groups(rows, row_col, weight, row_limit(limit))
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
            y=[group_label(r, lang) for r in reversed(row_keys)],
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
    return mark_rows(fig, row_col, row_keys, rows[row_col].n_unique())
