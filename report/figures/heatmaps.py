"""Heat maps: rows × columns of a count or a duration."""

from __future__ import annotations

import math
from collections.abc import Sequence

import polars as pl

from report.figures.base import base_layout, count_ticks, empty_figure, group_label, mark_rows, row_limit, top_groups
from report.figures.plain import Figure
from report.formatting import fmt_duration, fmt_number

LOG_STEPS = (-2, -1, 0, 1, 2)  # log2 of ¼×, ½×, 1×, 2×, 4×


def _scale(stops: str) -> list[list]:
    """A colour scale of evenly spaced ``r,g,b`` stops."""
    rgb = stops.split()
    return [[i / (len(rgb) - 1), f"rgb({c})"] for i, c in enumerate(rgb)]


#: Colour scales written out, as plotly.py expanded its named ones (plotly.js knows no "RdYlGn_r",
#: and its own "Blues" is another scale): ColorBrewer's RdYlGn reversed (slow = red), and Blues.
SLOW_RED = _scale(
    "0,104,55 26,152,80 102,189,99 166,217,106 217,239,139 255,255,191 "
    "254,224,139 253,174,97 244,109,67 215,48,39 165,0,38"
)
BLUES = _scale("247,251,255 222,235,247 198,219,239 158,202,225 107,174,214 66,146,198 33,113,181 8,81,156 8,48,107")


def _multiple(ratio: float, lang: str) -> str:
    word = "of the median" if lang == "en" else "медианы"
    return f"{fmt_number(ratio, lang, 1)}× {word}"


def _log_scale(lang: str) -> dict:
    """Colour = log2(ratio to the column median), centred on 1×, ticks written as multiples."""
    ticks = [fmt_number(2.0**step, lang, 2).rstrip("0").rstrip(",.") + "×" for step in LOG_STEPS]
    title = (
        "vs column median<br>green faster, red slower"
        if lang == "en"
        else "к медиане столбца<br>зелёный быстрее, красный медленнее"
    )
    return {
        "zmid": 0,
        "zmin": LOG_STEPS[0],
        "zmax": LOG_STEPS[-1],
        "colorbar": {"title": {"text": title}, "thickness": 10, "tickvals": list(LOG_STEPS), "ticktext": ticks},
    }


def _count_scale(z: list[list[float | None]], lang: str) -> dict:
    top = max((v for row in z for v in row if v is not None), default=None)
    return {"colorbar": {"thickness": 10, "exponentformat": "none", **count_ticks(top, lang)}}


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
) -> Figure:
    """A rows × columns heat map (e.g. city × transition of the median duration).

    Durations are coloured by their ratio to their column's median over the rows shown, so a
    slow city stands out in every transition, not only in the longest one. The scale is log2 of
    that ratio centred on 1× (twice as slow and twice as fast are equally far from typical; no
    negative multiples), clipped at ¼× and 4×; the colour bar reads in multiples. The cells' text
    keeps the absolute duration, the hover adds the multiple.
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
    z, text, multiples = [], [], []
    for rk in reversed(row_keys):
        zr, tr, mr = [], [], []
        for ck in cols:
            v = lookup.get((rk, ck))
            ratio = v / typical[ck] if (duration and v is not None and typical[ck]) else None
            if duration:
                zr.append(math.log2(ratio) if ratio else None)
            else:
                zr.append(v)
            tr.append(fmt_duration(v, lang) if duration else fmt_number(v, lang))
            mr.append(_multiple(ratio, lang) if ratio else "")
        z.append(zr)
        text.append(tr)
        multiples.append(mr)
    labels = dict(zip(col_order, col_labels, strict=True)) if col_labels else {}
    fig = Figure(base_layout(lang, max(240, 28 * len(row_keys) + 80)))
    fig.add_trace(
        "heatmap",
        z=z,
        x=[labels.get(c, c) for c in cols],
        y=[group_label(r, lang) for r in reversed(row_keys)],
        text=text,
        texttemplate="%{text}",
        customdata=multiples,
        hovertemplate="%{y} · %{x}: %{text}" + (" (%{customdata})" if duration else "") + "<extra></extra>",
        colorscale=SLOW_RED if duration else BLUES,
        **(_log_scale(lang) if duration else _count_scale(z, lang)),
        xgap=2,
        ygap=2,
    )
    fig.update_xaxes(side="top", gridcolor="white")
    fig.update_yaxes(gridcolor="white")
    return mark_rows(fig, row_col, row_keys, rows[row_col].n_unique())
