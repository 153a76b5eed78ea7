"""Why the cohort funnel and the stage flow of one period differ, stage by stage.

The flow counts entries in the period (any deal, re-entries again); the cohort counts deals
created in the period that reached a stage, whenever (implied reaches included). This metric
splits each into parts that add up exactly, so the two tables can be read side by side.
"""

from __future__ import annotations

import polars as pl

from etl.config import FUNNEL_STAGES
from etl.snapshot.store import Snapshot
from report.metrics.access import deals, entries, period_end
from report.metrics.filters import Filters
from report.metrics.periods import period_utc
from report.metrics.registry import metric
from report.metrics.shaping import aggregate, check_by, finish, with_all_stages

FLOW_PARTS = ("flow", "first_by_cohort", "first_by_older", "repeat")
COHORT_PARTS = ("cohort", "cohort_in_period", "cohort_after", "implied")
COLUMNS = ("stage", *FLOW_PARTS, *COHORT_PARTS)
GROUPS = ("city", "manager", "channel")


def _stage_entries(snap: Snapshot, filters: Filters) -> pl.LazyFrame:
    """Every stage entry of the filtered deals into phone…contract, whole history, with
    ``is_first`` (the deal's first entry into exactly that stage: the build's fact)."""
    ent = entries(snap, filters, ["stage", "is_stage_entry", "first_stage_entry"], period=False)
    ent = ent.filter(pl.col("is_stage_entry") & pl.col("stage").is_in(FUNNEL_STAGES[1:]))
    return ent.rename({"first_stage_entry": "is_first"})


def _flow_parts(snap: Snapshot, filters: Filters, ent: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    start, end = period_utc(filters, snap.timezone)
    created = deals(snap, filters, ["created_at"], time_col=None).select("deal_id", "created_at")
    rows = ent.filter((pl.col("at") >= start) & (pl.col("at") < end)).join(created, on="deal_id", how="left")
    young = pl.col("created_at") >= start
    return rows.group_by([*keys, "stage"]).agg(
        pl.len().alias("flow"),
        (pl.col("is_first") & young).sum().alias("first_by_cohort"),
        (pl.col("is_first") & ~young).sum().alias("first_by_older"),
        (~pl.col("is_first")).sum().alias("repeat"),
    )


def _cohort_parts(snap: Snapshot, filters: Filters, ent: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    end = period_end(snap, filters)
    reach = [f"reach_{s}" for s in FUNNEL_STAGES[1:]]
    cohort = deals(snap, filters, reach).select("deal_id", *keys, *reach)
    long = cohort.unpivot(index=["deal_id", *keys], on=reach, variable_name="stage", value_name="reach_at")
    long = long.with_columns(pl.col("stage").str.strip_prefix("reach_")).filter(pl.col("reach_at").is_not_null())
    firsts = ent.filter(pl.col("is_first")).select("deal_id", "stage", pl.col("at").alias("first_at"))
    long = long.join(firsts, on=["deal_id", "stage"], how="left")
    exact = pl.col("first_at").is_not_null() & (pl.col("first_at") == pl.col("reach_at"))
    return long.group_by([*keys, "stage"]).agg(
        pl.len().alias("cohort"),
        (exact & (pl.col("reach_at") < end)).sum().alias("cohort_in_period"),
        (exact & (pl.col("reach_at") >= end)).sum().alias("cohort_after"),
        (~exact).sum().alias("implied"),
    )


def _lead_parts(snap: Snapshot, filters: Filters, keys: list[str]) -> pl.LazyFrame:
    """Lead: the flow's lead entries are the creations in the period, which are the cohort."""
    n = pl.len().cast(pl.Int64)
    exprs = [
        *(n.alias(c) for c in ("flow", "first_by_cohort", "cohort", "cohort_in_period")),
        *(pl.lit(0, dtype=pl.Int64).alias(c) for c in ("first_by_older", "repeat", "cohort_after", "implied")),
    ]
    lead = aggregate(deals(snap, filters, []), keys, exprs)
    return lead.with_columns(stage=pl.lit("lead"))


@metric(
    id="funnel.reconciliation",
    columns=COLUMNS,
    breakdowns=GROUPS,
    title_ru="Сверка когорты и потока",
    title_en="Cohort and flow reconciliation",
    definition_ru="По этапу воронки: из чего складываются входы за период (первые входы сделок периода, первые входы "
    "более старых сделок, повторные входы) и дошедшие сделки когорты (первый вход в сам этап в периоде, после "
    "периода, или этап пройден перескоком).",
    definition_en="Per funnel stage: what the period's entries are made of (first entries of the period's deals, first "
    "entries of older deals, re-entries) and what the cohort's reached deals are made of (first entry into the stage "
    "itself in the period, after it, or the stage skipped).",
)
def reconciliation(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Per funnel stage, in the period P = [start, end):

    - ``flow`` = funnel.flow ``entries`` = ``first_by_cohort`` + ``first_by_older`` + ``repeat``:
      of the stage entries in P, ``first_by_cohort`` are the deal's first entry into exactly this
      stage by deals created in P, ``first_by_older`` the same by deals created before P, and
      ``repeat`` the entries that are not the deal's first into the stage (whenever the first was).
    - ``cohort`` = funnel.cohort ``reached`` = ``cohort_in_period`` + ``cohort_after`` + ``implied``:
      of the deals created in P that reached the stage (as of now), ``cohort_in_period`` and
      ``cohort_after`` are those whose first_reach(stage) is the time of their first entry into
      exactly this stage, that time in P resp. at or after P's end; ``implied`` are the rest,
      whose first_reach was set by an entry into another stage of higher (implied) position —
      a skip, or a side stage such as no_show for booked — whether or not they entered the stage
      itself later.

    Both identities hold by construction: every entry is a first or not, every first is by a
    deal created in P or before it (an entry in P cannot be by a deal created after P); every
    reached cohort deal's first_reach is set by its first entry into the stage or it is not, and
    a cohort deal's first_reach is never before P (it is at or after the creation).

    Choices: lead follows funnel.flow, whose lead entries are the creations in P, so lead's flow =
    first_by_cohort = cohort = cohort_in_period = the deals created in P and the other parts are 0;
    side and closed stages are not listed (neither funnel has parts for them); a first entry and
    a higher-stage entry at the very same instant count as an entry into exactly the stage (not
    implied); no ``bucket`` (the cohort is bucketed by creation and the flow by entry, so a
    bucket would not reconcile); ``manager`` is the deal's responsible user, as in both funnels.
    """
    by = check_by(by, GROUPS, "funnel.reconciliation")
    keys = list(by)
    ent = _stage_entries(snap, filters)
    parts = [_flow_parts(snap, filters, ent, keys), _cohort_parts(snap, filters, ent, keys)]
    later = parts[0].join(parts[1], on=[*keys, "stage"], how="full", coalesce=True, nulls_equal=True)
    counts = pl.concat([_lead_parts(snap, filters, keys), later], how="diagonal_relaxed").collect()
    counts = counts.with_columns(pl.col([*FLOW_PARTS, *COHORT_PARTS]).fill_null(0).cast(pl.Int64))
    if keys:
        counts = counts.filter(pl.sum_horizontal("flow", "cohort").sum().over(keys) > 0)
    out = with_all_stages(counts, keys, FUNNEL_STAGES, [*FLOW_PARTS, *COHORT_PARTS])
    return finish(out, snap, by, list(COLUMNS), sort_extra=["_order"])
