"""The KPI cards of each tab as metrics: every number the UI shows is a registered metric.

Each KPI metric composes the metrics it names (it calls them, it does not recompute): one row
per group (``by`` = nothing, city, manager or channel), one column per card. The views show the
row as cards; the export gives it as any other table.

Choices: a group missing from one of the composed metrics (a city with bookings but no deals
created in the period) gets 0 for counts and an empty value for rates, medians and means; the
rates are the composed metric's own rate over the group, never a mean of rates.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from etl.snapshot.store import Snapshot
from report.metrics.calls import calls_by_manager, tasks_by_manager
from report.metrics.filters import Filters
from report.metrics.funnels import attendance, deals_averages, funnel_cohort
from report.metrics.registry import metric
from report.metrics.shaping import aggregate, check_by
from report.metrics.stuck import stuck
from report.metrics.times import (
    bookings_before_contract,
    creation_to_contract,
    request_to_won,
    stage_to_stage,
    to_first_touch,
)
from report.metrics.touches import per_deal

KPI_GROUPS = ("city", "manager", "channel")
FUNNEL_KPIS = ("leads", "booked", "attended", "contracts", "conv_lead_contract", "show_rate", "mean_value", "stuck")
TIME_KPIS = (
    "median_c2c_s",
    "median_won_s",
    "median_lead_phone_s",
    "median_first_touch_s",
    "untouched",
    "mean_bookings_before",
)
TOUCH_KPIS = (
    "deals",
    "median_first_touch_s",
    "untouched",
    "touches_per_deal",
    "calls",
    "answered_share",
    "overdue",
    "tasks_per_manager",
)


def _pick(df: pl.DataFrame, by: tuple[str, ...], columns: dict[str, str]) -> pl.DataFrame:
    """The group columns and ``columns`` (source → card name) of one composed metric's result."""
    return df.select(*by, *(pl.col(src).alias(card) for src, card in columns.items()))


def _combine(parts: Sequence[pl.DataFrame], by: tuple[str, ...], counts: Sequence[str], order: Sequence[str]):
    """One row per group: the parts side by side (groups of any part), counts of absent groups 0.

    With no breakdown every part is one row (a total always answers, zeros included)."""
    if not by:
        out = pl.concat([p.head(1) if p.height else p.clear(1) for p in parts], how="horizontal")
    else:
        out = parts[0]
        for part in parts[1:]:
            out = out.join(part, on=list(by), how="full", coalesce=True, nulls_equal=True)
        out = out.sort(list(by), nulls_last=True)
    return out.with_columns(pl.col(list(counts)).fill_null(0).cast(pl.Int64)).select(*by, *order)


@metric(
    id="kpi.funnels",
    columns=FUNNEL_KPIS,
    breakdowns=KPI_GROUPS,
    title_ru="Показатели воронок",
    title_en="Funnel KPIs",
    definition_ru="Карточки вкладки «Воронки»: лиды, записанные, пришедшие и договоры когорты, конверсия лид→договор, "
    "явка, средний чек договоров и застрявшие сделки на выбранную дату.",
    definition_en="The cards of the Funnels tab: the cohort's leads, booked, attended and contracts, lead→contract "
    "conversion, show rate, mean contract value and the deals stuck as of the chosen date.",
)
def funnel_kpis(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """leads, booked, attended, contracts = ``reached`` of funnel.cohort at lead, booked, attended,
    contract; conv_lead_contract = its ``conv_lead`` at contract; show_rate =
    consultations.attendance ``show_rate``; mean_value = deals.averages ``price_mean``; stuck =
    the sum of deals.stuck ``stuck`` over its stages (as of the as-of date)."""
    by = check_by(by, KPI_GROUPS, "kpi.funnels")
    cohort = funnel_cohort(snap, filters, by)
    stages = {"lead": "leads", "booked": "booked", "attended": "attended", "contract": "contracts"}
    cells = [pl.col("reached").filter(pl.col("stage") == s).first().alias(card) for s, card in stages.items()]
    cells.append(pl.col("conv_lead").filter(pl.col("stage") == "contract").first().alias("conv_lead_contract"))
    parts = [
        aggregate(cohort.lazy(), by, cells).collect(),
        _pick(attendance(snap, filters, by), by, {"show_rate": "show_rate"}),
        _pick(deals_averages(snap, filters, by), by, {"price_mean": "mean_value"}),
        aggregate(stuck(snap, filters, by).lazy(), by, [pl.col("stuck").sum()]).collect(),
    ]
    return _combine(parts, by, [*stages.values(), "stuck"], FUNNEL_KPIS)


@metric(
    id="kpi.time",
    hours=True,
    columns=TIME_KPIS,
    breakdowns=KPI_GROUPS,
    title_ru="Показатели времени",
    title_en="Time KPIs",
    definition_ru="Карточки вкладки «Время между статусами»: медианы от заявки до договора и до успеха, от лида до "
    "номера, до первого касания, сделки без касаний и среднее число записей до договора.",
    definition_en="The cards of the Time tab: median creation→contract, request→won, lead→phone and time to first "
    "touch, untouched deals and mean bookings before contract.",
)
def time_kpis(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """median_c2c_s, median_won_s = ``median_s`` of time.creation_to_contract and
    time.request_to_won; median_lead_phone_s = ``median_s`` of time.stage_to_stage at lead→phone;
    median_first_touch_s, untouched = time.to_first_touch; mean_bookings_before =
    bookings.before_contract ``mean``."""
    by = check_by(by, KPI_GROUPS, "kpi.time")
    stage = stage_to_stage(snap, filters, by).filter(pl.col("transition") == "lead→phone")
    parts = [
        _pick(creation_to_contract(snap, filters, by), by, {"median_s": "median_c2c_s"}),
        _pick(request_to_won(snap, filters, by), by, {"median_s": "median_won_s"}),
        _pick(stage, by, {"median_s": "median_lead_phone_s"}),
        _pick(to_first_touch(snap, filters, by), by, {"median_s": "median_first_touch_s", "untouched": "untouched"}),
        _pick(bookings_before_contract(snap, filters, by), by, {"mean": "mean_bookings_before"}),
    ]
    return _combine(parts, by, ["untouched"], TIME_KPIS)


@metric(
    id="kpi.touches",
    hours=True,
    columns=TOUCH_KPIS,
    breakdowns=KPI_GROUPS,
    title_ru="Показатели касаний",
    title_en="Touch KPIs",
    definition_ru="Карточки вкладок «Касания»: сделки периода, медиана до первого касания, сделки без касаний, касаний "
    "на сделку, звонки и доля отвеченных, просроченные задачи и задач на менеджера.",
    definition_en="The cards of the Touches tabs: deals of the period, median time to first touch, untouched deals, "
    "touches per deal, calls and the answered share, overdue tasks and tasks per manager.",
)
def touch_kpis(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """deals, touches_per_deal = ``n`` and ``mean_touches`` of touches.per_deal; median_first_touch_s,
    untouched = touches.time_to_first; calls = incoming + outgoing of calls.by_manager, answered_share
    = its answered / calls (empty when there are no calls); overdue = tasks.by_manager ``overdue``;
    tasks_per_manager = tasks.by_manager ``created`` / the number of managers with tasks created in
    the period (empty when none).

    Choice: a task without a responsible user counts in ``created`` but not as a manager."""
    by = check_by(by, KPI_GROUPS, "kpi.touches")
    calls = calls_by_manager(snap, filters, by).with_columns(calls=pl.col("incoming") + pl.col("outgoing"))
    calls = calls.with_columns(answered_share=pl.when(pl.col("calls") > 0).then(pl.col("answered") / pl.col("calls")))
    per_manager = tasks_by_manager(snap, filters, (*by, "manager") if "manager" not in by else by)
    managers = aggregate(
        per_manager.lazy(), by, [pl.col("created").sum(), pl.col("manager").is_not_null().sum().alias("managers")]
    ).collect()
    tasks = managers.with_columns(
        tasks_per_manager=pl.when(pl.col("managers") > 0).then(pl.col("created") / pl.col("managers"))
    )
    parts = [
        _pick(per_deal(snap, filters, by), by, {"n": "deals", "mean_touches": "touches_per_deal"}),
        _pick(to_first_touch(snap, filters, by), by, {"median_s": "median_first_touch_s", "untouched": "untouched"}),
        _pick(calls, by, {"calls": "calls", "answered_share": "answered_share"}),
        _pick(tasks_by_manager(snap, filters, by), by, {"overdue": "overdue"}),
        _pick(tasks, by, {"tasks_per_manager": "tasks_per_manager"}),
    ]
    return _combine(parts, by, ["deals", "untouched", "calls", "overdue"], TOUCH_KPIS)
