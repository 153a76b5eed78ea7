"""Every read of the snapshot (the data-access layer): filtered deals, entries, touches and tasks,
and the period reads that several metrics of one view share.

Metric functions say *what* they count; how the rows are read fast lives here, under names
that say what they give:

- the facts the build writes (etl.transform.facts: ``entries.next_at``, ``touches.prev_at``,
  per-deal first times and touch counts, running touch counts on entries, ``tasks.completed_day``)
  are mandatory columns of every snapshot; nothing is derived on the fly;
- :func:`deals_created_in`, :func:`touches_in`, :func:`tasks_created_in` and
  :func:`first_losses_in` decode the period's rows once per filter choice for the several
  metrics of a view;
- :func:`touch_totals_before` takes a deal's touch totals back to an instant by reading only the
  touches after it.

What each process keeps (the decoded columns, :func:`table`, and the last period reads,
:func:`remembered`) lives in :mod:`report.metrics.kept`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import polars as pl

from etl.snapshot.store import Snapshot, rebuild_command
from report.metrics.business_hours import Clock
from report.metrics.filters import Filters
from report.metrics.kept import remembered, table
from report.metrics.periods import in_period, period_utc
from report.metrics.shaping import CALL_KINDS, MetricInputError

#: The deal columns :func:`deals_created_in` keeps (the ones the touches and time tabs read).
PERIOD_DEAL_COLS = (
    "deal_id",
    "city",
    "channel",
    "user_id",
    "is_deleted",
    "created_at",
    "reach_contract",
    "first_out_at",
    "n_touches",
    "n_calls",
    "n_sms",
)
#: The touch columns :func:`touches_in` keeps.
PERIOD_TOUCH_COLS = (
    "deal_id",
    "kind",
    "at",
    "duration_s",
    "answered",
    "user_id",
    "city",
    "channel",
    "is_deleted",
    "deal_user_id",
    "prev_at",
)
#: The task columns :func:`tasks_created_in` keeps.
PERIOD_TASK_COLS = (
    "deal_id",
    "user_id",
    "deal_user_id",
    "city",
    "channel",
    "is_deleted",
    "created_at",
    "deadline",
    "is_completed",
    "completed_at",
)


def apply_filters(
    lf: pl.LazyFrame,
    filters: Filters,
    tz: str,
    *,
    time_col: str | None = None,
    day_col: str | None = None,
    manager_col: str = "manager",
    cc_users: frozenset[int] = frozenset(),
) -> pl.LazyFrame:
    """THE filter function: deleted rows out, then cities, managers, contact-centre managers,
    pipeline class and the period.

    Rows without a deal (unattributed touches, tasks on contacts) have null city/channel/deleted:
    they survive the deleted filter, and any city or channel filter drops them (they have neither).
    ``time_col`` None means the metric has no period on this frame (e.g. as-of metrics).
    ``day_col``: a daily aggregate's local date, the period taken on it (the aggregate has no
    ``is_deleted``: it holds live deals' rows only, etl/transform/daily.py).
    ``cc_users`` (:func:`contact_centre_users`) are left out when ``filters.cc_managers`` is
    False; a row without a manager stays.
    """
    if day_col is None:
        cond = pl.col("is_deleted").fill_null(False).not_()
    else:
        cond = pl.col(day_col).is_between(filters.date_from, filters.date_to)
    if filters.cities:
        cond = cond & pl.col("city").is_in(list(filters.cities))
    if filters.managers:
        cond = cond & pl.col(manager_col).is_in(list(filters.managers))
    if not filters.cc_managers and cc_users:
        cond = cond & pl.col(manager_col).is_in(sorted(cc_users)).fill_null(False).not_()
    if filters.channel != "all":
        cond = cond & (pl.col("channel") == filters.channel)
    if time_col is not None:
        cond = cond & in_period(time_col, filters, tz)
    return lf.filter(cond)


def contact_centre_users(snap: Snapshot) -> frozenset[int]:
    """Users most of whose deals (live ones) are in contact-centre pipelines: the contact
    centre's managers. Read from the data, not from names: amoCRM has no such flag (the demo
    account marks them «(КЦ)» in the name, a real account need not)."""

    def compute() -> pl.DataFrame:
        deals = table(snap, "deals", ["is_deleted", "user_id", "channel"])
        deals = deals.filter(~pl.col("is_deleted") & pl.col("user_id").is_not_null())
        share = deals.group_by("user_id").agg(cc=(pl.col("channel") == "contact_center").mean())
        return share.filter(pl.col("cc") > 0.5).select("user_id").collect()

    return frozenset(remembered(snap, ("contact_centre_users",), compute)["user_id"].to_list())


def _filter(lf: pl.LazyFrame, filters: Filters, snap: Snapshot, *, time_col: str | None) -> pl.LazyFrame:
    """:func:`apply_filters` with the snapshot's time zone and contact-centre managers."""
    cc = frozenset() if filters.cc_managers else contact_centre_users(snap)
    return apply_filters(lf, filters, snap.timezone, time_col=time_col, cc_users=cc)


def _shared(filters: Filters) -> Filters:
    """The part of the filters a shared period read applies (callers add the manager filter:
    metrics differ on whose row it is)."""
    return Filters(filters.date_from, filters.date_to, cities=filters.cities, channel=filters.channel)


def _columns(*groups: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(c for group in groups for c in group))


def deals(
    snap: Snapshot, filters: Filters, columns: Sequence[str], *, time_col: str | None = "created_at"
) -> pl.LazyFrame:
    """Filtered deals with ``manager`` = responsible user, whose ``time_col`` is in the period
    (``time_col`` None = no period filter)."""
    cols = _columns(["deal_id", "city", "channel", "user_id", "is_deleted", *columns], [time_col] if time_col else [])
    shared = time_col == "created_at" and set(cols) <= set(PERIOD_DEAL_COLS)
    src = deals_created_in(snap, filters) if shared else table(snap, "deals", cols)
    return _filter(src.select(cols).rename({"user_id": "manager"}), filters, snap, time_col=time_col)


def deals_created_in(snap: Snapshot, filters: Filters) -> pl.LazyFrame:
    """Deals created in the period, city and pipeline-class filters applied, columns
    :data:`PERIOD_DEAL_COLS` (``user_id`` not renamed); decoded once per filter choice."""
    base = _shared(filters)
    lf = table(snap, "deals", PERIOD_DEAL_COLS, within=("created_at", *period_utc(base, snap.timezone)))
    key = ("deals_created_in", base)
    return remembered(snap, key, lambda: apply_filters(lf, base, snap.timezone, time_col="created_at").collect()).lazy()


def entries(snap: Snapshot, filters: Filters, columns: Sequence[str], *, period: bool = True) -> pl.LazyFrame:
    """Filtered entries (``manager`` = the deal's responsible user); ``period`` False = the whole
    history (for a deal's status at some instant)."""
    cols = _columns(["deal_id", "at", "city", "channel", "deal_user_id", "is_deleted", *columns])
    within = ("at", *period_utc(filters, snap.timezone)) if period else None
    lf = table(snap, "entries", cols, within=within).rename({"deal_user_id": "manager"})
    return _filter(lf, filters, snap, time_col="at" if period else None)


#: Entry columns → the deal facts that hold them for the deal's last entry.
LAST_ENTRY_COLS = {
    "at": "last_entry_at",
    "pipeline_id": "last_pipeline_id",
    "status_id": "last_status_id",
    "stage": "last_stage",
}


def status_entries(snap: Snapshot, filters: Filters, end: datetime, columns: Sequence[str]) -> pl.LazyFrame:
    """Each filtered deal's status entry at ``end``: its last entry before ``end`` (the entry
    whose next one, ``next_at``, is not before ``end``); ``columns`` among :data:`LAST_ENTRY_COLS`.

    Read in two disjoint parts, the same rows as that filter over the whole entries table: the
    entries with ``at < end <= next_at`` (only deals that moved at or after ``end``: few for a
    recent instant; found with two cheap column comparisons before any other filter), and the
    deal's last entry (``next_at`` null, facts on ``deals``) when it is before ``end`` — one row
    per deal instead of one per entry.
    """
    names = ["deal_id", "at", "city", "channel", "deal_user_id", "is_deleted", *columns, "next_at"]
    cols = _columns(names)
    last_cols = [LAST_ENTRY_COLS[c] for c in cols if c in LAST_ENTRY_COLS]
    moved = table(snap, "entries", cols).filter((pl.col("at") < end) & (pl.col("next_at") >= end)).collect()
    last = (
        table(snap, "deals", ["deal_id", *last_cols, "city", "channel", "user_id", "is_deleted"])
        .select(
            "deal_id",
            *[pl.col(LAST_ENTRY_COLS[c]).alias(c) for c in cols if c in LAST_ENTRY_COLS],
            "city",
            "channel",
            pl.col("user_id").alias("deal_user_id"),
            "is_deleted",
            pl.lit(None, dtype=moved.schema["next_at"]).alias("next_at"),
        )
        .filter(pl.col("at") < end)
        .select(cols)
    )
    both = pl.concat([moved.lazy(), last]).rename({"deal_user_id": "manager"})
    return _filter(both, filters, snap, time_col=None)


def stages_at(snap: Snapshot, filters: Filters, at: datetime) -> pl.LazyFrame:
    """Each filtered deal that exists at ``at``: ``deal_id``, ``city``, ``channel``, ``manager``,
    the ``stage`` of its status at ``at`` and ``stage_entered_at`` = its last stage entry before
    ``at`` (the entry into that stage: a move within the stage is not an entry, METRICS.md)."""
    status = status_entries(snap, filters, at, ["stage"]).select("deal_id", "city", "channel", "manager", "stage")
    since = (
        table(snap, "entries", ["deal_id", "at", "is_stage_entry"])
        .filter(pl.col("is_stage_entry") & (pl.col("at") < at))
        .group_by("deal_id")
        .agg(pl.col("at").max().alias("stage_entered_at"))
    )
    return status.join(since, on="deal_id", how="left")


def stage_entries(snap: Snapshot, stage: str, columns: Sequence[str] = ()) -> pl.LazyFrame:
    """Entries into ``stage`` of every deal (``deal_id``, ``at`` and ``columns``): for joining to
    a cohort that passed the filters."""
    lf = table(snap, "entries", _columns(["deal_id", "at", "stage", "is_stage_entry", *columns]))
    return lf.filter(pl.col("is_stage_entry") & (pl.col("stage") == stage)).select(
        _columns(["deal_id", "at", *columns])
    )


def first_losses_in(snap: Snapshot, filters: Filters, columns: Sequence[str] = ()) -> pl.LazyFrame:
    """Per filtered deal: its first entry into lost within the period (``lost_at``), its group
    columns and the entry's ``columns``; computed once per filter choice."""

    def compute() -> pl.DataFrame:
        ent = entries(snap, filters, ["stage", "is_stage_entry", *columns]).filter(
            pl.col("is_stage_entry") & (pl.col("stage") == "lost")
        )
        ent = ent.sort("at").unique("deal_id", keep="first", maintain_order=False)
        return ent.select("deal_id", "city", "channel", "manager", pl.col("at").alias("lost_at"), *columns).collect()

    key = ("first_losses_in", filters.with_(grain="month", as_of=None), tuple(columns))
    return remembered(snap, key, compute).lazy()


def touches_in(snap: Snapshot, filters: Filters, *, manager: str = "user_id") -> pl.LazyFrame:
    """Touches in the period, every filter applied, columns :data:`PERIOD_TOUCH_COLS` with
    ``manager`` = ``manager`` (the touch's user, or ``deal_user_id``: the deal's responsible
    user). The period's rows are decoded once per filter choice."""
    base = _shared(filters)
    lf = table(snap, "touches", PERIOD_TOUCH_COLS, within=("at", *period_utc(base, snap.timezone)))
    rows = remembered(
        snap, ("touches_in", base), lambda: apply_filters(lf, base, snap.timezone, time_col="at").collect()
    )
    return _filter(rows.lazy().rename({manager: "manager"}), filters, snap, time_col="at")


def calls_in(snap: Snapshot, filters: Filters) -> pl.LazyFrame:
    """Calls in the period, ``manager`` = the call's user (unattributed calls included)."""
    return touches_in(snap, filters).filter(pl.col("kind").is_in(CALL_KINDS))


def touches_with_previous(snap: Snapshot, filters: Filters) -> pl.LazyFrame:
    """Touches of live deals in the period with ``prev_at`` (the deal's previous touch),
    ``manager`` = the deal's responsible user."""
    return touches_in(snap, filters, manager="deal_user_id").filter(pl.col("deal_id").is_not_null())


#: A deal's touch totals (facts on ``deals``) that :func:`touch_totals_before` takes back to an instant.
TOUCH_TOTALS = ("n_touches", "n_answered", "answered_s")


def touch_totals_before(snap: Snapshot, deal_ids: pl.Series, end: datetime) -> pl.LazyFrame:
    """``deal_id`` and :data:`TOUCH_TOTALS` of these (live) deals counting their touches strictly
    before ``end`` only: the deal's totals (build-time facts) minus its touches at or after ``end``.
    Only the touches after ``end`` are read (few for a recent instant), not every touch of deals
    that may be years old."""
    ids = deal_ids.implode()
    answered = pl.col("answered") & pl.col("kind").is_in(CALL_KINDS)
    later = (
        table(snap, "touches", ["deal_id", "kind", "at", "answered", "duration_s"], within=("at", end, None))
        .filter((pl.col("at") >= end) & pl.col("deal_id").is_in(ids))
        .group_by("deal_id")
        .agg(
            pl.len().cast(pl.Int32).alias("_n_touches"),
            answered.sum().cast(pl.Int32).alias("_n_answered"),
            pl.col("duration_s").filter(answered).sum().alias("_answered_s"),
        )
    )
    totals = table(snap, "deals", ["deal_id", *TOUCH_TOTALS]).filter(pl.col("deal_id").is_in(ids))
    return totals.join(later, on="deal_id", how="left").select(
        "deal_id", *[(pl.col(c) - pl.col(f"_{c}").fill_null(0)).alias(c) for c in TOUCH_TOTALS]
    )


def tasks_created_in(snap: Snapshot, filters: Filters, *, manager: str = "user_id") -> pl.LazyFrame:
    """Tasks created in the period, every filter applied, columns :data:`PERIOD_TASK_COLS` with
    ``manager`` = ``manager`` (the task's responsible user, or ``deal_user_id``); decoded once
    per filter choice."""
    base = _shared(filters)
    lf = table(snap, "tasks", PERIOD_TASK_COLS, within=("created_at", *period_utc(base, snap.timezone)))
    rows = remembered(
        snap,
        ("tasks_created_in", base),
        lambda: apply_filters(lf, base, snap.timezone, time_col="created_at").collect(),
    )
    return _filter(rows.lazy().rename({manager: "manager"}), filters, snap, time_col="created_at")


def completions_in(snap: Snapshot, filters: Filters) -> pl.DataFrame:
    """Tasks completed in the period: ``manager`` (responsible user), ``completed_at`` and ``day``
    (the local day in the manager's time zone), sorted by manager and completion time."""
    lf = table(snap, "tasks", ["city", "channel", "user_id", "is_deleted", "completed_at", "completed_day"])
    lf = _filter(lf.rename({"user_id": "manager"}), filters, snap, time_col="completed_at")
    done = lf.select("manager", "completed_at", pl.col("completed_day").alias("day")).collect()
    # two stable one-key sorts give the order of sort("manager", "completed_at") in half the time
    return done.sort("completed_at").sort("manager", maintain_order=True)


def status_names(snap: Snapshot) -> pl.LazyFrame:
    """``pipeline_id``, ``status_id``, ``status`` (the status's name)."""
    return table(snap, "statuses", ["pipeline_id", "status_id", "status"])


def manager_names(snap: Snapshot) -> pl.DataFrame:
    """``manager`` (user id), ``_name``."""
    return (
        table(snap, "users", ["user_id", "name"])
        .select(pl.col("user_id").alias("manager"), pl.col("name").alias("_name"))
        .collect()
    )


def clock(snap: Snapshot, filters: Filters) -> Clock | None:
    """How duration metrics count time under these filters: None = every second (calendar); in
    business mode the working hours the snapshot recorded (manifest ``settings.working_hours``,
    config.yaml at build time) with its cities' time zones."""
    if filters.hours != "business":
        return None
    hours = (snap.manifest.get("settings") or {}).get("working_hours") or {}
    if "default" not in hours:
        raise MetricInputError(
            f"snapshot {snap.id} records no working hours: rebuild it to count business hours "
            f"({rebuild_command(snap.path, snap.manifest)})"
        )
    cities = table(snap, "cities", ["city", "tz"]).collect()
    return Clock.from_settings(hours, dict(cities.iter_rows()), snap.timezone)


def period_end(snap: Snapshot, filters: Filters) -> datetime:
    """The period's end (exclusive) in UTC."""
    return period_utc(filters, snap.timezone)[1]
