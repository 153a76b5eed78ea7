"""Tabs "Touches: all pipelines" and "Touches: office" (Касания): calls and SMS per deal, calls
and tasks per manager, the leaderboard, per-office load and the data-quality panel.

The office tab is the same set with ``Filters.channel`` fixed to ``office`` by the UI.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from etl.snapshot.store import Snapshot
from etl.transform.facts import CONTRACT_COLS, ENTRY_BEFORE_COLS, ENTRY_UPTO_COLS, with_completed_day
from report.metrics.common import (
    CALL_KINDS,
    PERIOD_TASK_COLS,
    aggregate,
    apply_filters,
    check_by,
    deals,
    duration_stats,
    entries,
    finish,
    has_columns,
    kept,
    period_tasks,
    period_touches,
    period_utc,
    rate,
    seconds,
    status_entries,
    touch_counts,
    touches_of,
    touches_with_prev,
    valid_durations,
    with_bucket,
)
from report.metrics.filters import Filters
from report.metrics.registry import metric
from report.metrics.times import DURATION_COLUMNS, to_first_touch

DEAL_GROUPS = ("city", "manager", "channel", "bucket")
TOUCH_COLUMNS = ("n", "mean_touches", "mean_calls", "mean_sms")


def _touch_means(per: pl.LazyFrame, snap: Snapshot, by: tuple[str, ...]) -> pl.DataFrame:
    """n deals and mean touches/calls/SMS per deal (zeros included)."""
    per = per.with_columns(pl.col("touches", "calls", "sms").fill_null(0))
    agg = aggregate(
        per,
        by,
        [
            pl.len().cast(pl.Int64).alias("n"),
            pl.col("touches").mean().cast(pl.Float64).alias("mean_touches"),
            pl.col("calls").mean().cast(pl.Float64).alias("mean_calls"),
            pl.col("sms").mean().cast(pl.Float64).alias("mean_sms"),
        ],
    )
    return finish(agg, snap, by, list(TOUCH_COLUMNS))


def _counts_until(
    snap: Snapshot,
    cohort: pl.LazyFrame,
    until: str | None,
    *,
    since: str | None = None,
    strict: bool = False,
    before: datetime | None = None,
):
    """Per deal of ``cohort``: touches/calls/SMS with at ≤ (or <) the cohort's ``until`` column and
    ≥ its ``since`` column. ``before``: a bound on ``until`` (the period's end), so that the scan
    skips the row groups after it."""
    cols = ["deal_id", *[c for c in (until, since) if c]]
    cohort = cohort.collect()
    t = touches_of(snap, cohort["deal_id"])
    cohort = cohort.lazy()
    if before is not None:
        t = t.filter(pl.col("at") < before)
    t = t.join(cohort.select(cols), on="deal_id", how="inner")
    if until:
        t = t.filter(pl.col("at") < pl.col(until) if strict else pl.col("at") <= pl.col(until))
    if since:
        t = t.filter(pl.col("at") >= pl.col(since))
    return cohort.join(t.group_by("deal_id").agg(touch_counts(t)), on="deal_id", how="left")


@metric(
    id="touches.per_deal",
    columns=TOUCH_COLUMNS,
    breakdowns=DEAL_GROUPS,
    title_ru="Касаний на сделку",
    title_en="Touches per deal",
    definition_ru="Сделки, созданные в периоде: среднее число звонков, SMS и всех касаний на сделку за всю её жизнь "
    "(сделки без касаний — с нулём).",
    definition_en="Deals created in the period: mean calls, SMS and touches per deal over its life so far (untouched deals "
    "count as zero).",
)
def per_deal(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Deals created in the period: mean calls, SMS and touches per deal over the deal's life so
    far, deals without touches included as zeros."""
    by = check_by(by, DEAL_GROUPS, "touches.per_deal")
    tz = snap.timezone
    per = deals(snap, filters, ["n_touches", "n_calls", "n_sms"])
    per = with_bucket(per, by, "created_at", filters, tz).rename(
        {"n_touches": "touches", "n_calls": "calls", "n_sms": "sms"}
    )
    return _touch_means(per, snap, by)


@metric(
    id="touches.before_contract",
    columns=TOUCH_COLUMNS,
    breakdowns=DEAL_GROUPS,
    title_ru="Касаний до договора",
    title_en="Touches before contract",
    definition_ru="Сделки, впервые дошедшие до договора в периоде: среднее число касаний, звонков и SMS до этого момента.",
    definition_en="Deals that first reached contract in the period: mean touches, calls and SMS before that moment.",
)
def before_contract(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Deals that first reached contract in the period: mean touches, calls and SMS before that
    moment (strictly before)."""
    by = check_by(by, DEAL_GROUPS, "touches.before_contract")
    tz = snap.timezone
    if has_columns(snap, "deals", CONTRACT_COLS):
        per = deals(snap, filters, CONTRACT_COLS, time_col="reach_contract")
        per = per.rename(dict(zip(CONTRACT_COLS, ("touches", "calls", "sms"), strict=True)))
        return _touch_means(with_bucket(per, by, "reach_contract", filters, tz), snap, by)
    cohort = with_bucket(deals(snap, filters, [], time_col="reach_contract"), by, "reach_contract", filters, tz)
    end = period_utc(filters, tz)[1]
    return _touch_means(_counts_until(snap, cohort, "reach_contract", strict=True, before=end), snap, by)


def _lost_in_period(snap: Snapshot, filters: Filters, extra: tuple[str, ...] = ()) -> pl.LazyFrame:
    """Per deal: its first entry into lost within the period (``lost_at``) and group columns.
    Computed once per filter choice for before_lost and no_show_to_lost (see ``kept``)."""

    def compute() -> pl.DataFrame:
        ent = entries(snap, filters, ["stage", "is_stage_entry", *extra]).filter(
            pl.col("is_stage_entry") & (pl.col("stage") == "lost")
        )
        ent = ent.sort("at").unique("deal_id", keep="first", maintain_order=False)
        return ent.select("deal_id", "city", "channel", "manager", pl.col("at").alias("lost_at"), *extra).collect()

    key = ("lost_in_period", str(snap.path), filters.with_(grain="month", as_of=None), extra)
    return kept(key, compute).lazy()


@metric(
    id="touches.before_lost",
    columns=TOUCH_COLUMNS,
    breakdowns=DEAL_GROUPS,
    title_ru="Касаний до утилизации",
    title_en="Touches before lost",
    definition_ru="Сделки, закрытые как нереализованные в периоде: среднее число касаний, звонков и SMS до закрытия.",
    definition_en="Deals closed lost in the period: mean touches, calls and SMS up to the closing.",
)
def before_lost(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Deals that entered lost in the period ("utilisation"): mean touches, calls and SMS up to and
    including that entry. Choice: a deal lost twice in the period counts once, at its first loss."""
    by = check_by(by, DEAL_GROUPS, "touches.before_lost")
    tz = snap.timezone
    if has_columns(snap, "entries", ENTRY_UPTO_COLS):
        per = _lost_in_period(snap, filters, ENTRY_UPTO_COLS)
        per = per.rename(dict(zip(ENTRY_UPTO_COLS, ("touches", "calls", "sms"), strict=True)))
        return _touch_means(with_bucket(per, by, "lost_at", filters, tz), snap, by)
    cohort = with_bucket(_lost_in_period(snap, filters), by, "lost_at", filters, tz)
    end = period_utc(filters, tz)[1]
    return _touch_means(_counts_until(snap, cohort, "lost_at", before=end), snap, by)


@metric(
    id="touches.no_show_to_lost",
    columns=TOUCH_COLUMNS,
    breakdowns=DEAL_GROUPS,
    title_ru="Касания от неявки до утилизации",
    title_en="Touches from no-show to lost",
    definition_ru="Сделки, закрытые как нереализованные в периоде после неявки: касания от последней неявки до закрытия.",
    definition_en="Deals closed lost in the period after a no-show: touches from the last no-show to the closing.",
)
def no_show_to_lost(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Deals that entered lost in the period after a no_show: touches from the last no_show entry
    before the loss up to the lost entry. Choice: the first loss in the period is used."""
    by = check_by(by, DEAL_GROUPS, "touches.no_show_to_lost")
    tz = snap.timezone
    precomputed = has_columns(snap, "entries", (*ENTRY_UPTO_COLS, *ENTRY_BEFORE_COLS))
    lost = _lost_in_period(snap, filters, ENTRY_UPTO_COLS if precomputed else ()).collect().lazy()
    end = period_utc(filters, tz)[1]
    no_show = (
        snap.scan("entries")
        .select("deal_id", "at", "stage", "is_stage_entry", *(ENTRY_BEFORE_COLS if precomputed else ()))
        .filter((pl.col("at") < end) & pl.col("is_stage_entry") & (pl.col("stage") == "no_show"))
        .rename({"at": "ns_at"})
        .join(lost.select("deal_id", "lost_at"), on="deal_id", how="inner")
        .filter(pl.col("ns_at") <= pl.col("lost_at"))
        .sort("ns_at")
        .unique("deal_id", keep="last", maintain_order=False)  # the last no_show before the loss
        .drop("lost_at")
    )
    cohort = with_bucket(lost.join(no_show, on="deal_id", how="inner"), by, "lost_at", filters, tz)
    if precomputed:  # touches in [ns_at, lost_at] = up to the loss − strictly before the no_show
        per = cohort.with_columns(
            touches=pl.col("touches_upto") - pl.col("touches_before"),
            calls=pl.col("calls_upto") - pl.col("calls_before"),
            sms=pl.col("sms_upto") - pl.col("sms_before"),
        )
        return _touch_means(per, snap, by)
    return _touch_means(_counts_until(snap, cohort, "lost_at", since="ns_at", before=end), snap, by)


@metric(
    id="touches.negative_status",
    columns=["stage", "deals", "mean_touches", "mean_answered_s"],
    breakdowns=DEAL_GROUPS,
    title_ru="Касания в негативных статусах",
    title_en="Touches in negative statuses",
    definition_ru="Сделки периода, которые к концу периода стоят в «Не записался» или «Не отвечает»: число, касаний на "
    "сделку и средняя длительность отвеченных звонков.",
    definition_en="Deals of the period that sit in not-booked or no-answer at the period's end: count, touches per deal and "
    "mean answered call duration.",
)
def negative_status(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Deals created in the period whose status at the end of the period has stage not_booked or
    no_answer (each apart): count, mean touches per deal and mean duration of answered calls, both
    up to the end of the period.

    Choice: the deals are those created in the period (else years-old stuck deals would swamp
    every period); the answered-call mean is over calls, not over deals.
    """
    by = check_by(by, DEAL_GROUPS, "touches.negative_status")
    tz = snap.timezone
    _, end = period_utc(filters, tz)
    keys = list(by)
    cohort = deals(snap, filters, []).collect()
    negative = pl.col("stage").is_in(["not_booked", "no_answer"])
    if has_columns(snap, "entries", ["next_at"]):
        # The cohort passed the filters and entries carry their deal's city, channel, deleted flag
        # and manager, so only the status at the end is read (4 columns, not 8).
        ent = (
            snap.scan("entries")
            .select("deal_id", "at", "next_at", "stage")
            .filter(
                negative
                & (pl.col("at") < end)
                & (pl.col("next_at").is_null() | (pl.col("next_at") >= end))
                & pl.col("deal_id").is_in(cohort["deal_id"].implode())
            )
        )
    else:
        ent = status_entries(snap, filters, end, ["stage"], cohort["deal_id"]).filter(negative)
    ent = ent.select("deal_id", pl.col("stage").alias("end_stage"))
    cohort = cohort.lazy().join(ent, on="deal_id", how="inner").collect()
    t = touches_of(
        snap, cohort["deal_id"], ["kind", "at", "duration_s", "answered"], oldest=cohort["created_at"].min()
    ).filter(pl.col("at") < end)
    cohort = with_bucket(cohort.lazy(), by, "created_at", filters, tz)
    per = t.group_by("deal_id").agg(
        pl.len().alias("touches"),
        pl.col("duration_s").filter(pl.col("answered") & pl.col("kind").is_in(CALL_KINDS)).sum().alias("ans_s"),
        (pl.col("answered") & pl.col("kind").is_in(CALL_KINDS)).sum().alias("ans_n"),
    )
    per = cohort.join(per, on="deal_id", how="left").with_columns(pl.col("touches", "ans_s", "ans_n").fill_null(0))
    agg = per.group_by([*keys, "end_stage"]).agg(
        pl.len().cast(pl.Int64).alias("deals"),
        pl.col("touches").mean().cast(pl.Float64).alias("mean_touches"),
        pl.col("ans_s").sum().alias("_ans_s"),
        pl.col("ans_n").sum().alias("_ans_n"),
    )
    agg = agg.rename({"end_stage": "stage"}).with_columns(mean_answered_s=rate("_ans_s", "_ans_n")).collect()
    stages = pl.DataFrame({"stage": ["not_booked", "no_answer"], "_order": [0, 1]})
    grid = agg.select(keys).unique().join(stages, how="cross") if keys else stages
    agg = grid.join(agg, on=[*keys, "stage"], how="left", nulls_equal=True).with_columns(pl.col("deals").fill_null(0))
    return finish(agg, snap, by, ["stage", "deals", "mean_touches", "mean_answered_s"], sort_extra=["_order"])


@metric(
    id="touches.interval",
    columns=DURATION_COLUMNS,
    breakdowns=DEAL_GROUPS,
    title_ru="Интервал между касаниями",
    title_en="Interval between touches",
    definition_ru="Время между соседними касаниями одной сделки, для пар, где второе касание в периоде.",
    definition_en="Time between consecutive touches of the same deal, for pairs whose later touch is in the period.",
)
def interval(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Time between consecutive touches of the same deal, for pairs whose later touch is in the
    period. Choice: ``manager`` is the deal's responsible user; touches at the same instant give 0."""
    by = check_by(by, DEAL_GROUPS, "touches.interval")
    tz = snap.timezone
    t = touches_with_prev(snap, filters, []).with_columns(d=seconds("at", "prev_at")).filter(valid_durations())
    t = with_bucket(t, by, "at", filters, tz)
    return finish(aggregate(t, by, duration_stats()), snap, by, list(DURATION_COLUMNS))


def _calls(snap: Snapshot, filters: Filters, by: tuple[str, ...], columns: list[str]) -> pl.LazyFrame:
    """Calls in the period, ``manager`` = the call's user (unattributed calls included)."""
    t = period_touches(snap, filters).select("kind", "at", "city", "channel", "user_id", "is_deleted", *columns)
    t = apply_filters(t.rename({"user_id": "manager"}), filters, snap.timezone, time_col="at")
    return with_bucket(t.filter(pl.col("kind").is_in(CALL_KINDS)), by, "at", filters, snap.timezone)


@metric(
    id="calls.by_manager",
    columns=["incoming", "outgoing", "answered", "total_duration_s", "mean_answered_s"],
    breakdowns=("manager", "bucket", "city", "channel"),
    title_ru="Звонки по менеджерам",
    title_en="Calls by manager",
    definition_ru="Звонки в периоде по сотруднику, который звонил: входящие, исходящие, отвеченные, общая и средняя "
    "длительность отвеченных.",
    definition_en="Calls in the period by the user who made or took them: incoming, outgoing, answered, total duration and "
    "mean answered duration.",
)
def calls_by_manager(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Calls in the period by the call's user, per bucket: incoming, outgoing, answered, total
    duration and mean answered duration. Unattributed calls count too (no city, no pipeline class,
    so a city or pipeline-class filter drops them)."""
    by = check_by(by, ("manager", "bucket", "city", "channel"), "calls.by_manager")
    t = _calls(snap, filters, by, ["duration_s", "answered"])
    agg = aggregate(
        t,
        by,
        [
            (pl.col("kind") == "call_in").sum().cast(pl.Int64).alias("incoming"),
            (pl.col("kind") == "call_out").sum().cast(pl.Int64).alias("outgoing"),
            pl.col("answered").sum().cast(pl.Int64).alias("answered"),
            pl.col("duration_s").sum().cast(pl.Int64).alias("total_duration_s"),
            pl.col("duration_s").filter(pl.col("answered")).mean().cast(pl.Float64).alias("mean_answered_s"),
        ],
    )
    return finish(agg, snap, by, ["incoming", "outgoing", "answered", "total_duration_s", "mean_answered_s"])


def _tasks(snap: Snapshot, filters: Filters, time_col: str, columns: list[str]) -> pl.LazyFrame:
    shared = time_col == "created_at" and set(columns) <= set(PERIOD_TASK_COLS)
    src = period_tasks(snap, filters) if shared else snap.scan("tasks")
    t = src.select("city", "channel", "user_id", "is_deleted", time_col, *columns)
    return apply_filters(t.rename({"user_id": "manager"}), filters, snap.timezone, time_col=time_col)


@metric(
    id="tasks.by_manager",
    columns=["created", "completed", "overdue"],
    breakdowns=("manager", "bucket", "city", "channel"),
    title_ru="Задачи по менеджерам",
    title_en="Tasks by manager",
    definition_ru="Задачи, созданные в периоде, по ответственному: создано, выполнено, просрочено (выполнена после срока "
    "или открыта после срока).",
    definition_en="Tasks created in the period by responsible user: created, completed, overdue (completed after the "
    "deadline or open past it).",
)
def tasks_by_manager(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Tasks created in the period by responsible user: created, completed (by now), overdue
    (completed after the deadline, or still open past it at the snapshot's data time).

    Choices: tasks without a deadline are never overdue; tasks not on a deal have no city or
    pipeline class, so those filters drop them; the mean per manager is the total divided by the
    number of manager rows (the UI shows it), not a column.
    """
    by = check_by(by, ("manager", "bucket", "city", "channel"), "tasks.by_manager")
    now = snap.data_as_of.astimezone(UTC)
    t = with_bucket(
        _tasks(snap, filters, "created_at", ["deadline", "is_completed", "completed_at"]),
        by,
        "created_at",
        filters,
        snap.timezone,
    )
    overdue = pl.col("deadline").is_not_null() & pl.when(pl.col("is_completed")).then(
        pl.col("completed_at").is_not_null() & (pl.col("completed_at") > pl.col("deadline"))
    ).otherwise(pl.col("deadline") < now)
    agg = aggregate(
        t,
        by,
        [
            pl.len().cast(pl.Int64).alias("created"),
            pl.col("is_completed").sum().cast(pl.Int64).alias("completed"),
            overdue.sum().cast(pl.Int64).alias("overdue"),
        ],
    )
    return finish(agg, snap, by, ["created", "completed", "overdue"])


@metric(
    id="tasks.day_gaps",
    columns=["n", "mean_s", "median_s"],
    breakdowns=("manager",),
    title_ru="Окна между задачами",
    title_en="Gaps between tasks",
    definition_ru="Выполненные в периоде задачи по менеджеру и его местному дню: промежутки между соседними выполнениями "
    "за день, среднее и медиана.",
    definition_en="Tasks completed in the period per manager and local day: gaps between consecutive completions in a day, "
    "mean and median.",
)
def day_gaps(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Tasks completed in the period, per manager and the manager's local day (users' time zone):
    gaps between consecutive completions on the same day; n gaps, mean and median gap.

    Choice: a day with one completion has no gap; the statistics are over all gaps (of all days)."""
    by = check_by(by, ("manager",), "tasks.day_gaps")
    if has_columns(snap, "tasks", ["completed_day"]):
        t = _tasks(snap, filters, "completed_at", ["completed_day"]).filter(pl.col("completed_at").is_not_null())
        t = t.select("manager", "completed_at", pl.col("completed_day").alias("day")).collect()
    else:
        t = _tasks(snap, filters, "completed_at", []).filter(pl.col("completed_at").is_not_null())
        users = snap.read("users")
        t = with_completed_day(t.rename({"manager": "user_id"}).collect(), users, snap.timezone)
        t = t.select(pl.col("user_id").alias("manager"), "completed_at", pl.col("completed_day").alias("day"))
    same_day = (pl.col("manager") == pl.col("manager").shift(1)) & (pl.col("day") == pl.col("day").shift(1))
    # two stable one-key sorts give the order of sort("manager", "completed_at") in half the time
    t = (
        t.sort("completed_at")
        .sort("manager", maintain_order=True)
        .with_columns(d=pl.when(same_day).then(seconds("completed_at", pl.col("completed_at").shift(1))))
    )
    t = t.filter(valid_durations())
    agg = aggregate(t.lazy(), by, duration_stats(p90=False))
    return finish(agg, snap, by, ["n", "mean_s", "median_s"])


@metric(
    id="managers.leaderboard",
    columns=["deals", "contracts", "conversion", "median_first_touch_s", "touches_per_deal", "answered_minutes"],
    breakdowns=("manager",),
    title_ru="Рейтинг менеджеров",
    title_en="Manager leaderboard",
    definition_ru="По ответственному менеджеру: сделки периода, дошедшие до договора, конверсия, медиана времени до "
    "первого касания, касаний на сделку, минуты отвеченных звонков.",
    definition_en="Per responsible manager: deals of the period, contracts, conversion, median time to first touch, "
    "touches per deal, answered call minutes.",
)
def leaderboard(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Per responsible manager: deals created in the period, how many reached contract, conversion
    lead→contract, median time to first outgoing touch, touches per deal (life so far) and answered
    call minutes.

    Choices: always one row per manager (the manager column is always there); answered minutes are
    the minutes of answered calls the manager made or took in the period (the call's user), so a
    manager with calls but no new deals is listed too.
    """
    check_by(by, ("manager",), "managers.leaderboard")
    by = ("manager",)
    per = deals(snap, filters, ["reach_contract", "first_out_at", "n_touches"]).rename({"n_touches": "touches"})
    per = per.with_columns(ft=seconds("first_out_at", "created_at"))
    board = per.group_by("manager").agg(
        pl.len().cast(pl.Int64).alias("deals"),
        pl.col("reach_contract").is_not_null().sum().cast(pl.Int64).alias("contracts"),
        pl.col("ft").median().alias("median_first_touch_s"),
        pl.col("touches").mean().cast(pl.Float64).alias("touches_per_deal"),
    )
    minutes = (
        _calls(snap, filters, (), ["duration_s", "answered"])
        .filter(pl.col("answered") & pl.col("manager").is_not_null())
        .group_by("manager")
        .agg((pl.col("duration_s").sum() / 60).alias("answered_minutes"))
    )
    out = board.join(minutes, on="manager", how="full", coalesce=True).with_columns(
        pl.col("deals", "contracts").fill_null(0), pl.col("answered_minutes").fill_null(0.0)
    )
    out = out.with_columns(conversion=rate("contracts", "deals"))
    cols = ["deals", "contracts", "conversion", "median_first_touch_s", "touches_per_deal", "answered_minutes"]
    return finish(out, snap, by, cols)


@metric(
    id="office.load",
    columns=["deals", "calls", "tasks", "managers", "deals_per_manager", "calls_per_manager", "tasks_per_manager"],
    breakdowns=("city",),
    title_ru="Нагрузка офисов",
    title_en="Office load",
    definition_ru="По городу: сделки, звонки и задачи за период, число менеджеров и нагрузка на менеджера.",
    definition_en="Per city: deals, calls and tasks in the period, the number of managers and the load per manager.",
)
def office_load(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Per city (office): deals created, calls and tasks created in the period, the number of
    managers, and each per manager.

    Choices: managers = distinct responsible users of the city's deals created in the period;
    calls and tasks are those on the city's deals (by the deal's city); per-manager values are
    empty when the city has no such manager. Always one row per city.
    """
    check_by(by, ("city",), "office.load")
    by = ("city",)
    tz = snap.timezone
    d = (
        deals(snap, filters, [])
        .group_by("city")
        .agg(pl.len().cast(pl.Int64).alias("deals"), pl.col("manager").n_unique().cast(pl.Int64).alias("managers"))
    )
    calls = (
        apply_filters(
            period_touches(snap, filters)
            .select("kind", "at", "city", "channel", "deal_user_id", "is_deleted", "deal_id")
            .rename({"deal_user_id": "manager"}),
            filters,
            tz,
            time_col="at",
        )
        .filter(pl.col("kind").is_in(CALL_KINDS) & pl.col("deal_id").is_not_null())
        .group_by("city")
        .agg(pl.len().cast(pl.Int64).alias("calls"))
    )
    tasks = (
        apply_filters(
            period_tasks(snap, filters)
            .select("city", "channel", "deal_user_id", "is_deleted", "created_at", "deal_id")
            .rename({"deal_user_id": "manager"}),
            filters,
            tz,
            time_col="created_at",
        )
        .filter(pl.col("deal_id").is_not_null())
        .group_by("city")
        .agg(pl.len().cast(pl.Int64).alias("tasks"))
    )
    out = (
        d.join(calls, on="city", how="full", coalesce=True, nulls_equal=True)
        .join(tasks, on="city", how="full", coalesce=True, nulls_equal=True)
        .with_columns(pl.col("deals", "managers", "calls", "tasks").fill_null(0))
        .with_columns(
            deals_per_manager=rate("deals", "managers"),
            calls_per_manager=rate("calls", "managers"),
            tasks_per_manager=rate("tasks", "managers"),
        )
    )
    cols = ["deals", "calls", "tasks", "managers", "deals_per_manager", "calls_per_manager", "tasks_per_manager"]
    return finish(out, snap, by, cols)


QUALITY_CHECKS = (
    "deals_without_city",
    "deals_city_not_in_config",
    "deleted_deals",
    "unmapped_statuses",
    "unmapped_status_deals",
    "unattributed_touches",
    "events_unknown_deals",
    "notes_unknown_deals",
    "tasks_unknown_deals",
    "duplicate_records_dropped",
    "snapshot_age_hours",
)


@metric(
    id="quality.panel",
    columns=["check", "value"],
    breakdowns=(),
    title_ru="Качество данных",
    title_en="Data quality",
    definition_ru="Качество данных выгрузки: сделки без города, несопоставленные статусы, касания без сделки, события по "
    "неизвестным сделкам, возраст данных.",
    definition_en="Data quality of the snapshot: deals without a city, unmapped statuses, unattributed touches, events for "
    "unknown deals, data age.",
    cacheable=False,
)
def quality_panel(
    snap: Snapshot, filters: Filters, by: tuple[str, ...] = (), now: datetime | None = None
) -> pl.DataFrame:
    """Data quality of the snapshot (filters do not apply): deals without a city or with a city
    missing from the config, deleted deals, unmapped statuses (and their deals), unattributed
    touches, events/notes/tasks for unknown deals, duplicates dropped, and the data's age in hours.

    Choice: one row per check (``check``, ``value``); the age is measured from the snapshot's
    ``data_as_of`` to now, so this metric is not cached.
    """
    check_by(by, (), "quality.panel")
    q = snap.quality
    unmapped = q.get("unmapped_statuses") or []
    now = now or datetime.now(UTC)
    values = {
        **{k: q.get(k) for k in QUALITY_CHECKS},
        "unmapped_statuses": len(unmapped),
        "unmapped_status_deals": sum(int(u.get("deals", 0) or 0) for u in unmapped),
        "snapshot_age_hours": round((now - snap.data_as_of).total_seconds() / 3600, 2),
    }
    return pl.DataFrame(
        {
            "check": list(QUALITY_CHECKS),
            "value": [None if values[k] is None else float(values[k]) for k in QUALITY_CHECKS],
        },
        schema={"check": pl.String, "value": pl.Float64},
    )


metric(
    id="touches.time_to_first",
    columns=[*DURATION_COLUMNS, "untouched"],
    breakdowns=("city", "manager", "channel", "bucket"),
    title_ru="Время до первого касания",
    title_en="Time to first touch",
    definition_ru="Сделки, созданные в периоде: время от создания до первого исходящего звонка или SMS; сделки без "
    "касаний считаются отдельно.",
    definition_en="Deals created in the period: time from creation to the first outgoing call or SMS; deals never touched "
    "are counted apart.",
)(to_first_touch)
