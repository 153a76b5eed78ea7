"""Open deals as of a date: how long they have sat in their stage, and which are stuck.

Both metrics look at one instant, the *reference*: the end of the as-of day D (``Filters.as_of``,
default the period's last day, as for ``deals.status_as_of``), or the snapshot's ``data_as_of``
when that is earlier (the data say nothing after it, so a later instant would only make every
deal look older than it is known to be). A deal is *open* when its status at that instant has
a stage other than won and lost; its *days in stage* run from its entry into that stage (the
last stage entry before the instant, METRICS.md *Entry*) to the instant, in calendar days
(fractional); the hours switch does not apply (thresholds are calendar days in config.yaml).
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from etl.config import ALL_STAGES
from etl.config_schema import DEFAULT_STUCK_AFTER_DAYS
from etl.snapshot.store import Snapshot
from report.metrics.access import remembered, stages_at
from report.metrics.filters import Filters
from report.metrics.periods import as_of_end_utc
from report.metrics.registry import metric
from report.metrics.shaping import check_by, finish, rate, with_all_stages

GROUPS = ("city", "manager", "channel")
CLOSED = ("won", "lost")
OPEN_STAGES = tuple(s for s in ALL_STAGES if s not in CLOSED)
STUCK_COLUMNS = ("stage", "threshold_days", "open", "stuck", "share_stuck", "oldest_days")
#: Age buckets of days in stage, [low, high) each: column, low, high (None = no upper bound).
AGE_BUCKETS: tuple[tuple[str, float, float | None], ...] = (
    ("d0_1", 0, 1),
    ("d1_3", 1, 3),
    ("d3_7", 3, 7),
    ("d7_14", 7, 14),
    ("d14_30", 14, 30),
    ("d30_90", 30, 90),
    ("d90_plus", 90, None),
)
AGE_COLUMNS = ("stage", "open", *(name for name, _, _ in AGE_BUCKETS))
DAY_US = 86_400_000_000


def reference_instant(snap: Snapshot, filters: Filters) -> datetime:
    """The end of the as-of day, or the snapshot's data time when that is earlier."""
    return min(as_of_end_utc(filters, snap.timezone), snap.data_as_of)


def thresholds(snap: Snapshot) -> dict[str, float]:
    """Stage → days after which an open deal in it is stuck, in stage order: the snapshot's
    ``settings.stuck_after_days`` (config.yaml at build time); a snapshot that records no
    settings (built before they were recorded) gets config.yaml's defaults."""
    given = (snap.manifest.get("settings") or {}).get("stuck_after_days")
    days = DEFAULT_STUCK_AFTER_DAYS if given is None else given
    return {s: float(days[s]) for s in ALL_STAGES if s in days}


def open_deal_ages(snap: Snapshot, filters: Filters) -> pl.LazyFrame:
    """Every filtered deal open at the reference instant: ``deal_id``, ``city``, ``channel``,
    ``manager``, ``stage``, ``stage_entered_at`` and ``days`` in that stage."""
    at = reference_instant(snap, filters)

    def compute() -> pl.DataFrame:
        deals = stages_at(snap, filters, at).filter(~pl.col("stage").is_in(CLOSED))
        days = (pl.lit(at) - pl.col("stage_entered_at")).dt.total_microseconds() / DAY_US
        return deals.with_columns(days=days).collect()

    # read once for the card, the age chart and the city table of one view
    key = ("open_deal_ages", filters.cities, filters.managers, filters.channel, at)
    return remembered(snap, key, compute).lazy()


def stuck_deals(snap: Snapshot, filters: Filters) -> pl.LazyFrame:
    """:func:`open_deal_ages` of the stages with a threshold, with ``threshold_days`` and
    ``is_stuck`` (days in stage strictly more than the threshold)."""
    limits = thresholds(snap)
    deals = open_deal_ages(snap, filters).filter(pl.col("stage").is_in(list(limits)))
    limit = pl.col("stage").replace_strict(limits, return_dtype=pl.Float64)
    return deals.with_columns(threshold_days=limit, is_stuck=pl.col("days") > limit)


def age_bucket(name: str) -> pl.Expr:
    """Whether ``days`` falls in the age bucket ``name`` of :data:`AGE_BUCKETS`."""
    _, low, high = next(b for b in AGE_BUCKETS if b[0] == name)
    inside = pl.col("days") >= low
    return inside if high is None else inside & (pl.col("days") < high)


@metric(
    id="deals.stuck",
    columns=STUCK_COLUMNS,
    breakdowns=GROUPS,
    title_ru="Застрявшие сделки",
    title_en="Stuck deals",
    definition_ru="Открытые сделки на конец выбранной даты: сколько стоит на каждом этапе и сколько из них дольше "
    "порога этапа из настроек (дней с входа в этап), их доля и самая старая.",
    definition_en="Open deals at the end of the chosen date: how many sit in each stage and how many of them longer "
    "than the stage's threshold from the settings (days since entering the stage), their share and the oldest.",
)
def stuck(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Per stage with a threshold (``settings.stuck_after_days``): ``open`` = deals open at the
    reference instant (module docstring) in that stage, ``stuck`` = those whose days in stage
    exceed ``threshold_days`` (strictly), ``share_stuck`` = stuck / open (empty when none is
    open), ``oldest_days`` = the most days in stage among the open ones (empty when none).

    Choices: the period's start plays no part, only the as-of date, so there is no ``bucket``;
    every threshold stage is listed for every group, zeros included; ``manager`` is the deal's
    responsible user and ``channel`` its current pipeline class, as for every filter; a stage
    left out of the settings (and ``other``) is never stuck and has no row.
    """
    by = check_by(by, GROUPS, "deals.stuck")
    keys = list(by)
    limits = thresholds(snap)
    counts = (
        stuck_deals(snap, filters)
        .group_by([*keys, "stage"])
        .agg(
            pl.len().cast(pl.Int64).alias("open"),
            pl.col("is_stuck").sum().cast(pl.Int64).alias("stuck"),
            pl.col("days").max().alias("oldest_days"),
        )
        .collect()
    )
    grid = with_all_stages(counts, keys, list(limits), ["open", "stuck"])
    grid = grid.with_columns(
        threshold_days=pl.col("stage").replace_strict(limits, return_dtype=pl.Float64),
        share_stuck=rate("stuck", "open"),
    )
    return finish(grid, snap, by, list(STUCK_COLUMNS), sort_extra=["_order"])


@metric(
    id="deals.open_age",
    columns=AGE_COLUMNS,
    breakdowns=("city", "channel"),
    title_ru="Сколько дней открытые сделки стоят на этапе",
    title_en="Days open deals have been in their stage",
    definition_ru="Открытые сделки на конец выбранной даты по этапу: сколько из них стоит на этапе 0–1, 1–3, 3–7, "
    "7–14, 14–30, 30–90 и 90+ дней (с входа в этап).",
    definition_en="Open deals at the end of the chosen date per stage: how many have been in it 0–1, 1–3, 3–7, "
    "7–14, 14–30, 30–90 and 90+ days (since entering the stage).",
)
def open_age(snap: Snapshot, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Per open stage (every stage but won and lost, ``other`` included): ``open`` = deals open
    at the reference instant (module docstring) in it, and how many of them have been in it
    [0, 1), [1, 3), [3, 7), [7, 14), [14, 30), [30, 90) and 90 or more days (columns ``d0_1`` …
    ``d90_plus``; a bucket holds its lower bound, so a deal in its stage exactly 3 days is in
    ``d3_7``). The buckets add up to ``open``.

    Choices: every open stage is listed for every group, zeros included; no ``bucket`` or
    ``manager`` breakdown (the spec asks for city and channel)."""
    by = check_by(by, ("city", "channel"), "deals.open_age")
    keys = list(by)
    counts = (
        open_deal_ages(snap, filters)
        .group_by([*keys, "stage"])
        .agg(
            pl.len().cast(pl.Int64).alias("open"),
            *(age_bucket(name).sum().cast(pl.Int64).alias(name) for name, _, _ in AGE_BUCKETS),
        )
        .collect()
    )
    grid = with_all_stages(counts, keys, OPEN_STAGES, list(AGE_COLUMNS[1:]))
    return finish(grid, snap, by, list(AGE_COLUMNS), sort_extra=["_order"])
