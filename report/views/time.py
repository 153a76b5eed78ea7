"""Tab "Time between statuses" (Время между статусами): heat map, distributions, trends."""

from __future__ import annotations

import polars as pl

from report import figures
from report.i18n import t, transition_label
from report.urlstate import ViewState
from report.views.kpis import Kpi
from report.views.panels import Panel

TRANSITIONS = ("lead→phone", "phone→booked", "booked→attended", "attended→contract")
BY_CITY = ("по городам", "by city")
BY_TRANSITION = ("по переходам", "by transition")
OVER_TIME = ("по периодам", "over time")
DISTRIBUTION = ("распределение", "distribution")

DURATION_METRICS = (
    "time.creation_to_contract",
    "time.phone_to_consultation",
    "time.rebooking",
    "time.no_answer_to_close",
    "time.request_to_won",
    "time.to_first_touch",
)


def _ranges_by_city(df, state: ViewState):
    return figures.duration_ranges(df, "city", state.lang)


PANELS: tuple[Panel, ...] = (
    Panel(
        "stage-heat",
        "time.stage_to_stage",
        ("city",),
        lambda df, s: figures.heatmap(
            df,
            "city",
            "transition",
            "median_s",
            TRANSITIONS,
            s.lang,
            col_labels=[transition_label(x, s.lang) for x in TRANSITIONS],
        ),
        width=12,
        subtitle=("медиана, город × переход", "median, city × transition"),
        totals=False,  # by=() is one row per transition: the next panel
    ),
    Panel(
        "stage-ranges",
        "time.stage_to_stage",
        (),
        lambda df, s: figures.duration_ranges(
            df.with_columns(
                pl.col("transition").map_elements(lambda v: transition_label(v, s.lang), return_dtype=pl.String)
            ),
            "transition",
            s.lang,
            order=[transition_label(x, s.lang) for x in TRANSITIONS],
        ),
        subtitle=BY_TRANSITION,
    ),
    Panel(
        "c2c-time",
        "time.creation_to_contract",
        ("bucket",),
        lambda df, s: figures.duration_over_time(df, s.grain, s.lang),
        subtitle=OVER_TIME,
    ),
    *(Panel(f"{m.split('.')[1]}-city", m, ("city",), _ranges_by_city, subtitle=BY_CITY) for m in DURATION_METRICS),
    Panel(
        "request-won-time",
        "time.request_to_won",
        ("bucket",),
        lambda df, s: figures.duration_over_time(df, s.grain, s.lang),
        subtitle=OVER_TIME,
    ),
    Panel(
        "bookings-before",
        "bookings.before_contract",
        ("city",),
        lambda df, s: figures.bars(df, "city", ["mean"], [t("mean_bookings", s.lang)], s.lang),
        subtitle=BY_CITY,
    ),
    Panel(
        "bookings-before-dist",
        "bookings.before_contract.distribution",
        (),
        lambda df, s: figures.histogram_bars(df, "bookings", "deals", s.lang, t("bookings_axis", s.lang)),
        subtitle=DISTRIBUTION,
    ),
)


def panels(state: ViewState) -> tuple[Panel, ...]:
    return PANELS


KPI_METRIC = "kpi.time"
KPIS: tuple[Kpi, ...] = (
    # Shorter times, fewer untouched deals and fewer bookings per contract are good news.
    Kpi("median-c2c", "median_c2c_s", "k_median_c2c", "duration", up_is_good=False),
    Kpi("median-won", "median_won_s", "k_median_won", "duration", up_is_good=False),
    Kpi("median-lead-phone", "median_lead_phone_s", "k_median_lead_phone", "duration", up_is_good=False),
    Kpi("median-first-touch", "median_first_touch_s", "k_median_first_touch", "duration", up_is_good=False),
    Kpi("untouched", "untouched", "k_untouched", up_is_good=False),
    Kpi("bookings-before", "mean_bookings_before", "k_bookings_before", "decimal2", up_is_good=False),
)
