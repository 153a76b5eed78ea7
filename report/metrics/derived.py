"""Per-deal and per-row facts that several metrics need and that cost a group-by over the whole
history: computed once at build time when the build calls :func:`add_derived`, else computed on
the fly by the metrics (same functions, same answers, slower).

Columns added (all optional in a snapshot; docs/metrics.md lists them):
- ``entries.next_at``: time of the deal's next entry (null for its last) — status as of a date is
  then a filter, not a group-by.
- ``touches.prev_at``: time of the previous touch of the same deal (null for the first or an
  unattributed touch) — intervals between touches are then a filter.
- ``deals``: ``first_booked_at``, ``rebooked_at`` (first booked entry after a no_show that followed
  the first booking), ``first_no_answer_at``, ``lost_from_no_answer_at`` (first lost entry coming
  from no_answer), ``first_out_at`` (first call_out/sms_out at or after creation), ``n_touches``,
  ``n_calls``, ``n_sms`` (touches attributed to the deal so far).
- ``tasks.completed_day``: the local date of completion in the responsible user's time zone
  (users.tz) — "the manager's local day".
"""

from __future__ import annotations

import polars as pl

CALLS = ("call_in", "call_out")
SMSES = ("sms_in", "sms_out")
OUTGOING = ("call_out", "sms_out")
DEAL_TIME_COLS = ("first_booked_at", "rebooked_at", "first_no_answer_at", "lost_from_no_answer_at", "first_out_at")
DEAL_COUNT_COLS = ("n_touches", "n_calls", "n_sms")
DEAL_COLS = DEAL_TIME_COLS + DEAL_COUNT_COLS


def _first(lf: pl.LazyFrame, name: str) -> pl.LazyFrame:
    return lf.group_by("deal_id").agg(pl.col("at").min().alias(name))


def deal_extras(entries: pl.LazyFrame, touches: pl.LazyFrame) -> pl.LazyFrame:
    """deal_id + :data:`DEAL_COLS` for every deal that has entries or touches."""
    se = entries.filter(pl.col("is_stage_entry")).select("deal_id", "at", "stage", "from_stage")
    booked = se.filter(pl.col("stage") == "booked")
    first_booked = _first(booked, "first_booked_at")
    no_show = (
        se.filter(pl.col("stage") == "no_show")
        .join(first_booked, on="deal_id")
        .filter(pl.col("at") >= pl.col("first_booked_at"))
    )
    no_show = _first(no_show, "_ns_at")
    rebooked = _first(booked.join(no_show, on="deal_id").filter(pl.col("at") > pl.col("_ns_at")), "rebooked_at")
    first_na = _first(se.filter(pl.col("stage") == "no_answer"), "first_no_answer_at")
    lost_na = _first(
        se.filter((pl.col("stage") == "lost") & (pl.col("from_stage") == "no_answer")), "lost_from_no_answer_at"
    )
    t = touches.filter(pl.col("deal_id").is_not_null()).select("deal_id", "kind", "at", "deal_created_at")
    counts = t.group_by("deal_id").agg(
        pl.col("at")
        .filter(pl.col("kind").is_in(OUTGOING) & (pl.col("at") >= pl.col("deal_created_at")))
        .min()
        .alias("first_out_at"),
        pl.len().cast(pl.Int32).alias("n_touches"),
        pl.col("kind").is_in(CALLS).sum().cast(pl.Int32).alias("n_calls"),
        pl.col("kind").is_in(SMSES).sum().cast(pl.Int32).alias("n_sms"),
    )
    ids = pl.concat([entries.select("deal_id"), t.select("deal_id")]).unique()
    out = ids
    for part in (first_booked, rebooked, first_na, lost_na, counts):
        out = out.join(part, on="deal_id", how="left")
    return out.select("deal_id", *DEAL_COLS)


def with_deal_extras(deals: pl.LazyFrame, entries: pl.LazyFrame, touches: pl.LazyFrame) -> pl.LazyFrame:
    """Deals with :data:`DEAL_COLS` (counts 0 for deals without touches)."""
    out = deals.join(deal_extras(entries, touches), on="deal_id", how="left", maintain_order="left")
    return out.with_columns(pl.col(c).fill_null(0) for c in DEAL_COUNT_COLS)


def next_at() -> pl.Expr:
    """Time of the deal's next entry (entries are in time order by ``seq`` within a deal)."""
    return pl.col("at").shift(-1).over("deal_id", order_by="seq").alias("next_at")


def prev_touch_at() -> pl.Expr:
    """Time of the previous touch of the same deal (by time, then note id); null when unattributed."""
    prev = pl.col("at").shift(1).over("deal_id", order_by=["at", "touch_id"])
    return pl.when(pl.col("deal_id").is_not_null()).then(prev).alias("prev_at")


def with_completed_day(tasks: pl.DataFrame, users: pl.DataFrame, default_tz: str) -> pl.DataFrame:
    """Tasks with ``completed_day``: the completion's date in the user's time zone (one pass per zone)."""
    zones = users.select("user_id", pl.col("tz").alias("_tz"))
    t = tasks.with_row_index("_row").join(zones, on="user_id", how="left", maintain_order="left")
    t = t.with_columns(pl.col("_tz").fill_null(default_tz))
    day = pl.lit(None, dtype=pl.Date)
    for zone in t["_tz"].unique().sort().to_list():
        local = pl.col("completed_at").dt.convert_time_zone(zone).dt.date()
        day = pl.when(pl.col("_tz") == zone).then(local).otherwise(day)
    return t.with_columns(day.alias("completed_day")).sort("_row").drop("_row", "_tz")


def add_derived(tables: dict[str, pl.DataFrame], timezone: str = "Europe/Moscow") -> dict[str, pl.DataFrame]:
    """The snapshot tables with the derived columns added, row order unchanged (for etl.build)."""
    out = dict(tables)
    out["entries"] = tables["entries"].with_columns(next_at())
    out["touches"] = tables["touches"].with_columns(prev_touch_at())
    out["deals"] = with_deal_extras(
        tables["deals"].lazy(), tables["entries"].lazy(), tables["touches"].lazy()
    ).collect()
    out["tasks"] = with_completed_day(tables["tasks"], tables["users"], timezone)
    return out
