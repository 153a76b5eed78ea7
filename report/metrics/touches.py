"""Touch metrics: calls and SMS per deal (over its life, before a contract, before a loss, from a
no-show to the loss), deals stuck in negative statuses, and the interval between touches.

The office tab shows the same metrics with ``Filters.channel`` fixed to ``office`` by the UI.
"""

from __future__ import annotations

import polars as pl

from etl.snapshot.store import Snapshot
from etl.transform.facts import CONTRACT_COLS, ENTRY_BEFORE_COLS, ENTRY_UPTO_COLS
from report.metrics.access import (
    clock,
    deals,
    first_losses_in,
    period_end,
    stage_entries,
    status_entries,
    touch_totals_before,
    touches_with_previous,
)
from report.metrics.filters import Filters
from report.metrics.periods import with_bucket
from report.metrics.registry import metric
from report.metrics.shaping import (
    aggregate,
    check_by,
    duration,
    duration_stats,
    finish,
    rate,
    valid_durations,
    with_all_stages,
)
from report.metrics.times import DURATION_COLUMNS, FIRST_TOUCH, to_first_touch

DEAL_GROUPS = ("city", "manager", "channel", "bucket")


NEGATIVE_STAGES = ("not_booked", "no_answer")
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
    per = deals(snap, filters, CONTRACT_COLS, time_col="reach_contract")
    per = per.rename(dict(zip(CONTRACT_COLS, ("touches", "calls", "sms"), strict=True)))
    return _touch_means(with_bucket(per, by, "reach_contract", filters, snap.timezone), snap, by)


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
    per = first_losses_in(snap, filters, ENTRY_UPTO_COLS)
    per = per.rename(dict(zip(ENTRY_UPTO_COLS, ("touches", "calls", "sms"), strict=True)))
    return _touch_means(with_bucket(per, by, "lost_at", filters, snap.timezone), snap, by)


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
    lost = first_losses_in(snap, filters, ENTRY_UPTO_COLS)
    no_show = (
        stage_entries(snap, "no_show", ENTRY_BEFORE_COLS)
        .filter(pl.col("at") < period_end(snap, filters))
        .rename({"at": "ns_at"})
        .join(lost.select("deal_id", "lost_at"), on="deal_id", how="inner")
        .filter(pl.col("ns_at") <= pl.col("lost_at"))
        .sort("ns_at")
        .unique("deal_id", keep="last", maintain_order=False)  # the last no_show before the loss
        .drop("lost_at")
    )
    cohort = with_bucket(lost.join(no_show, on="deal_id", how="inner"), by, "lost_at", filters, snap.timezone)
    # touches in [ns_at, lost_at] = up to the loss − strictly before the no_show
    per = cohort.with_columns(
        touches=pl.col("touches_upto") - pl.col("touches_before"),
        calls=pl.col("calls_upto") - pl.col("calls_before"),
        sms=pl.col("sms_upto") - pl.col("sms_before"),
    )
    return _touch_means(per, snap, by)


@metric(
    id="touches.negative_status",
    columns=["stage", "deals", "mean_touches", "mean_answered_s"],
    breakdowns=("city", "manager", "channel"),
    title_ru="Касания в негативных статусах",
    title_en="Touches in negative statuses",
    definition_ru="Сделки, которые к концу периода стоят в «Не записался» или «Не отвечает», когда бы они ни были "
    "созданы: число, касаний на сделку и средняя длительность отвеченных звонков до конца периода.",
    definition_en="Deals that sit in not-booked or no-answer at the period's end, whenever they were created: count, "
    "touches per deal and mean answered call duration up to the period's end.",
)
def negative_status(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Deals whose status at the end of the period has stage not_booked or no_answer (each apart),
    whenever they were created (a deal created last year and still not_booked counts; one that
    left not_booked before the period's end does not): count, mean touches per deal and mean
    duration of their answered calls, both over the deal's whole life up to the period's end.

    Choices: the period's start plays no part, only its end (the status at one instant); so there
    is no ``bucket`` breakdown (one instant has no buckets, and a creation bucket would reach
    back years outside the period); ``manager`` is the deal's responsible user (a deal metric);
    the answered-call mean is over calls, not over deals; a deal without touches counts with 0.
    """
    by = check_by(by, ("city", "manager", "channel"), "touches.negative_status")
    end = period_end(snap, filters)
    keys = list(by)
    at_end = status_entries(snap, filters, end, ["stage"]).filter(pl.col("stage").is_in(NEGATIVE_STAGES))
    cohort = at_end.select("deal_id", *keys, pl.col("stage").alias("end_stage")).collect()
    per = cohort.lazy().join(touch_totals_before(snap, cohort["deal_id"], end), on="deal_id", how="left")
    agg = per.group_by([*keys, "end_stage"]).agg(
        pl.len().cast(pl.Int64).alias("deals"),
        pl.col("n_touches").mean().cast(pl.Float64).alias("mean_touches"),
        pl.col("answered_s").sum().alias("_ans_s"),
        pl.col("n_answered").sum().alias("_ans_n"),
    )
    agg = agg.rename({"end_stage": "stage"}).with_columns(mean_answered_s=rate("_ans_s", "_ans_n")).collect()
    agg = with_all_stages(agg, keys, NEGATIVE_STAGES, ["deals"])
    return finish(agg, snap, by, ["stage", "deals", "mean_touches", "mean_answered_s"], sort_extra=["_order"])


@metric(
    id="touches.interval",
    hours=True,
    columns=DURATION_COLUMNS,
    breakdowns=DEAL_GROUPS,
    title_ru="Интервал между касаниями",
    title_en="Interval between touches",
    definition_ru="Время между соседними касаниями одной сделки, для пар, где второе касание в периоде.",
    definition_en="Time between consecutive touches of the same deal, for pairs whose later touch is in the period.",
)
def interval(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Time between consecutive touches of the same deal, for pairs whose later touch is in the
    period. Choice: ``manager`` is the deal's responsible user; touches at the same instant give 0;
    in business hours only the working time of the deal's schedule counts (as on the time tab)."""
    by = check_by(by, DEAL_GROUPS, "touches.interval")
    tz = snap.timezone
    d = duration("at", "prev_at", clock(snap, filters))
    t = touches_with_previous(snap, filters).with_columns(d=d).filter(valid_durations())
    t = with_bucket(t, by, "at", filters, tz)
    return finish(aggregate(t, by, duration_stats()), snap, by, list(DURATION_COLUMNS))


metric(id="touches.time_to_first", **FIRST_TOUCH)(to_first_touch)
