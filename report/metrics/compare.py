"""Comparison with an earlier period: which period to compare with, and the ``_prev`` columns.

Choices (the spec is silent):
- ``previous``: a whole calendar year, quarter or month → the previous one of the same kind; any
  other period → as many days right before it.
- ``year``: the same dates a year earlier; 29 February becomes 28 February.
- ``as_of`` (as-of metrics) moves with the period's end: by the same number of days.
- Buckets are aligned by position in the period (the n-th week of this period against the n-th
  week of the earlier one), counted in grain steps from the bucket of the period's first day, so a
  bucket without data does not shift the others.
- The rows are this period's: a group present only in the earlier period is not shown; a ``_prev``
  is null where the earlier period has no such row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta

import polars as pl

from etl.snapshot.store import Snapshot
from report.metrics.filters import Filters
from report.metrics.periods import _truncate
from report.metrics.registry import MetricFn

MODES = ("previous", "year")
_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def _add_months(day: date, months: int) -> date:
    """``day`` (a 1st) moved by ``months``."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _year_earlier(day: date) -> date:
    return day.replace(year=day.year - 1, day=28) if (day.month, day.day) == (2, 29) else day.replace(year=day.year - 1)


def _calendar_unit(filters: Filters) -> int | None:
    """Months in the period when it is a whole calendar year, quarter or month, else None."""
    start, end = filters.date_from, filters.date_to
    if start.day != 1:
        return None
    for months in (12, 3, 1):
        if (start.month - 1) % months == 0 and _add_months(start, months) - timedelta(days=1) == end:
            return months
    return None


def shifted(filters: Filters, mode: str) -> Filters:
    """The filters over the period to compare with (``previous`` or ``year``)."""
    if mode == "year":
        start, end = _year_earlier(filters.date_from), _year_earlier(filters.date_to)
    elif mode == "previous":
        months = _calendar_unit(filters)
        if months is not None:
            start = _add_months(filters.date_from, -months)
            end = filters.date_from - timedelta(days=1)
        else:
            end = filters.date_from - timedelta(days=1)
            start = end - (filters.date_to - filters.date_from)
    else:
        raise ValueError(f"unknown comparison {mode!r}; expected one of {', '.join(MODES)}")
    as_of = filters.as_of - (filters.date_to - end) if filters.as_of else None
    return filters.with_(date_from=start, date_to=end, as_of=as_of)


def bucket_position(filters: Filters) -> pl.Expr:
    """The bucket's position in the period: grain steps from the bucket of the first day."""
    first = pl.lit(filters.date_from)
    first = _truncate(first, filters.grain) if filters.grain != "day" else first
    bucket = pl.col("bucket").cast(pl.Date)
    if filters.grain in _MONTHS:
        months = (bucket.dt.year() - first.dt.year()) * 12 + bucket.dt.month() - first.dt.month()
        return (months // _MONTHS[filters.grain]).alias("_pos")
    days = (bucket - first).dt.total_days()
    return (days // 7 if filters.grain == "week" else days).alias("_pos")


def key_columns(df: pl.DataFrame, by: Sequence[str]) -> list[str]:
    """The metric's own key columns (``stage``, ``status``, ``transition``…): its non-numeric ones."""
    return [c for c, dtype in df.schema.items() if c not in by and not dtype.is_numeric()]


def with_previous(
    df_now: pl.DataFrame,
    df_prev: pl.DataFrame,
    by: Sequence[str],
    key_cols: Sequence[str],
    *,
    now: Filters | None = None,
    prev: Filters | None = None,
) -> pl.DataFrame:
    """``df_now`` with ``<column>_prev`` for each numeric column, from the ``df_prev`` row of the same
    group and keys; with a ``bucket`` breakdown ``now`` and ``prev`` (the two filters) align them."""
    keys = [c for c in by if c != "bucket"] + list(key_cols)
    values = [c for c, dtype in df_prev.schema.items() if dtype.is_numeric() and c not in keys]
    left, right = (
        df_now,
        df_prev.select(*keys, *[pl.col(c).alias(f"{c}_prev") for c in values], *(["bucket"] if "bucket" in by else [])),
    )
    if "bucket" in by:
        if now is None or prev is None:
            raise ValueError("with_previous: a bucket breakdown needs both periods' filters")
        left = left.with_columns(bucket_position(now))
        right = right.with_columns(bucket_position(prev)).drop("bucket")
        keys = [*keys, "_pos"]
    if not keys:  # one row per period (a total): side by side, empty when the earlier has none
        return left.join(right.head(1) if right.height else right.clear(1), how="cross")
    out = left.join(right, on=keys, how="left", nulls_equal=True, maintain_order="left")
    return out.drop("_pos", strict=False)


def compare_with(
    compute: Callable[[Filters], pl.DataFrame], filters: Filters, by: Sequence[str], mode: str
) -> pl.DataFrame:
    """``compute(filters)`` over the period and the compared one, joined by :func:`with_previous`.

    ``compute`` runs one metric call (the UI passes its cached call, the export the bare function)."""
    earlier = shifted(filters, mode)
    now_df, prev_df = compute(filters), compute(earlier)
    return with_previous(now_df, prev_df, by, key_columns(now_df, by), now=filters, prev=earlier)


def compare(fn: MetricFn, snap: Snapshot, filters: Filters, by: Sequence[str], mode: str) -> pl.DataFrame:
    """Run a metric over the period and the compared one; the table with its ``_prev`` columns."""
    return compare_with(lambda f: fn(snap, f, tuple(by)), filters, by, mode)


def deltas(df: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """``<c>_delta`` = ``c − c_prev`` and ``<c>_delta_pct`` = that change / ``c_prev`` for each of
    ``columns`` that has a ``_prev``. Choices: empty where either value is empty, and the share
    also where ``c_prev`` is 0 (a change from nothing has no percentage); for a rate the change is
    in the rate's own unit (percentage points of a fraction), the share relative to the old rate."""
    exprs = []
    for c in columns:
        if c not in df.columns or f"{c}_prev" not in df.columns:
            continue
        now, prev = pl.col(c).cast(pl.Float64), pl.col(f"{c}_prev").cast(pl.Float64)
        exprs.append((now - prev).alias(f"{c}_delta"))
        exprs.append(pl.when(prev != 0).then((now - prev) / prev.abs()).alias(f"{c}_delta_pct"))
    return df.with_columns(exprs) if exprs else df
