"""Tabs "Touches: all pipelines" and "Touches: office" (Касания): one module, parameterised by tab.

The office tab is the same set with the pipeline class fixed to ``office`` (done in
``ViewState.filters``), plus the per-office load.
"""

from __future__ import annotations

import polars as pl

from report import figures
from report.formatting import fmt_duration, fmt_number, fmt_percent
from report.i18n import column_label, t
from report.urlstate import ViewState
from report.views.panels import Panel, kpi_card, ratio, total, value_of, weighted_mean

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
    rows = df.with_columns(calls=pl.col("incoming") + pl.col("outgoing"))
    return figures.lines_over_time(rows, "manager", "calls", s.grain, s.lang)


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


def _leaderboard(df: pl.DataFrame, s: ViewState):
    return figures.rate_bars(df, "manager", "conversion", "contracts", "deals", s.lang)


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
    Panel("per-deal", "touches.per_deal", ("city",), _mix, subtitle=BY_CITY),
    Panel("before-contract", "touches.before_contract", ("city",), _mix, subtitle=BY_CITY),
    Panel("before-lost", "touches.before_lost", ("city",), _mix, subtitle=BY_CITY),
    Panel("no-show-lost", "touches.no_show_to_lost", ("city",), _mix, subtitle=BY_CITY),
    Panel("negative", "touches.negative_status", ("city",), _negative, subtitle=BY_CITY),
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
    Panel("leaderboard", "managers.leaderboard", ("manager",), _leaderboard, width=12),
)
OFFICE: tuple[Panel, ...] = (Panel("office-load", "office.load", ("city",), _office_load, width=12),)


def panels(state: ViewState) -> tuple[Panel, ...]:
    return (*OFFICE, *COMMON) if state.tab == "touches_office" else COMMON


def kpi_queries(state: ViewState) -> list[tuple[str, str, tuple[str, ...]]]:
    # Only the median needs its own call; the other cards add up the panels' groups.
    return [("kpi-ttf", "touches.time_to_first", ())]


def kpis(results: dict, state: ViewState) -> list:
    lang = state.lang
    ttf, per_deal, calls = results.get("kpi-ttf"), results.get("per-deal"), results.get("calls-manager")
    incoming, outgoing = total(calls, "incoming"), total(calls, "outgoing")
    all_calls = None if incoming is None else incoming + (outgoing or 0)
    return [
        kpi_card("deals", t("k_deals", lang), fmt_number(total(per_deal, "n"), lang)),
        kpi_card("median-first-touch", t("k_median_first_touch", lang), fmt_duration(value_of(ttf, "median_s"), lang)),
        kpi_card("untouched", t("k_untouched", lang), fmt_number(value_of(ttf, "untouched"), lang)),
        kpi_card(
            "touches-per-deal",
            t("k_touches_per_deal", lang),
            fmt_number(weighted_mean(per_deal, "mean_touches", "n"), lang, 1),
        ),
        kpi_card("calls", t("k_calls", lang), fmt_number(all_calls, lang)),
        kpi_card(
            "answered-share", t("k_answered_share", lang), fmt_percent(ratio(total(calls, "answered"), all_calls), lang)
        ),
        kpi_card("overdue", t("k_overdue", lang), fmt_number(total(results.get("tasks"), "overdue"), lang)),
    ]
