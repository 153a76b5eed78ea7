"""Daily aggregates: the additive counts of the fact tables, summed per local day.

A count or a sum over a period is the sum of its days, so the metrics that only count or add
(calls and tasks per manager, deals created, stage entries, office load) read these tables
instead of the facts: a whole year of calls is ~80 000 rows here against ~420 000 facts. Medians,
distributions and per-deal questions keep reading the facts.

Each table is declared in etl/snapshot/schema.py (``aggregate_of`` names its fact table) and
built from the finished fact tables by :func:`add_daily` — after a full build and after an
incremental one alike, so the two stay byte-equal. The keys are exactly what the common filters
and breakdowns need (the day, city, pipeline class and the row's manager) and nothing else, so
a filter on them selects the same rows as on the facts:

- ``day`` is the local date in the report time zone, as a period and a bucket are;
- deleted deals' rows are left out (every metric leaves them out); rows without a deal
  (unattributed calls, tasks on contacts) are kept with a null city and channel, as the facts
  keep them, and ``on_deal`` says which they are;
- ``overdue`` is counted against the snapshot's ``data_as_of``, as ``tasks.by_manager`` does.

tests/report/metrics/test_metric_daily.py checks each metric read from here against the same count
made over the facts.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

CALL_KINDS = ("call_in", "call_out")


def _day(col: str, tz: str) -> pl.Expr:
    return pl.col(col).dt.convert_time_zone(tz).dt.date().alias("day")


def _live(lf: pl.LazyFrame) -> pl.LazyFrame:
    return lf.filter(pl.col("is_deleted").fill_null(False).not_())


def _summed(lf: pl.LazyFrame, keys: list[pl.Expr | str], values: list[pl.Expr]) -> pl.DataFrame:
    """group_by(keys).agg(values) in a fixed row order (the keys sorted, nulls last), so that the
    same facts always give the same bytes."""
    out = lf.group_by(keys).agg(values).collect()
    names = [k if isinstance(k, str) else k.meta.output_name() for k in keys]
    return out.sort(names, nulls_last=True)


def calls_daily(touches: pl.LazyFrame, tz: str) -> pl.DataFrame:
    """Calls per local day × city × pipeline class × caller × on a deal or not."""
    calls = _live(touches).filter(pl.col("kind").is_in(CALL_KINDS))
    keys = [_day("at", tz), "city", "channel", "user_id", pl.col("deal_id").is_not_null().alias("on_deal")]
    return _summed(
        calls,
        keys,
        [
            (pl.col("kind") == "call_in").sum().cast(pl.Int64).alias("incoming"),
            (pl.col("kind") == "call_out").sum().cast(pl.Int64).alias("outgoing"),
            pl.col("answered").sum().cast(pl.Int64).alias("answered"),
            pl.col("duration_s").sum().cast(pl.Int64).alias("duration_s"),
            pl.col("duration_s").filter(pl.col("answered")).sum().cast(pl.Int64).alias("answered_duration_s"),
        ],
    )


def tasks_daily(tasks: pl.LazyFrame, tz: str, now: datetime) -> pl.DataFrame:
    """Tasks per local day of creation × city × pipeline class × responsible user × on a deal:
    created, completed (by now) and overdue (completed after the deadline, or open past it at
    ``now``, the snapshot's data time)."""
    overdue = pl.col("deadline").is_not_null() & pl.when(pl.col("is_completed")).then(
        pl.col("completed_at").is_not_null() & (pl.col("completed_at") > pl.col("deadline"))
    ).otherwise(pl.col("deadline") < now)
    keys = [_day("created_at", tz), "city", "channel", "user_id", pl.col("deal_id").is_not_null().alias("on_deal")]
    return _summed(
        _live(tasks),
        keys,
        [
            pl.len().cast(pl.Int64).alias("created"),
            pl.col("is_completed").sum().cast(pl.Int64).alias("completed"),
            overdue.sum().cast(pl.Int64).alias("overdue"),
        ],
    )


def deals_daily(deals: pl.LazyFrame, tz: str) -> pl.DataFrame:
    """Deals per local day of creation × city × pipeline class × responsible user."""
    created = _live(deals).filter(pl.col("created_at").is_not_null())
    return _summed(
        created, [_day("created_at", tz), "city", "channel", "user_id"], [pl.len().cast(pl.Int64).alias("deals")]
    )


def entries_daily(entries: pl.LazyFrame, tz: str) -> pl.DataFrame:
    """Status entries per local day × city × pipeline class × the deal's responsible user ×
    stage entered: ``created`` = creations (a deal's first entry), ``stage_entries`` = entries
    into a stage the deal was not in (the creation included)."""
    counted = _live(entries).filter(pl.col("is_stage_entry") | (pl.col("seq") == 0))
    return _summed(
        counted,
        [_day("at", tz), "city", "channel", "deal_user_id", "stage"],
        [
            (pl.col("seq") == 0).sum().cast(pl.Int64).alias("created"),
            pl.col("is_stage_entry").sum().cast(pl.Int64).alias("stage_entries"),
        ],
    )


def add_daily(tables: dict[str, pl.DataFrame], tz: str, now: datetime) -> dict[str, pl.DataFrame]:
    """``tables`` (the finished fact tables) with every daily aggregate of the schema added."""
    return tables | {
        "calls_daily": calls_daily(tables["touches"].lazy(), tz),
        "tasks_daily": tasks_daily(tables["tasks"].lazy(), tz, now),
        "deals_daily": deals_daily(tables["deals"].lazy(), tz),
        "entries_daily": entries_daily(tables["entries"].lazy(), tz),
    }
