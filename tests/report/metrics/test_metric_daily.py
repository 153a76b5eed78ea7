"""Every metric that sums a daily aggregate gives what it gives over the facts.

The metrics sum the columns of a daily aggregate (etl/transform/daily.py). Here the same metric
functions run a second time with ``daily`` swapped for one row per fact — the fact filtered by
its own timestamp (``apply_filters`` with ``time_col``), bucketed from its timestamp, each count
column 1 or 0 — so the only thing that differs between the two answers is the aggregate: its
local days, its keys, its leaving out of deleted deals. Run on a generated demo account
(deleted deals, unattributed calls, tasks on contacts, both pipeline classes) over periods whose
edges fall on local midnight, every filter and every breakdown the metric offers. The hand-worked
answers of these metrics are in test_metric_calls.py and test_metric_funnels.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from report.metrics import calls, funnels
from report.metrics.access import apply_filters, contact_centre_users, table
from report.metrics.filters import Filters
from report.metrics.periods import bucket_expr
from report.metrics.registry import get

SUMMING = (
    "calls.by_manager",
    "tasks.by_manager",
    "office.load",
    "deals.created",
    "bookings.count",
    "consultations.attendance",
    "funnel.flow",
    "funnel.flow_from_lead",
    "kpi.touches",
)


def _flag(cond: pl.Expr) -> pl.Expr:
    return cond.fill_null(False).cast(pl.Int64)


def _calls(snap, lf: pl.LazyFrame) -> tuple[str, str, pl.LazyFrame]:
    answered = pl.col("answered")
    calls_ = lf.filter(pl.col("kind").is_in(["call_in", "call_out"])).with_columns(
        incoming=_flag(pl.col("kind") == "call_in"),
        outgoing=_flag(pl.col("kind") == "call_out"),
        answered=_flag(answered),
        answered_duration_s=pl.when(answered).then(pl.col("duration_s")).otherwise(0),
        on_deal=pl.col("deal_id").is_not_null(),
    )
    return "at", "user_id", calls_


def _tasks(snap, lf: pl.LazyFrame) -> tuple[str, str, pl.LazyFrame]:
    now = snap.data_as_of.astimezone(UTC)
    late = pl.when(pl.col("is_completed")).then(pl.col("completed_at") > pl.col("deadline"))
    late = late.otherwise(pl.col("deadline") < now)
    tasks = lf.with_columns(
        created=pl.lit(1, pl.Int64),
        completed=_flag(pl.col("is_completed")),
        overdue=_flag(pl.col("deadline").is_not_null() & late),
        on_deal=pl.col("deal_id").is_not_null(),
    )
    return "created_at", "user_id", tasks


def _deals(snap, lf: pl.LazyFrame) -> tuple[str, str, pl.LazyFrame]:
    return "created_at", "user_id", lf.with_columns(deals=pl.lit(1, pl.Int64))


def _entries(snap, lf: pl.LazyFrame) -> tuple[str, str, pl.LazyFrame]:
    entries = lf.with_columns(created=_flag(pl.col("seq") == 0), stage_entries=_flag(pl.col("is_stage_entry")))
    return "at", "deal_user_id", entries


FACTS = {
    "calls_daily": ("touches", _calls),
    "tasks_daily": ("tasks", _tasks),
    "deals_daily": ("deals", _deals),
    "entries_daily": ("entries", _entries),
}


def fact_rows(snap, name: str, filters: Filters, by: Sequence[str] = ()) -> pl.LazyFrame:
    """What ``report.metrics.daily.daily`` gives, but one row per fact: the facts' own period
    (their timestamp), their own bucket, a count of 1 or 0 per column."""
    source, rows = FACTS[name]
    time_col, manager, lf = rows(snap, table(snap, source))
    cc = frozenset() if filters.cc_managers else contact_centre_users(snap)
    lf = apply_filters(lf.rename({manager: "manager"}), filters, snap.timezone, time_col=time_col, cc_users=cc)
    return lf.with_columns(bucket_expr(time_col, filters.grain, snap.timezone)) if "bucket" in by else lf


OCTOBER = Filters(date(2026, 10, 1), date(2026, 10, 31))
FILTERS = [
    OCTOBER,
    OCTOBER.with_(date_from=date(2026, 10, 15), date_to=date(2026, 10, 15), grain="day"),
    Filters(date(2025, 11, 1), date(2026, 10, 31), grain="quarter"),
    Filters(date(2026, 3, 9), date(2026, 5, 3), grain="week"),
    OCTOBER.with_(channel="office"),
    OCTOBER.with_(channel="contact_center", grain="day"),
    OCTOBER.with_(cc_managers=False),
]


def _answers(snap, filters: Filters) -> dict[tuple[str, tuple[str, ...]], pl.DataFrame]:
    out = {}
    for metric_id in SUMMING:
        m = get(metric_id)
        for by in [(), *((b,) for b in m.breakdowns), ("manager", "bucket"), ("city", "bucket")]:
            if set(by) <= set(m.breakdowns):
                out[metric_id, by] = m.fn(snap, filters, by)
    return out


def _compare(snap, monkeypatch, filters: Filters) -> int:
    from_aggregates = _answers(snap, filters)
    with monkeypatch.context() as patched:
        for module in (calls, funnels):
            patched.setattr(module, "daily", fact_rows)
        from_facts = _answers(snap, filters)
    for (metric_id, by), df in from_aggregates.items():
        try:
            assert_frame_equal(df, from_facts[metric_id, by], check_exact=True)
        except AssertionError as exc:
            raise AssertionError(f"{metric_id} by {by or 'nothing'} under {filters.key()}: {exc}") from None
    return sum(df.height for df in from_aggregates.values())


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: f.key())
def test_summing_a_daily_aggregate_gives_the_count_over_the_facts(demo, monkeypatch, filters):
    rows = _compare(demo, monkeypatch, filters)
    assert rows > 100  # the account has something to count in every one of these views


def test_a_city_and_a_manager_filter_select_the_same_rows(demo, monkeypatch):
    deals = demo.read("deals").filter(~pl.col("is_deleted"))
    city = deals["city"].drop_nulls().mode().sort()[0]
    manager = deals["user_id"].drop_nulls().mode().sort()[0]
    _compare(demo, monkeypatch, OCTOBER.with_(cities=(city,)))
    _compare(demo, monkeypatch, OCTOBER.with_(managers=(manager,), grain="week"))


def test_the_aggregates_leave_out_deleted_deals_and_keep_calls_without_a_deal(demo):
    """What the equality above relies on, seen in the data: the demo account has deleted deals with
    calls (kept out of calls_daily) and unattributed calls (kept, without a city)."""
    touches = demo.read("touches").filter(pl.col("kind").is_in(["call_in", "call_out"]))
    deleted = touches.filter(pl.col("is_deleted").fill_null(False)).height
    unattributed = touches.filter(pl.col("deal_id").is_null()).height
    assert deleted > 0 and unattributed > 0
    daily = demo.read("calls_daily")
    summed = daily.select(pl.sum("incoming") + pl.sum("outgoing")).item()
    assert summed == touches.height - deleted
    assert daily.filter(~pl.col("on_deal")).select(pl.sum("incoming") + pl.sum("outgoing")).item() == unattributed
    assert daily.filter(~pl.col("on_deal"))["city"].null_count() == daily.filter(~pl.col("on_deal")).height
