"""Periods and buckets in the report time zone.

A period is a half-open UTC interval [date_from 00:00, date_to + 1 00:00) of the report time
zone; a bucket is the first local date of the day, ISO week (Monday), month, quarter or year an
instant falls in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from report.metrics.filters import Filters

UTC = ZoneInfo("UTC")
_TRUNCATE = {"day": None, "week": "1w", "month": "1mo", "quarter": "1q", "year": "1y"}
#: Periods longer than this take the per-row bucket (a day table would not pay off).
_DAY_TABLE_LIMIT = timedelta(days=366 * 20)


def day_start_utc(day: date, tz: str) -> datetime:
    """00:00 of ``day`` in ``tz``, as an aware UTC datetime."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def period_utc(filters: Filters, tz: str) -> tuple[datetime, datetime]:
    """The period as a half-open UTC interval [date_from 00:00, date_to+1 00:00) of the report tz."""
    return day_start_utc(filters.date_from, tz), day_start_utc(filters.date_to + timedelta(days=1), tz)


def as_of_end_utc(filters: Filters, tz: str) -> datetime:
    """End of the as-of day (exclusive) in UTC."""
    return day_start_utc(filters.effective_as_of + timedelta(days=1), tz)


def in_period(col: str, filters: Filters, tz: str) -> pl.Expr:
    start, end = period_utc(filters, tz)
    return (pl.col(col) >= start) & (pl.col(col) < end)


def _truncate(day: pl.Expr, grain: str) -> pl.Expr:
    every = _TRUNCATE[grain]
    return day if every is None else day.dt.truncate(every)


def bucket_expr(col: str, grain: str, tz: str, days: tuple[date, date] | None = None) -> pl.Expr:
    """The bucket's first date (pl.Date) of a UTC timestamp, in ``tz``: day, ISO week (Monday),
    month, quarter or year.

    ``days`` (the period's first and last local day) is for speed only: rows in the period take
    their bucket from :func:`_bucket_from_day_table`, any other row the per-row zone lookup. Same
    answer either way."""
    per_row = _truncate(pl.col(col).dt.convert_time_zone(tz).dt.date(), grain)
    if days is None:
        return per_row.alias("bucket")
    start, end = day_start_utc(days[0], tz), day_start_utc(days[1] + timedelta(days=1), tz)
    if end <= start or end - start > _DAY_TABLE_LIMIT:
        return per_row.alias("bucket")
    fast, fast_ok = _bucket_from_day_table(pl.col(col), grain, tz, days, start, end)
    rest = _truncate(pl.when(fast_ok.not_()).then(pl.col(col)).dt.convert_time_zone(tz).dt.date(), grain)
    return pl.coalesce(pl.when(fast_ok).then(fast), rest).alias("bucket")


def _bucket_from_day_table(
    c: pl.Expr, grain: str, tz: str, days: tuple[date, date], start: datetime, end: datetime
) -> tuple[pl.Expr, pl.Expr]:
    """(bucket, where it applies) for rows in [start, end): the local day from the zone's UTC
    offset steps over the period (integer arithmetic), the bucket from a per-day table — about
    ten times faster than a per-row zone conversion and truncation."""
    steps = _offset_steps(tz, start, end)
    offset = pl.lit(steps[-1][1], dtype=pl.Int64)
    for (_, off), (until, _) in reversed(list(zip(steps, steps[1:], strict=False))):
        offset = pl.when(c < until).then(pl.lit(off, dtype=pl.Int64)).otherwise(offset)
    first = (days[0] - date(1970, 1, 1)).days
    table = _truncate(pl.date_range(days[0], days[1], "1d", eager=True), grain)
    index = (c.dt.epoch("us") + offset).floordiv(86_400_000_000) - first
    applies = (c >= start) & (c < end) & (index >= 0) & (index < len(table))
    return pl.lit(table).gather(index.clip(0, len(table) - 1)), applies


def day_bucket(col: str, grain: str) -> pl.Expr:
    """The bucket's first date of a local date column (a daily aggregate's ``day``): the same
    bucket :func:`bucket_expr` gives the instants of that day."""
    return _truncate(pl.col(col), grain)


def _offset_steps(tz: str, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """The UTC offset of ``tz`` over [start, end) as steps (from, offset in µs), read from the same
    zone database as ``convert_time_zone`` (hourly samples, each change pinned to the second)."""

    def offsets(instants: pl.Series) -> pl.Series:
        local = instants.dt.convert_time_zone(tz)
        return (local.dt.base_utc_offset() + local.dt.dst_offset()).dt.total_microseconds()

    samples = pl.datetime_range(start, end, "1h", time_unit="us", time_zone="UTC", eager=True)
    if samples[-1] != end:  # a period not a whole number of hours long: its end is a sample too
        samples.append(pl.Series([end], dtype=samples.dtype))
    off = offsets(samples)
    steps = [(start, int(off[0]))]
    for i in (off.diff() != 0).arg_true().to_list():  # a change within (samples[i-1], samples[i]]
        secs = pl.datetime_range(samples[i - 1], samples[i], "1s", time_unit="us", time_zone="UTC", eager=True)
        at = int((offsets(secs) != off[i - 1]).arg_true()[0])
        steps.append((secs[at], int(off[i])))
    return steps


def with_bucket(lf: pl.LazyFrame, by: Sequence[str], time_col: str, filters: Filters, tz: str) -> pl.LazyFrame:
    """Add the ``bucket`` column (of ``time_col``) when the breakdown asks for it."""
    if "bucket" not in by:
        return lf
    return lf.with_columns(bucket_expr(time_col, filters.grain, tz, (filters.date_from, filters.date_to)))


def bucket_start(day: date, grain: str) -> date:
    """The first day of the bucket ``day`` falls in (as :func:`bucket_expr`, for one date)."""
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    if grain == "year":
        return date(day.year, 1, 1)
    return day


def bucket_last_day(start: date, grain: str) -> date:
    """The last day of the bucket starting on ``start``."""
    if grain == "week":
        return start + timedelta(days=6)
    if grain in ("month", "quarter", "year"):
        months = {"month": 1, "quarter": 3, "year": 12}[grain]
        year, month = divmod(start.month - 1 + months, 12)
        return date(start.year + year, month + 1, 1) - timedelta(days=1)
    return start


def partial_buckets(filters: Filters, data_date: date) -> frozenset[date]:
    """First days of the period's buckets that are not whole: the first one when the period
    starts after the bucket does, the last one when the period ends before the bucket does or
    the data stops inside it. The data date itself counts as cut (the data were taken during
    that day), so with a day grain «today» is partial. Only the first and last buckets can be."""
    grain = filters.grain
    out = set()
    first = bucket_start(filters.date_from, grain)
    if first < filters.date_from:
        out.add(first)
    last = bucket_start(min(filters.date_to, data_date), grain)
    end = bucket_last_day(last, grain)
    if end > filters.date_to or end >= data_date:
        out.add(last)
    return frozenset(out)


def with_partial(df: pl.DataFrame, partial: frozenset[date]) -> pl.DataFrame:
    """A metric's result with a ``partial`` column (its bucket is cut: :func:`partial_buckets`)
    for the charts to mark; unchanged when it has no buckets."""
    if "bucket" not in df.columns:
        return df
    return df.with_columns(partial=pl.col("bucket").is_in(sorted(partial)))
