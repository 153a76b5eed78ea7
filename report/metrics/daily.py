"""Reads of the daily aggregates (etl/transform/daily.py): the additive metrics' rows.

A metric that only counts or adds (calls and tasks per manager, deals created, stage entries,
office load) sums a daily aggregate's columns instead of counting facts; what a filter keeps is
the same, because an aggregate's keys are the filters' columns (the local day, city, pipeline
class, the row's manager) and it holds live deals' rows only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import polars as pl

from etl.snapshot.store import Snapshot
from report.metrics.access import apply_filters, contact_centre_users, table
from report.metrics.filters import Filters
from report.metrics.periods import day_bucket

#: Whose user an aggregate's manager column is: the row's own (caller, task holder, deal's
#: responsible user), or for stage entries the deal's responsible user.
MANAGER_COLUMN = {"calls_daily": "user_id", "tasks_daily": "user_id", "deals_daily": "user_id"}
MANAGER_COLUMN |= {"entries_daily": "deal_user_id"}


def daily(snap: Snapshot, name: str, filters: Filters, by: Sequence[str] = ()) -> pl.LazyFrame:
    """The aggregate ``name``'s days in the period, every filter applied, its manager column as
    ``manager`` and, when ``by`` asks for it, the ``bucket`` of each day."""
    within = ("day", filters.date_from, filters.date_to + timedelta(days=1))
    lf = table(snap, name, within=within).rename({MANAGER_COLUMN[name]: "manager"})
    cc = frozenset() if filters.cc_managers else contact_centre_users(snap)
    lf = apply_filters(lf, filters, snap.timezone, day_col="day", cc_users=cc)
    return lf.with_columns(bucket=day_bucket("day", filters.grain)) if "bucket" in by else lf


def summed(columns: Sequence[str]) -> list[pl.Expr]:
    """The sums of ``columns`` (Int64, 0 over no rows)."""
    return [pl.col(c).sum().cast(pl.Int64) for c in columns]
