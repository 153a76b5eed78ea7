"""Calls, tasks and managers: calls and tasks per manager, gaps between completed tasks, the
manager leaderboard, per-office load and the data-quality panel.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from etl.snapshot.store import Snapshot
from report.metrics.access import calls_in, clock, completions_in, deals
from report.metrics.daily import daily, summed
from report.metrics.filters import Filters
from report.metrics.registry import metric
from report.metrics.shaping import (
    aggregate,
    check_by,
    duration,
    duration_stats,
    finish,
    rate,
    seconds,
    valid_durations,
)

MANAGER_GROUPS = ("manager", "bucket", "city", "channel")


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
    agg = aggregate(
        daily(snap, "calls_daily", filters, by),
        by,
        [
            *summed(["incoming", "outgoing", "answered"]),
            pl.col("duration_s").sum().cast(pl.Int64).alias("total_duration_s"),
            rate(pl.col("answered_duration_s").sum(), pl.col("answered").sum()).alias("mean_answered_s"),
        ],
    )
    return finish(agg, snap, by, ["incoming", "outgoing", "answered", "total_duration_s", "mean_answered_s"])


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

    Read from the daily aggregate ``tasks_daily``, whose ``overdue`` is counted at the
    snapshot's ``data_as_of``. Choices: tasks without a deadline are never overdue; tasks not on a deal have no city or
    pipeline class, so those filters drop them; the mean per manager is the total divided by the
    number of manager rows (the UI shows it), not a column.
    """
    by = check_by(by, ("manager", "bucket", "city", "channel"), "tasks.by_manager")
    agg = aggregate(daily(snap, "tasks_daily", filters, by), by, summed(["created", "completed", "overdue"]))
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

    Choices: a day with one completion has no gap; the statistics are over all gaps (of all days);
    the gaps stay in calendar time under the hours switch (they lie within one working day of
    one manager, and a task has no office schedule of its own)."""
    by = check_by(by, ("manager",), "tasks.day_gaps")
    same_day = (pl.col("manager") == pl.col("manager").shift(1)) & (pl.col("day") == pl.col("day").shift(1))
    gaps = completions_in(snap, filters).with_columns(
        d=pl.when(same_day).then(seconds("completed_at", pl.col("completed_at").shift(1)))
    )
    agg = aggregate(gaps.lazy().filter(valid_durations()), by, duration_stats(p90=False))
    return finish(agg, snap, by, ["n", "mean_s", "median_s"])


@metric(
    id="managers.leaderboard",
    hours=True,
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
    manager with calls but no new deals is listed too; in business hours the median time to first
    touch counts working time, as time.to_first_touch does.
    """
    check_by(by, ("manager",), "managers.leaderboard")
    by = ("manager",)
    per = deals(snap, filters, ["reach_contract", "first_out_at", "n_touches"]).rename({"n_touches": "touches"})
    per = per.with_columns(ft=duration("first_out_at", "created_at", clock(snap, filters)))
    board = per.group_by("manager").agg(
        pl.len().cast(pl.Int64).alias("deals"),
        pl.col("reach_contract").is_not_null().sum().cast(pl.Int64).alias("contracts"),
        pl.col("ft").median().alias("median_first_touch_s"),
        pl.col("touches").mean().cast(pl.Float64).alias("touches_per_deal"),
    )
    minutes = (
        calls_in(snap, filters)
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
    empty when the city has no such manager. Always one row per city. A manager filter keeps,
    as the common rules say, the deals the manager is responsible for but the calls and tasks
    the manager made or holds (the call's or task's user), on whoever's deal.
    """
    check_by(by, ("city",), "office.load")
    by = ("city",)
    d = (
        daily(snap, "deals_daily", filters)
        .group_by("city")
        .agg(pl.col("deals").sum().cast(pl.Int64), pl.col("manager").n_unique().cast(pl.Int64).alias("managers"))
    )
    on_deals = pl.col("on_deal")
    calls = (
        daily(snap, "calls_daily", filters)
        .filter(on_deals)
        .group_by("city")
        .agg((pl.col("incoming") + pl.col("outgoing")).sum().cast(pl.Int64).alias("calls"))
    )
    tasks = (
        daily(snap, "tasks_daily", filters).filter(on_deals).group_by("city").agg(summed(["created"])[0].alias("tasks"))
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
    "wrong_type_values",
    "snapshot_age_hours",
)


@metric(
    id="quality.panel",
    columns=["check", "value"],
    breakdowns=(),
    title_ru="Качество данных",
    title_en="Data quality",
    definition_ru="Качество данных выгрузки: сделки без города, несопоставленные статусы, касания без сделки, события по "
    "неизвестным сделкам, значения неверного типа, возраст данных.",
    definition_en="Data quality of the snapshot: deals without a city, unmapped statuses, unattributed touches, events for "
    "unknown deals, values of the wrong type, data age.",
    cacheable=False,
)
def quality_panel(
    snap: Snapshot, filters: Filters, by: tuple[str, ...] = (), now: datetime | None = None
) -> pl.DataFrame:
    """Data quality of the snapshot (filters do not apply): deals without a city or with a city
    missing from the config, deleted deals, unmapped statuses (and their deals), unattributed
    touches, events/notes/tasks for unknown deals, duplicates dropped, raw values of the wrong type
    (a string ``created_at``, a price "abc": records summed over collections and fields, the
    breakdown is in the manifest's ``wrong_types``), and the data's age in hours.

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
        "wrong_type_values": sum(int(w.get("records", 0) or 0) for w in q.get("wrong_types") or []),
        "snapshot_age_hours": round((now - snap.data_as_of).total_seconds() / 3600, 2),
    }
    return pl.DataFrame(
        {
            "check": list(QUALITY_CHECKS),
            "value": [None if values[k] is None else float(values[k]) for k in QUALITY_CHECKS],
        },
        schema={"check": pl.String, "value": pl.Float64},
    )
