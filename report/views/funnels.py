"""Tab "Funnels" (Воронки): cohort and flow funnels, status as of a date, volumes over time."""

from __future__ import annotations

import polars as pl

from etl.config import FUNNEL_STAGES
from report import figures
from report.i18n import column_label, stage_label, t
from report.metrics.stuck import AGE_COLUMNS
from report.urlstate import ViewState
from report.views.kpis import Kpi
from report.views.panels import Panel

BY_CITY = ("по городам", "by city")
BY_CITY_CC = ("по городам, контакт-центр отдельно", "by city, contact centre apart")
OVER_TIME = ("по периодам", "over time")
BY_PACKAGE = ("по пакетам", "by package")


def _funnel_by_city(df: pl.DataFrame, state: ViewState) -> object:
    value = "reached" if state.funnel == "cohort" else "entries"
    rows = df.filter(pl.col("stage").is_in(FUNNEL_STAGES)).with_columns(
        pl.col("stage").replace_strict({s: stage_label(s, state.lang) for s in FUNNEL_STAGES}).alias("stage_label")
    )
    order = [stage_label(s, state.lang) for s in FUNNEL_STAGES]
    return figures.heatmap(rows, "city", "stage_label", value, order, state.lang, duration=False, limit=20)


def status_groups(df: pl.DataFrame, state: ViewState) -> pl.DataFrame:
    """Office deals per city, the contact centre as one group of its own (its deals are all
    cities'): the ``group`` column, first, which the chart draws and the table is ordered by."""
    centre = t("c_contact_center", state.lang)
    group = pl.when(pl.col("channel") == "contact_center").then(pl.lit(centre)).otherwise(pl.col("city"))
    return df.select(group.alias("group"), pl.all())


def _open_age(df: pl.DataFrame, state: ViewState) -> object:
    """Open deals per stage (funnel order, top to bottom), stacked by days in the stage."""
    rows = df.with_columns(pl.col("stage").replace_strict(_stage_names(df, state.lang)).alias("stage_label"))
    buckets = list(AGE_COLUMNS[2:])
    names = [column_label(c, state.lang) for c in buckets]
    title = column_label("deals", state.lang)
    return figures.bars(
        rows, "stage_label", buckets, names, state.lang, stacked=True, colors=figures.AGE_COLORS,
        keep_order=True, title=title,
    )  # fmt: skip


def _stuck_by_city(df: pl.DataFrame, state: ViewState) -> object:
    """Stuck deals, city × stage (the stages that have a threshold, in funnel order)."""
    rows = df.with_columns(pl.col("stage").replace_strict(_stage_names(df, state.lang)).alias("stage_label"))
    order = [stage_label(s, state.lang) for s in df["stage"].unique(maintain_order=True).to_list()]
    return figures.heatmap(rows, "city", "stage_label", "stuck", order, state.lang, duration=False, limit=20)


def _stage_names(df: pl.DataFrame, lang: str) -> dict[str, str]:
    return {s: stage_label(s, lang) for s in df["stage"].unique().to_list()}


PANELS: tuple[Panel, ...] = (
    Panel("funnel-cohort", "funnel.cohort", (), lambda df, s: figures.funnel(df, "reached", s.lang)),
    Panel("funnel-flow", "funnel.flow", (), lambda df, s: figures.funnel(df, "entries", s.lang)),
    Panel(
        "reconciliation",
        "funnel.reconciliation",
        (),
        lambda df, s: figures.reconciliation_bars(df, s.lang),
        width=12,
        note="note_reconciliation",
    ),
    Panel(
        "funnel-city",
        lambda s: f"funnel.{s.funnel}",
        ("city",),
        _funnel_by_city,
        width=12,
        subtitle=BY_CITY,
        totals=False,
    ),
    Panel(
        "status-city",
        "deals.status_as_of",
        ("city", "channel"),
        lambda df, s: figures.status_bars(df, "group", s.lang, limit=16),
        width=12,
        subtitle=BY_CITY_CC,
        totals=False,
        rows=status_groups,
    ),
    Panel("open-age", "deals.open_age", (), _open_age, width=12),
    Panel("stuck-city", "deals.stuck", ("city",), _stuck_by_city, width=12, subtitle=BY_CITY, totals=False),
    Panel(
        "created",
        "deals.created",
        ("city", "bucket"),
        lambda df, s: figures.stacked_over_time(df, "deals", "city", s.grain, s.lang),
        subtitle=BY_CITY,
    ),
    Panel(
        "bookings",
        "bookings.count",
        ("city", "bucket"),
        lambda df, s: figures.stacked_over_time(df, "bookings", "city", s.grain, s.lang),
        subtitle=BY_CITY,
    ),
    Panel(
        "attendance",
        "consultations.attendance",
        ("bucket",),
        lambda df, s: figures.attendance_over_time(df, s.grain, s.lang),
        subtitle=OVER_TIME,
    ),
    Panel(
        "attendance-city",
        "consultations.attendance",
        ("city",),
        lambda df, s: figures.rate_bars(df, "city", "show_rate", ("attended", "no_show"), s.lang),
        subtitle=BY_CITY,
    ),
    Panel(
        "att-contract",
        "conversion.attended_to_contract",
        ("city",),
        lambda df, s: figures.rate_bars(df, "city", "rate", ("contract", "attended"), s.lang),
        subtitle=BY_CITY,
    ),
    Panel(
        "averages",
        "deals.averages",
        ("bucket",),
        lambda df, s: figures.lines_over_time(
            df.with_columns(g=pl.lit(t("c_all", s.lang))), "g", "price_mean", s.grain, s.lang
        ),
        subtitle=OVER_TIME,
    ),
    Panel(
        "averages-package",
        "deals.averages",
        ("package",),
        lambda df, s: figures.bars(
            df, "package", ["price_mean"], [column_label("price_mean", s.lang)], s.lang, money=True
        ),
        subtitle=BY_PACKAGE,
    ),
)


def panels(state: ViewState) -> tuple[Panel, ...]:
    return PANELS


KPI_METRIC = "kpi.funnels"
#: Every funnel card is good news when it rises.
KPIS: tuple[Kpi, ...] = (
    Kpi("leads", "leads", "k_leads"),
    Kpi("booked", "booked", "stage:booked"),
    Kpi("attended", "attended", "stage:attended"),
    Kpi("contracts", "contracts", "k_contracts"),
    Kpi("conv-lead-contract", "conv_lead_contract", "k_conv_lead_contract", "percent"),
    Kpi("show-rate", "show_rate", "k_show_rate", "percent"),
    Kpi("mean-value", "mean_value", "k_mean_value", "money"),
    Kpi("stuck", "stuck", "k_stuck"),
)
