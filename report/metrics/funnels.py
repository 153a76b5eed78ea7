"""Funnel metrics: cohort and flow funnels, status as of a date, deals, bookings, attendance and
contract values per bucket."""

from __future__ import annotations

import polars as pl

from etl.config import ALL_STAGES, FUNNEL_STAGES
from etl.snapshot.store import Snapshot
from report.metrics.access import deals, status_entries, status_names
from report.metrics.daily import daily, summed
from report.metrics.filters import Filters
from report.metrics.periods import as_of_end_utc, with_bucket
from report.metrics.registry import metric
from report.metrics.shaping import aggregate, check_by, finish, prev_ratio, rate, with_all_stages

DEAL_GROUPS = ("city", "manager", "channel", "bucket")


@metric(
    id="funnel.cohort",
    columns=["stage", "reached", "dropped", "conv_prev", "conv_lead", "current"],
    breakdowns=["city", "channel", "manager", "bucket"],
    title_ru="Воронка когорты",
    title_en="Cohort funnel",
    definition_ru="Сделки, созданные в периоде: сколько дошло до каждого этапа (на сегодня), сколько отвалилось до "
    "следующего, конверсия от предыдущего этапа и от лида, и сколько сейчас стоит на этапе.",
    definition_en="Deals created in the period: how many reached each stage (as of now), dropped before the next one, "
    "conversion from the previous stage and from lead, and how many are in the stage now.",
)
def funnel_cohort(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Deals created in the period, per stage: how many reached it (as of now), dropped before the
    next stage, conversion from the previous stage and from lead, and how many sit in it now.

    Choices: every stage is listed for every group (zeros included); side and closed stages
    (won, not_booked, no_answer, no_show, lost, other) carry only ``current``, their reached,
    dropped and conversions are empty; ``conv_prev`` of lead is empty, ``conv_lead`` of lead is 1.
    ``bucket`` is the creation bucket.
    """
    by = check_by(by, DEAL_GROUPS, "funnel.cohort")
    tz = snap.timezone
    lf = deals(snap, filters, ["stage", *[f"reach_{s}" for s in FUNNEL_STAGES[1:]]])
    lf = with_bucket(lf, by, "created_at", filters, tz)
    exprs = [pl.len().alias("r_lead")]
    exprs += [pl.col(f"reach_{s}").is_not_null().sum().alias(f"r_{s}") for s in FUNNEL_STAGES[1:]]
    exprs += [(pl.col("stage") == s).sum().alias(f"c_{s}") for s in ALL_STAGES]
    wide = aggregate(lf, by, exprs).collect()
    if by:
        wide = wide.filter(pl.col("r_lead") > 0)
    keys = list(by)
    long = pl.concat(
        [
            wide.select(
                *keys,
                pl.lit(s).alias("stage"),
                (pl.col(f"r_{s}") if s in FUNNEL_STAGES else pl.lit(None)).cast(pl.Int64).alias("reached"),
                (pl.col(f"r_{s}") - pl.col(f"r_{FUNNEL_STAGES[i + 1]}") if i < 4 else pl.lit(None))
                .cast(pl.Int64)
                .alias("dropped"),
                pl.col(f"c_{s}").cast(pl.Int64).alias("current"),
                pl.col("r_lead").alias("_lead"),
            )
            for i, s in enumerate(ALL_STAGES)
        ]
    )
    long = with_all_stages(long, keys, ALL_STAGES, ["current"]).sort([*keys, "_order"])
    long = long.with_columns(
        conv_prev=prev_ratio("reached", keys),
        conv_lead=pl.when(pl.col("stage").is_in(FUNNEL_STAGES)).then(rate("reached", "_lead")),
    )
    return finish(
        long, snap, by, ["stage", "reached", "dropped", "conv_prev", "conv_lead", "current"], sort_extra=["_order"]
    )


@metric(
    id="funnel.flow",
    columns=["stage", "entries", "conv_prev"],
    breakdowns=["city", "channel", "manager", "bucket"],
    title_ru="Поток по этапам",
    title_en="Stage flow",
    definition_ru="Входы в каждый этап за период (повторный вход считается снова); лиды — сделки, созданные в периоде. "
    "Конверсия — входы / входы предыдущего этапа.",
    definition_en="Entries into each stage in the period (re-entries count again); lead = deals created in the period. "
    "Conversion = entries / entries of the previous stage.",
)
def funnel_flow(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Entries per stage in the period (a deal entering twice counts twice): lead = deals created
    in the period, every other stage = entries into exactly that stage, creation into it included;
    ``conv_prev`` = entries / entries of the previous funnel stage.

    Choices: side and closed stages are listed too (their ``conv_prev`` is empty); ``bucket`` is
    the bucket of the entry (of creation for lead).
    """
    by = check_by(by, DEAL_GROUPS, "funnel.flow")
    keys = list(by)
    # a deal's creation is its seq-0 entry (at = created_at): "deals created in the period" =
    # the creations of entries_daily; other stages count stage entries
    exprs = [pl.col("created").sum().cast(pl.Int64).alias("lead")]
    exprs += [
        pl.col("stage_entries").filter(pl.col("stage") == s).sum().cast(pl.Int64).alias(s)
        for s in ALL_STAGES
        if s != "lead"
    ]
    wide = aggregate(daily(snap, "entries_daily", filters, by), keys, exprs).collect()
    counts = wide.unpivot(index=keys, variable_name="stage", value_name="entries")
    if keys:
        counts = counts.filter(pl.col("entries").sum().over(keys) > 0)
    out = with_all_stages(counts, keys, ALL_STAGES, ["entries"]).sort([*keys, "_order"])
    out = out.with_columns(conv_prev=prev_ratio("entries", keys))
    return finish(out, snap, by, ["stage", "entries", "conv_prev"], sort_extra=["_order"])


@metric(
    id="funnel.flow_from_lead",
    columns=["stage", "conv_lead"],
    breakdowns=DEAL_GROUPS,
    title_ru="Поток от лида",
    title_en="Stage flow from lead",
    definition_ru="Входы в каждый этап воронки за период / лиды периода (из «Потока по этапам»).",
    definition_en="Entries into each funnel stage in the period / leads of the period (from the stage flow).",
)
def funnel_flow_from_lead(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """For the five funnel stages: funnel.flow's ``entries`` / its lead entries, within the group.

    Choices: lead gives 1 (empty when the group has no lead in the period); re-entries and deals
    created before the period count in the flow, so a stage may exceed 1."""
    flow = funnel_flow(snap, filters, by).filter(pl.col("stage").is_in(FUNNEL_STAGES))
    lead = pl.col("entries").filter(pl.col("stage") == "lead").first()
    lead = lead.over(list(by)) if by else lead
    return flow.with_columns(conv_lead=rate("entries", lead)).select(*by, "stage", "conv_lead")


@metric(
    id="deals.status_as_of",
    columns=["status", "stage", "deals"],
    breakdowns=["city", "channel", "manager"],
    title_ru="Сделки по статусам на дату",
    title_en="Deals by status as of a date",
    definition_ru="Все сделки, созданные к концу выбранной даты, по статусу, в котором они были в конце этой даты.",
    definition_en="Every deal created by the end of the chosen date, counted under its status at the end of that date.",
)
def status_as_of(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """For the as-of date D: every deal created by the end of D, counted under its status at the
    end of D (its last entry up to then), with the status's stage.

    Choices: the period is ignored (only D, default = the period's last day); ``channel`` is the
    deal's current pipeline class, as for every filter, so contact-centre deals are shown apart
    with ``by=channel``; statuses with the same name in several pipelines are counted together;
    a deal deleted by export time never counts.
    """
    by = check_by(by, ("city", "manager", "channel"), "deals.status_as_of")
    end = as_of_end_utc(filters, snap.timezone)
    keys = list(by)
    last = status_entries(snap, filters, end, ["pipeline_id", "status_id", "stage"])
    # counted per status id first, then named: the names join and the text key touch a few rows,
    # not one per deal (a status's stage is a function of its pipeline and id)
    per_status = last.group_by([*keys, "pipeline_id", "status_id", "stage"]).agg(pl.len().cast(pl.Int64).alias("deals"))
    names = status_names(snap)
    # coalesce, not fill_null(pl.format(...)): the latter panics in polars 1.35 when the filter
    # above is pushed into the parquet reader
    named = per_status.join(names, on=["pipeline_id", "status_id"], how="left").with_columns(
        pl.coalesce("status", pl.lit("#") + pl.col("status_id").cast(pl.String))
    )
    counts = named.group_by([*keys, "status", "stage"]).agg(pl.col("deals").sum()).collect()
    order = {s: i for i, s in enumerate(ALL_STAGES)}
    counts = counts.with_columns(
        _order=pl.col("stage").replace_strict(order, default=len(order), return_dtype=pl.Int32)
    )
    return finish(counts, snap, by, ["status", "stage", "deals"], sort_extra=["_order", "status"])


@metric(
    id="deals.created",
    columns=["deals"],
    breakdowns=["city", "channel", "manager", "bucket"],
    title_ru="Создано сделок",
    title_en="Deals created",
    definition_ru="Сделки, созданные в периоде, по интервалам.",
    definition_en="Deals created in the period, per bucket.",
)
def deals_created(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Deals created in the period, per bucket of creation."""
    by = check_by(by, DEAL_GROUPS, "deals.created")
    agg = aggregate(daily(snap, "deals_daily", filters, by), by, summed(["deals"]))
    return finish(agg, snap, by, ["deals"])


def _stage_entries(snap: Snapshot, filters: Filters, by: tuple[str, ...], stages: tuple[str, ...]) -> pl.LazyFrame:
    return daily(snap, "entries_daily", filters, by).filter(pl.col("stage").is_in(stages))


@metric(
    id="bookings.count",
    columns=["bookings"],
    breakdowns=["city", "channel", "manager", "bucket"],
    title_ru="Записи на консультацию",
    title_en="Bookings",
    definition_ru="Входы в этап «Записан на консультацию» за период, по интервалам; повторная запись считается снова.",
    definition_en="Entries into the booked stage in the period, per bucket; a re-booking counts again.",
)
def bookings_count(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Entries into the booked stage in the period (a deal booked twice counts twice; creation
    straight into booked counts), per bucket of the entry."""
    by = check_by(by, DEAL_GROUPS, "bookings.count")
    lf = _stage_entries(snap, filters, by, ("booked",))
    agg = aggregate(lf, by, [pl.col("stage_entries").sum().cast(pl.Int64).alias("bookings")])
    return finish(agg, snap, by, ["bookings"])


@metric(
    id="consultations.attendance",
    columns=["attended", "no_show", "show_rate"],
    breakdowns=["city", "channel", "manager", "bucket"],
    title_ru="Явка на консультации",
    title_en="Consultation attendance",
    definition_ru="Входы в «Пришёл» и «Не пришёл» за период, по интервалам; явка = пришли / (пришли + не пришли).",
    definition_en="Entries into attended and no-show in the period, per bucket; show rate = attended / (attended + no-show).",
)
def attendance(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Entries into attended and into no_show in the period, per bucket; show rate = attended /
    (attended + no_show), empty when both are 0."""
    by = check_by(by, DEAL_GROUPS, "consultations.attendance")
    lf = _stage_entries(snap, filters, by, ("attended", "no_show"))
    agg = aggregate(
        lf,
        by,
        [
            pl.col("stage_entries").filter(pl.col("stage") == "attended").sum().cast(pl.Int64).alias("attended"),
            pl.col("stage_entries").filter(pl.col("stage") == "no_show").sum().cast(pl.Int64).alias("no_show"),
        ],
    ).with_columns(show_rate=rate("attended", pl.col("attended") + pl.col("no_show")))
    return finish(agg, snap, by, ["attended", "no_show", "show_rate"])


@metric(
    id="conversion.attended_to_contract",
    columns=["attended", "contract", "rate"],
    breakdowns=["city", "channel", "manager", "bucket"],
    title_ru="Конверсия из консультации в договор",
    title_en="Attended → contract conversion",
    definition_ru="Сделки, впервые дошедшие до консультации в периоде (по интервалу этого момента): доля дошедших до договора.",
    definition_en="Deals that first reached attended in the period (bucketed by that time): the share that reached contract.",
)
def attended_to_contract(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Deals that first reached attended in the period (per bucket of that time): how many, how
    many of them reached contract by now, and the share."""
    by = check_by(by, DEAL_GROUPS, "conversion.attended_to_contract")
    lf = deals(snap, filters, ["reach_contract"], time_col="reach_attended")
    lf = with_bucket(lf, by, "reach_attended", filters, snap.timezone)
    agg = aggregate(
        lf,
        by,
        [
            pl.len().cast(pl.Int64).alias("attended"),
            pl.col("reach_contract").is_not_null().sum().cast(pl.Int64).alias("contract"),
        ],
    ).with_columns(rate=rate("contract", "attended"))
    return finish(agg, snap, by, ["attended", "contract", "rate"])


@metric(
    id="deals.averages",
    columns=["deals", "price_sum", "price_mean"],
    breakdowns=["city", "package", "channel", "manager", "bucket"],
    title_ru="Средний чек договоров",
    title_en="Contract deal values",
    definition_ru="Сделки, впервые дошедшие до договора в периоде: число, сумма и средний бюджет, по интервалам и пакетам.",
    definition_en="Deals that first reached contract in the period: count, sum and mean budget, per bucket and package.",
)
def deals_averages(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Deals that first reached contract in the period: count, sum and mean of the budget, per
    bucket of that time; by package where the package field is configured.

    Choice: deals without a package form their own group with an empty package.
    """
    by = check_by(by, (*DEAL_GROUPS, "package"), "deals.averages")
    lf = deals(snap, filters, ["price", "package"], time_col="reach_contract")
    lf = with_bucket(lf, by, "reach_contract", filters, snap.timezone)
    agg = aggregate(
        lf,
        by,
        [
            pl.len().cast(pl.Int64).alias("deals"),
            pl.col("price").sum().cast(pl.Float64).alias("price_sum"),
            pl.col("price").mean().cast(pl.Float64).alias("price_mean"),
        ],
    )
    return finish(agg, snap, by, ["deals", "price_sum", "price_mean"])
