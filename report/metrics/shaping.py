"""What metrics share once the rows are read: the breakdown check, aggregation, duration
statistics, rates, funnel-stage grids, and the output shape (group columns first, manager
names, exactly the contract's columns)."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from etl.config import ALL_STAGES, FUNNEL_STAGES
from etl.snapshot.store import Snapshot
from report.metrics.business_hours import Clock, business_duration

CALL_KINDS = ("call_in", "call_out")
STAGE_ORDER: dict[str, int] = {s: i for i, s in enumerate(ALL_STAGES)}
#: Group columns in their fixed output order.
GROUP_ORDER: tuple[str, ...] = ("city", "manager", "channel", "bucket", "package")


class MetricInputError(ValueError):
    """A metric was asked for something it cannot answer (e.g. an unsupported breakdown)."""


def check_by(by: Sequence[str], allowed: Sequence[str], metric_id: str) -> tuple[str, ...]:
    """Validate and canonically order the breakdown."""
    by = tuple(dict.fromkeys(by))
    bad = [b for b in by if b not in allowed]
    if bad:
        raise MetricInputError(
            f"{metric_id}: cannot break down by {', '.join(bad)}; supported: {', '.join(allowed) or 'nothing'}"
        )
    return tuple(g for g in GROUP_ORDER if g in by)


def aggregate(lf: pl.LazyFrame, keys: Sequence[str], exprs: Sequence[pl.Expr]) -> pl.LazyFrame:
    """group_by(keys).agg(exprs), or one total row when there are no keys (also on empty input)."""
    if keys:
        return lf.group_by(list(keys)).agg(exprs)
    return lf.select(exprs)


def seconds(end: str | pl.Expr, start: str | pl.Expr) -> pl.Expr:
    """Duration end − start in seconds (f64)."""
    end = pl.col(end) if isinstance(end, str) else end
    start = pl.col(start) if isinstance(start, str) else start
    return (end - start).dt.total_microseconds() / 1_000_000


def duration(end: str | pl.Expr, start: str | pl.Expr, clock: Clock | None) -> pl.Expr:
    """THE duration of every duration metric, end − start in seconds: every second in calendar
    mode (``clock`` None, :func:`report.metrics.access.clock`), or only the working seconds of
    the deal's schedule in business mode (then the rows need ``city`` and ``channel``; an end
    before the start gives null, which :func:`valid_durations` drops as it drops a negative)."""
    if clock is None:
        return seconds(end, start)
    end = pl.col(end) if isinstance(end, str) else end
    start = pl.col(start) if isinstance(start, str) else start
    return business_duration(end, start, clock)


def duration_stats(col: str = "d", p90: bool = True) -> list[pl.Expr]:
    """n, mean_s, median_s, p90_s (linear interpolation) over a column of durations already
    cleaned of negatives and nulls."""
    out = [
        pl.len().cast(pl.Int64).alias("n"),
        pl.col(col).mean().alias("mean_s"),
        pl.col(col).median().alias("median_s"),
    ]
    if p90:
        out.append(pl.col(col).quantile(0.9, "linear").alias("p90_s"))
    return out


def valid_durations(col: str = "d") -> pl.Expr:
    """Negative or missing durations are excluded, never 0-filled (METRICS.md)."""
    return pl.col(col).is_not_null() & (pl.col(col) >= 0)


def rate(num: str | pl.Expr, den: str | pl.Expr) -> pl.Expr:
    """num / den as a fraction; null where den is 0 or null."""
    num = pl.col(num) if isinstance(num, str) else num
    den = pl.col(den) if isinstance(den, str) else den
    return pl.when(den > 0).then(num.cast(pl.Float64) / den).otherwise(None)


def with_all_stages(
    counts: pl.DataFrame, keys: Sequence[str], stages: Sequence[str], fill: Sequence[str]
) -> pl.DataFrame:
    """Every group × every stage, missing counts as 0, with an ``_order`` column for sorting."""
    sf = pl.DataFrame({"stage": list(stages), "_order": [STAGE_ORDER[s] for s in stages]}).with_columns(
        pl.col("_order").cast(pl.Int32)
    )
    groups = counts.select(list(keys)).unique() if keys else None
    grid = groups.join(sf, how="cross") if groups is not None else sf
    out = grid.join(counts, on=[*keys, "stage"], how="left", nulls_equal=True)
    return out.with_columns([pl.col(c).fill_null(0) for c in fill])


def prev_ratio(col: str, keys: Sequence[str]) -> pl.Expr:
    """col / col of the previous funnel stage (within the group); null for lead and side stages."""
    prev = pl.col(col).shift(1)
    if keys:
        prev = prev.over(list(keys), order_by="_order")
    is_funnel = pl.col("stage").is_in(FUNNEL_STAGES[1:])
    return pl.when(is_funnel).then(rate(col, prev)).otherwise(None)


def finish(
    df: pl.DataFrame | pl.LazyFrame,
    snap: Snapshot,
    by: Sequence[str],
    columns: Sequence[str],
    *,
    sort_extra: Sequence[str] = (),
) -> pl.DataFrame:
    """Group columns first (manager as the user's name), then exactly ``columns``; sorted by the
    group columns and ``sort_extra``. Managers without a users row are shown as ``id <n>``."""
    from report.metrics.access import manager_names

    if isinstance(df, pl.LazyFrame):
        df = df.collect()
    sort_cols = [*by, *sort_extra]
    if sort_cols:
        df = df.sort(sort_cols, nulls_last=True, maintain_order=True)
    if "manager" in by:
        df = df.with_columns(pl.col("manager").cast(pl.Int64)).join(
            manager_names(snap), on="manager", how="left", maintain_order="left"
        )
        df = df.with_columns(
            manager=pl.coalesce("_name", pl.when(pl.col("manager").is_not_null()).then(pl.format("id {}", "manager")))
        )
    out = df.select([*by, *columns])
    if "bucket" in out.columns:
        out = out.with_columns(pl.col("bucket").cast(pl.Date))
    return out
