"""Touch → next stage: how long after an outgoing touch the deal first reached a new funnel stage.

The seed asks "сколько времени прошло между этим касанием и последующим этапом сделки". A deal's
next new stage after a touch is the smallest ``reach_<stage>`` after the touch's time: the
first_reach times are monotone, so that is the first stage in funnel order the deal had not
reached at the touch.
"""

from __future__ import annotations

import polars as pl

from etl.config import FUNNEL_STAGES
from etl.snapshot.store import Snapshot
from report.metrics.access import clock, remembered, table, touches_in
from report.metrics.filters import Filters
from report.metrics.periods import with_bucket
from report.metrics.registry import metric
from report.metrics.shaping import aggregate, check_by, duration, finish, rate, seconds

OUT_KINDS = ("call_out", "sms_out")
#: The stages a touch can lead to: every funnel stage but lead (first_reach(lead) is the creation).
NEXT_STAGES = FUNNEL_STAGES[1:]
WITHIN_S = 7 * 86_400
COLUMNS = ("n", "mean_s", "median_s", "p90_s", "share_within_7d")


@metric(
    id="touches.to_next_stage",
    hours=True,
    columns=COLUMNS,
    breakdowns=("city", "manager", "channel", "bucket"),
    title_ru="От касания до следующего этапа",
    title_en="Touch to next stage",
    definition_ru="Исходящие звонки и SMS в периоде: время от касания до первого после него перехода сделки на этап "
    "воронки, которого она ещё не достигала; доля касаний, за которыми такой переход был в течение 7 дней.",
    definition_en="Outgoing calls and SMS in the period: time from the touch to the deal's first later entry into a "
    "funnel stage it had not reached yet; the share of touches followed by such an entry within 7 days.",
)
def to_next_stage(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Outgoing touches (call_out, sms_out) of live deals in the period: the time from the touch to
    the deal's next first_reach — the smallest ``reach_<stage>`` strictly after the touch, over
    phone, booked, attended, contract. ``n``, mean, median and p90 are over the touches that have
    one; ``share_within_7d`` = touches followed by one within 7 days (≤ 604 800 s) / every
    outgoing touch in the period (empty when there is none).

    Choices: ``manager`` is the toucher (the touch's user), as for calls in the common rules;
    lead is not a "next stage" (a touch made within the attribution grace before the deal's
    creation would otherwise be followed by the creation itself); a reach at the very instant of
    the touch is not after it; the next stage is looked for as far as the snapshot's data go
    (as for the cohort's "reached"), so touches at the end of the data have had less time, which
    lowers their share; unattributed touches have no deal and do not count; ``bucket`` is the
    touch's bucket. In business hours the statistics count the working time of the deal's
    schedule (as the time tab's durations); "within 7 days" stays 7 calendar days.
    """
    by = check_by(by, ("city", "manager", "channel", "bucket"), "touches.to_next_stage")
    touches = with_bucket(_touch_durations(snap, filters).lazy(), by, "at", filters, snap.timezone)
    agg = aggregate(
        touches,
        by,
        [
            pl.col("d").count().cast(pl.Int64).alias("n"),
            pl.col("d").mean().alias("mean_s"),
            pl.col("d").median().alias("median_s"),
            pl.col("d").quantile(0.9, "linear").alias("p90_s"),
            rate((pl.col("d_cal") <= WITHIN_S).sum(), pl.len()).alias("share_within_7d"),
        ],
    )
    return finish(agg, snap, by, list(COLUMNS))


def _touch_durations(snap: Snapshot, filters: Filters) -> pl.DataFrame:
    """The period's outgoing touches of live deals with ``d`` (to the next stage, in the
    filters' hours) and ``d_cal`` (calendar seconds): read once for the breakdowns of one view."""

    def compute() -> pl.DataFrame:
        touches = touches_in(snap, filters).filter(pl.col("kind").is_in(OUT_KINDS) & pl.col("deal_id").is_not_null())
        reach = table(snap, "deals", ["deal_id", *(f"reach_{s}" for s in NEXT_STAGES)])
        touches = touches.join(reach, on="deal_id", how="inner")
        after = [pl.when(pl.col(f"reach_{s}") > pl.col("at")).then(pl.col(f"reach_{s}")) for s in NEXT_STAGES]
        following = pl.min_horizontal(after)
        durations = dict(d=duration(following, "at", clock(snap, filters)), d_cal=seconds(following, "at"))
        return touches.with_columns(**durations).drop(f"reach_{s}" for s in NEXT_STAGES).collect()

    return remembered(snap, ("touches.to_next_stage", filters.with_(grain="day")), compute)
