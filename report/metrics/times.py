"""Time between statuses: durations, counted in the period of the
duration's end. Every duration metric returns n, mean_s, median_s, p90_s (seconds).

With ``Filters.hours`` = business every duration here counts only working time
(``shaping.duration``): the deal's city's schedule in the city's time zone (the default
schedule where config.yaml gives the city none), the contact centre's schedule for a deal of a
contact-centre pipeline, less the days off of the snapshot's calendar."""

from __future__ import annotations

import polars as pl

from etl.config import FUNNEL_STAGES
from etl.snapshot.store import Snapshot
from etl.transform.facts import BOOKINGS_COL
from report.metrics.access import clock, deals
from report.metrics.filters import Filters
from report.metrics.periods import in_period, with_bucket
from report.metrics.registry import metric
from report.metrics.shaping import aggregate, check_by, duration, duration_stats, finish, valid_durations

GROUPS = ("city", "manager", "channel", "bucket")
DURATION_COLUMNS = ("n", "mean_s", "median_s", "p90_s")
TRANSITIONS = tuple(zip(FUNNEL_STAGES[:-1], FUNNEL_STAGES[1:], strict=True))
#: The time-to-first-touch metric's declaration: the spec lists it on the time and the touches tabs,
#: under two ids (touches.py registers the second).
FIRST_TOUCH = dict(
    hours=True,
    columns=[*DURATION_COLUMNS, "untouched"],
    breakdowns=GROUPS,
    title_ru="Время до первого касания",
    title_en="Time to first touch",
    definition_ru="Сделки, созданные в периоде: время от создания до первого исходящего звонка или SMS; сделки без "
    "касаний считаются отдельно.",
    definition_en="Deals created in the period: time from creation to the first outgoing call or SMS; deals never "
    "touched are counted apart.",
)


def _deal_duration(
    snap: Snapshot, filters: Filters, by: tuple[str, ...], start: str, end: str, metric_id: str
) -> pl.DataFrame:
    """Duration start → end between two deal columns, for deals whose ``end`` is in the period."""
    by = check_by(by, GROUPS, metric_id)
    lf = deals(snap, filters, [start], time_col=end)
    d = duration(end, start, clock(snap, filters))
    lf = with_bucket(lf, by, end, filters, snap.timezone).with_columns(d=d).filter(valid_durations())
    return finish(aggregate(lf, by, duration_stats()), snap, by, list(DURATION_COLUMNS))


@metric(
    id="time.stage_to_stage",
    hours=True,
    columns=["transition", *DURATION_COLUMNS],
    breakdowns=GROUPS,
    title_ru="Время между этапами",
    title_en="Time between stages",
    definition_ru="Для каждой пары соседних этапов воронки: время от первого достижения одного до первого достижения "
    "следующего; сделка считается в периоде, где достигнут второй этап.",
    definition_en="For each pair of consecutive funnel stages: time from first reaching one to first reaching the next; "
    "a deal counts in the period where it reached the second.",
)
def stage_to_stage(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """For each consecutive pair of funnel stages a→b: first_reach(a) → first_reach(b), for deals
    whose first_reach(b) is in the period.

    Choice: a deal that skipped a stage (created straight into booked) has equal first_reach
    times and counts with a duration of 0 — it did take no time.
    """
    by = check_by(by, GROUPS, "time.stage_to_stage")
    tz = snap.timezone
    keys = list(by)
    hours = clock(snap, filters)
    lf = deals(snap, filters, [f"reach_{s}" for s in FUNNEL_STAGES], time_col=None)
    # one scan, then a row per (deal, transition) whose end lies in the period
    parts = []
    for a, b in TRANSITIONS:
        part = lf.filter(in_period(f"reach_{b}", filters, tz)).select(
            *[k for k in keys if k != "bucket"],
            *([pl.col(f"reach_{b}").alias("_end")] if "bucket" in keys else []),
            pl.lit(f"{a}→{b}").alias("transition"),
            pl.lit(FUNNEL_STAGES.index(b), dtype=pl.Int32).alias("_order"),
            duration(f"reach_{b}", f"reach_{a}", hours).alias("d"),
        )
        parts.append(part)
    long = pl.concat(parts).filter(valid_durations())
    long = with_bucket(long, by, "_end", filters, tz)
    agg = long.group_by([*keys, "transition", "_order"]).agg(duration_stats())
    return finish(agg, snap, by, ["transition", *DURATION_COLUMNS], sort_extra=["_order"])


@metric(
    id="time.creation_to_contract",
    hours=True,
    columns=DURATION_COLUMNS,
    breakdowns=GROUPS,
    title_ru="От заявки до договора",
    title_en="Creation to contract",
    definition_ru="Время от создания сделки до первого достижения договора, для сделок, дошедших до договора в периоде.",
    definition_en="Time from a deal's creation to first reaching contract, for deals that reached contract in the period.",
)
def creation_to_contract(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Created → first_reach(contract), for deals that first reached contract in the period."""
    return _deal_duration(snap, filters, by, "created_at", "reach_contract", "time.creation_to_contract")


@metric(
    id="time.phone_to_consultation",
    hours=True,
    columns=DURATION_COLUMNS,
    breakdowns=GROUPS,
    title_ru="От номера до консультации",
    title_en="Phone to consultation",
    definition_ru="От первого получения номера до первой явки на консультацию, для сделок с явкой в периоде.",
    definition_en="From first getting the phone number to first attending, for deals that attended in the period.",
)
def phone_to_consultation(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """first_reach(phone) → first_reach(attended), for deals that first reached attended in the period."""
    return _deal_duration(snap, filters, by, "reach_phone", "reach_attended", "time.phone_to_consultation")


@metric(
    id="time.request_to_won",
    hours=True,
    columns=DURATION_COLUMNS,
    breakdowns=GROUPS,
    title_ru="От заявки до успешной реализации",
    title_en="Request to won",
    definition_ru="Время от создания сделки до первого входа в «Успешно реализовано», для сделок, выигранных в периоде.",
    definition_en="Time from a deal's creation to its first entry into won, for deals won in the period.",
)
def request_to_won(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Created → first entry into won, for deals first won in the period."""
    return _deal_duration(snap, filters, by, "created_at", "first_won_at", "time.request_to_won")


@metric(
    id="time.rebooking",
    hours=True,
    columns=DURATION_COLUMNS,
    breakdowns=GROUPS,
    title_ru="Время до повторной записи",
    title_en="Time to re-booking",
    definition_ru="От первой записи на консультацию до новой записи после неявки; считается в периоде новой записи.",
    definition_en="From the first booking to booking again after a no-show; counted in the period of the new booking.",
)
def rebooking(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """First entry into booked → the first entry into booked after a no_show that followed it
    (the client missed the consultation and booked again), for re-bookings in the period.

    Choice: the no_show is the first one at or after the first booking; a deal counts once.
    """
    return _deal_duration(snap, filters, by, "first_booked_at", "rebooked_at", "time.rebooking")


@metric(
    id="time.no_answer_to_close",
    hours=True,
    columns=DURATION_COLUMNS,
    breakdowns=GROUPS,
    title_ru="От «Не отвечает» до закрытия",
    title_en="No answer to close",
    definition_ru="От первого входа в «Не отвечает» до закрытия в «Не реализовано» прямо из «Не отвечает»; считается в "
    "периоде закрытия.",
    definition_en="From the first entry into no-answer to being closed lost straight from no-answer; counted in the period "
    "of the closing.",
)
def no_answer_to_close(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """First entry into no_answer → the entry into lost, for deals closed lost straight from
    no_answer (they were not answering when closed), counted when the lost entry is in the period.

    Choice: "not answering before they were closed" = the lost entry came from the no_answer
    stage; the first such lost entry of a deal is used; a deal counts once.
    """
    return _deal_duration(snap, filters, by, "first_no_answer_at", "lost_from_no_answer_at", "time.no_answer_to_close")


@metric(id="time.to_first_touch", **FIRST_TOUCH)
def to_first_touch(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Deals created in the period: created → first outgoing touch (call_out or sms_out, answered
    or not) at or after creation; deals never touched so far are counted apart as ``untouched``.

    Choice: ``manager`` is the deal's responsible user (not the caller).
    """
    by = check_by(by, GROUPS, "time.to_first_touch")
    tz = snap.timezone
    keys = list(by)
    per = with_bucket(deals(snap, filters, ["first_out_at"]), by, "created_at", filters, tz)
    per = per.with_columns(d=duration("first_out_at", "created_at", clock(snap, filters)))
    agg = aggregate(
        per,
        keys,
        [
            pl.col("d").is_not_null().sum().cast(pl.Int64).alias("n"),
            pl.col("d").mean().alias("mean_s"),
            pl.col("d").median().alias("median_s"),
            pl.col("d").quantile(0.9, "linear").alias("p90_s"),
            pl.col("first_out_at").is_null().sum().cast(pl.Int64).alias("untouched"),
        ],
    )
    return finish(agg, snap, by, [*DURATION_COLUMNS, "untouched"])


@metric(
    id="bookings.before_contract",
    columns=["n", "mean", "median"],
    breakdowns=GROUPS,
    title_ru="Записей до договора",
    title_en="Bookings before contract",
    definition_ru="Сделки, впервые дошедшие до договора в периоде: сколько раз их записывали на консультацию до этого.",
    definition_en="Deals that first reached contract in the period: how many times they were booked before that.",
)
def bookings_before_contract(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Deals that first reached contract in the period: number of entries into booked before
    that moment; mean and median over the deals (0 for a deal that never booked)."""
    by = check_by(by, GROUPS, "bookings.before_contract")
    per = _bookings_per_contract_deal(snap, filters, by)
    agg = aggregate(
        per,
        by,
        [
            pl.len().cast(pl.Int64).alias("n"),
            pl.col("bookings").mean().cast(pl.Float64).alias("mean"),
            pl.col("bookings").median().cast(pl.Float64).alias("median"),
        ],
    )
    return finish(agg, snap, by, ["n", "mean", "median"])


@metric(
    id="bookings.before_contract.distribution",
    columns=["bookings", "deals"],
    breakdowns=GROUPS,
    title_ru="Распределение записей до договора",
    title_en="Bookings before contract: distribution",
    definition_ru="Сколько сделок, дошедших до договора в периоде, записывали 0, 1, 2… раз до договора.",
    definition_en="How many deals that reached contract in the period were booked 0, 1, 2… times before it.",
)
def bookings_before_contract_distribution(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """The distribution behind bookings.before_contract: how many deals had 0, 1, 2… bookings
    before first reaching contract (deals that first reached contract in the period)."""
    by = check_by(by, GROUPS, "bookings.before_contract.distribution")
    per = _bookings_per_contract_deal(snap, filters, by)
    agg = per.group_by([*by, "bookings"]).agg(pl.len().cast(pl.Int64).alias("deals"))
    return finish(agg, snap, by, ["bookings", "deals"], sort_extra=["bookings"])


def _bookings_per_contract_deal(snap: Snapshot, filters: Filters, by: tuple[str, ...]) -> pl.LazyFrame:
    """Deals that first reached contract in the period with ``bookings`` (the build-time fact)."""
    cohort = deals(snap, filters, [BOOKINGS_COL], time_col="reach_contract")
    cohort = cohort.with_columns(pl.col(BOOKINGS_COL).cast(pl.Int64).alias("bookings")).drop(BOOKINGS_COL)
    return with_bucket(cohort, by, "reach_contract", filters, snap.timezone)
