"""Tabs "Touches: all pipelines" and "Touches: office" (Касания): one module, parameterised by tab.

The office tab is the same set with the pipeline class fixed to ``office`` (done in
``ViewState.filters``), plus the per-office load.
"""

from __future__ import annotations

import polars as pl

from report import figures
from report.i18n import column_label
from report.urlstate import ViewState
from report.views.kpis import Kpi
from report.views.panels import Panel

BY_CITY = ("по городам", "by city")
BY_MANAGER = ("по менеджерам", "by manager")
OVER_TIME = ("по менеджерам и периодам", "by manager over time")


def _mix(df: pl.DataFrame, s: ViewState):
    """Mean calls and SMS per deal, stacked, per city."""
    return figures.bars(
        df,
        "city",
        ["mean_calls", "mean_sms"],
        [column_label("mean_calls", s.lang), column_label("mean_sms", s.lang)],
        s.lang,
        stacked=True,
        colors=[figures.KIND_COLORS["calls"], figures.KIND_COLORS["sms"]],
    )


def _negative(df: pl.DataFrame, s: ViewState):
    return figures.status_bars(df, "city", s.lang)


def _calls_over_time(df: pl.DataFrame, s: ViewState):
    """Outgoing (solid) and incoming (dotted) calls per manager: the parts, not a sum."""
    kinds = {"outgoing": column_label("outgoing", s.lang), "incoming": column_label("incoming", s.lang)}
    return figures.lines_over_time(df, "manager", kinds, s.grain, s.lang)


def _calls_by_manager(df: pl.DataFrame, s: ViewState):
    cols = ["outgoing", "incoming", "answered"]
    return figures.bars(df, "manager", cols, [column_label(c, s.lang) for c in cols], s.lang)


def _tasks(df: pl.DataFrame, s: ViewState):
    cols = ["created", "completed", "overdue"]
    return figures.bars(
        df,
        "manager",
        cols,
        [column_label(c, s.lang) for c in cols],
        s.lang,
        colors=[figures.SERIES_COLORS[0], figures.STAGE_COLORS["attended"], figures.STAGE_COLORS["no_show"]],
    )


def _gaps(df: pl.DataFrame, s: ViewState):
    cols = ["median_s", "mean_s"]
    return figures.bars(df, "manager", cols, [column_label(c, s.lang) for c in cols], s.lang, duration=True)


#: What the leaderboard can rank by (the first is the default): best first, so largest first
#: except for a time (the fastest first touch leads).
LEADERBOARD_RANKS = ("conversion", "contracts", "deals", "answered_minutes", "touches_per_deal", "median_first_touch_s")


def _leaderboard(df: pl.DataFrame, s: ViewState, rank: str):
    """Every manager, ranked by the chosen column (a leaderboard lists all, not a top N)."""
    if rank == "conversion":
        return figures.rate_bars(df, "manager", "conversion", ("contracts", "deals"), s.lang)
    duration = rank.endswith("_s")
    if duration:  # a time: the fastest leads (bars keep the rows' order)
        df = df.sort(rank, nulls_last=True, maintain_order=True)
    return figures.bars(
        df, "manager", [rank], [column_label(rank, s.lang)], s.lang, duration=duration, limit=None, keep_order=duration
    )


def _office_load(df: pl.DataFrame, s: ViewState):
    cols = ["deals_per_manager", "calls_per_manager", "tasks_per_manager"]
    return figures.bars(df, "city", cols, [column_label(c, s.lang) for c in cols], s.lang)


COMMON: tuple[Panel, ...] = (
    Panel(
        "ttf-manager",
        "touches.time_to_first",
        ("manager",),
        lambda df, s: figures.duration_ranges(df, "manager", s.lang),
        subtitle=BY_MANAGER,
    ),
    Panel(
        "next-stage-city",
        "touches.to_next_stage",
        ("city",),
        lambda df, s: figures.duration_ranges(df, "city", s.lang),
        subtitle=BY_CITY,
    ),
    Panel(
        "next-stage-manager",
        "touches.to_next_stage",
        ("manager",),
        lambda df, s: figures.duration_ranges(df, "manager", s.lang),
        subtitle=BY_MANAGER,
    ),
    Panel("per-deal", "touches.per_deal", ("city",), _mix, subtitle=BY_CITY),
    Panel("before-contract", "touches.before_contract", ("city",), _mix, subtitle=BY_CITY),
    Panel("before-lost", "touches.before_lost", ("city",), _mix, subtitle=BY_CITY),
    Panel("no-show-lost", "touches.no_show_to_lost", ("city",), _mix, subtitle=BY_CITY),
    Panel("negative", "touches.negative_status", ("city",), _negative, subtitle=BY_CITY, totals=False),
    Panel(
        "interval",
        "touches.interval",
        ("manager",),
        lambda df, s: figures.duration_ranges(df, "manager", s.lang),
        subtitle=BY_MANAGER,
    ),
    Panel("calls-time", "calls.by_manager", ("manager", "bucket"), _calls_over_time, subtitle=OVER_TIME),
    Panel("calls-manager", "calls.by_manager", ("manager",), _calls_by_manager, subtitle=BY_MANAGER),
    Panel("tasks", "tasks.by_manager", ("manager",), _tasks, subtitle=BY_MANAGER),
    Panel("day-gaps", "tasks.day_gaps", ("manager",), _gaps, subtitle=BY_MANAGER),
    Panel(
        "leaderboard",
        "managers.leaderboard",
        ("manager",),
        _leaderboard,  # type: ignore[arg-type]  # a ranking figure: (df, state, rank)
        width=12,
        totals=False,
        ranks=LEADERBOARD_RANKS,
    ),
)
OFFICE: tuple[Panel, ...] = (Panel("office-load", "office.load", ("city",), _office_load, width=12, totals=False),)


def panels(state: ViewState) -> tuple[Panel, ...]:
    return (*OFFICE, *COMMON) if state.tab == "touches_office" else COMMON


KPI_METRIC = "kpi.touches"  # both touches tabs: the office tab's filters fix the pipeline class
KPIS: tuple[Kpi, ...] = (
    # More deals, calls and answered calls are good; slower first touches, untouched deals and
    # overdue tasks bad; touches and tasks per deal/manager are effort, neither good nor bad.
    Kpi("deals", "deals", "k_deals"),
    Kpi("median-first-touch", "median_first_touch_s", "k_median_first_touch", "duration", up_is_good=False),
    Kpi("untouched", "untouched", "k_untouched", up_is_good=False),
    Kpi("touches-per-deal", "touches_per_deal", "k_touches_per_deal", "decimal1", up_is_good=None),
    Kpi("calls", "calls", "k_calls"),
    Kpi("answered-share", "answered_share", "k_answered_share", "percent"),
    Kpi("overdue", "overdue", "k_overdue", up_is_good=False),
    Kpi("tasks-per-manager", "tasks_per_manager", "k_tasks_per_manager", "decimal1", up_is_good=None),
)
