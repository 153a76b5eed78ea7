"""``deals.list``: the deals behind a number of a deal-counting metric (the drill-down).

Call it from a callback as::

    rows, total = deal_page(snap, filters, "funnel.cohort", column="reached", stage="booked",
                            group={"city": "Москва"}, limit=200)

``deal_list(...)`` is the same without a cap. The row count equals the number clicked: each
metric's *selector* below yields exactly the items the metric counts (one row per entry for
entry counts, so a deal booked twice is listed twice), and one function applies the clicked
breakdown value to them.

Choices (the spec is silent):
- ``deals.list`` is not in the metric registry: it takes extra arguments (column, stage, group)
  and returns rows, not aggregates, so it would break the uniform ``fn(snap, filters, by)`` that
  the cache, the export loop and the docs rely on. :data:`DRILLS` sits beside the registry,
  keyed by the same metric ids; adding a metric is one entry.
- ``column`` defaults to the metric's main count (``reached`` for the cohort, ``current`` is its
  second flavour, ``dropped`` its third).
- A null cell (e.g. ``reached`` of a side stage) has no deals: the list is empty.
- ``stage``, ``stage_entered_at`` (the deal's last stage entry) and ``days_in_stage`` (whole days
  from then to the snapshot's ``data_as_of``) describe the deal now, also for an as-of metric.
- ``counted_at`` is the time that put the item in the number (creation, the entry, the status
  entry in force); rows are sorted by it, then by deal id.
- ``deals.stuck`` and ``deals.open_age`` list the open deals of the stage (only the stuck ones,
  or those of one age bucket, for those columns) with ``counted_at`` = their entry into the
  stage: the oldest first.
- ``touches.negative_status`` lists deals whose status at the period's end has the stage,
  whenever created (METRICS.md).
- ``url``: ``https://<subdomain>.amocrm.ru/leads/detail/<id>`` for a real account; for the demo
  (manifest ``source.subdomain`` = ``emulator``) and when the manifest names no account, the
  report's own read-only deal card ``/deal/<id>`` (relative to the report's root;
  ``report.views.deal_page``). The demo account has no deal pages in any amoCRM: ``python -m
  report`` builds it from a raw export with no emulator running, and the emulator, when one runs,
  answers only API clients that send its bearer token (a browser tab gets a 401).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from etl.snapshot.store import Snapshot
from report.metrics.access import deals, entries, manager_names, period_end, status_entries, status_names
from report.metrics.filters import Filters
from report.metrics.periods import as_of_end_utc, bucket_expr
from report.metrics.shaping import MetricInputError
from report.metrics.stuck import AGE_COLUMNS, age_bucket, open_deal_ages, stuck_deals

DEMO_SUBDOMAIN = "emulator"  # what the demo's manifest names as its account
ACCOUNT_URL = "https://{subdomain}.amocrm.ru/leads/detail/{id}"
REPORT_URL = "/deal/{id}"  # the report's own deal card, for an account with no amoCRM to link to
NEGATIVE_STAGES = ("not_booked", "no_answer")
COLUMNS = (
    "deal_id",
    "url",
    "city",
    "manager",
    "channel",
    "stage",
    "created_at",
    "stage_entered_at",
    "days_in_stage",
    "counted_at",
)
GROUP_KEYS = ("city", "manager", "channel", "bucket")

#: A selector: (snap, filters, column, stage, status) → items with ``deal_id``, ``city``,
#: ``manager`` (user id), ``channel`` and ``counted_at``; one row per counted item.
Selector = Callable[[Snapshot, Filters, str, str | None, str | None], pl.LazyFrame]


@dataclass(frozen=True)
class Drill:
    """How to list the deals behind a metric: its count ``columns`` (the first is the default)
    and whether a ``stage`` must be named."""

    metric_id: str
    columns: tuple[str, ...]
    select: Selector
    needs_stage: bool = False


def _items(lf: pl.LazyFrame, time_col: str) -> pl.LazyFrame:
    return lf.select("deal_id", "city", "manager", "channel", pl.col(time_col).alias("counted_at"))


def _cohort(snap: Snapshot, filters: Filters, column: str, stage: str | None, status: str | None) -> pl.LazyFrame:
    from etl.config import FUNNEL_STAGES

    lf = deals(snap, filters, ["stage", *[f"reach_{s}" for s in FUNNEL_STAGES[1:]]])
    if column == "current":
        return _items(lf.filter(pl.col("stage") == stage), "created_at")
    if stage not in FUNNEL_STAGES:
        return _items(lf.filter(pl.lit(False)), "created_at")
    reached = pl.lit(True) if stage == "lead" else pl.col(f"reach_{stage}").is_not_null()
    if column == "dropped":
        i = FUNNEL_STAGES.index(stage)
        if i == len(FUNNEL_STAGES) - 1:
            return _items(lf.filter(pl.lit(False)), "created_at")
        reached = reached & pl.col(f"reach_{FUNNEL_STAGES[i + 1]}").is_null()
    return _items(lf.filter(reached), "created_at")


def _flow(snap: Snapshot, filters: Filters, column: str, stage: str | None, status: str | None) -> pl.LazyFrame:
    ent = entries(snap, filters, ["stage", "is_stage_entry", "seq"])
    cond = (pl.col("seq") == 0) if stage == "lead" else (pl.col("is_stage_entry") & (pl.col("stage") == stage))
    return _items(ent.filter(cond), "at")


def _stage_entries_of(stage_of: Callable[[str, str | None], str]) -> Selector:
    """Entries into one stage in the period (bookings, attendance): ``stage_of(column, stage)``."""

    def select(snap: Snapshot, filters: Filters, column: str, stage: str | None, status: str | None) -> pl.LazyFrame:
        ent = entries(snap, filters, ["stage", "is_stage_entry"])
        return _items(ent.filter(pl.col("is_stage_entry") & (pl.col("stage") == stage_of(column, stage))), "at")

    return select


def _created(snap: Snapshot, filters: Filters, column: str, stage: str | None, status: str | None) -> pl.LazyFrame:
    return _items(deals(snap, filters, []), "created_at")


def _status_as_of(snap: Snapshot, filters: Filters, column: str, stage: str | None, status: str | None) -> pl.LazyFrame:
    last = status_entries(snap, filters, as_of_end_utc(filters, snap.timezone), ["pipeline_id", "status_id", "stage"])
    last = last.join(status_names(snap), on=["pipeline_id", "status_id"], how="left").with_columns(
        pl.coalesce("status", pl.lit("#") + pl.col("status_id").cast(pl.String))
    )
    if stage is not None:
        last = last.filter(pl.col("stage") == stage)
    if status is not None:
        last = last.filter(pl.col("status") == status)
    return _items(last, "at")


def _negative(snap: Snapshot, filters: Filters, column: str, stage: str | None, status: str | None) -> pl.LazyFrame:
    last = status_entries(snap, filters, period_end(snap, filters), ["stage"])
    return _items(last.filter(pl.col("stage") == stage), "at")


def _stuck(snap: Snapshot, filters: Filters, column: str, stage: str | None, status: str | None) -> pl.LazyFrame:
    rows = stuck_deals(snap, filters).filter(pl.col("stage") == stage)
    return _items(rows.filter(pl.col("is_stuck")) if column == "stuck" else rows, "stage_entered_at")


def _open_age(snap: Snapshot, filters: Filters, column: str, stage: str | None, status: str | None) -> pl.LazyFrame:
    rows = open_deal_ages(snap, filters).filter(pl.col("stage") == stage)
    return _items(rows if column == "open" else rows.filter(age_bucket(column)), "stage_entered_at")


DRILLS: dict[str, Drill] = {
    d.metric_id: d
    for d in (
        Drill("funnel.cohort", ("reached", "current", "dropped"), _cohort, needs_stage=True),
        Drill("funnel.flow", ("entries",), _flow, needs_stage=True),
        Drill("deals.status_as_of", ("deals",), _status_as_of),
        Drill("deals.created", ("deals",), _created),
        Drill("bookings.count", ("bookings",), _stage_entries_of(lambda column, stage: "booked")),
        Drill("consultations.attendance", ("attended", "no_show"), _stage_entries_of(lambda column, stage: column)),
        Drill("touches.negative_status", ("deals",), _negative, needs_stage=True),
        Drill("deals.stuck", ("stuck", "open"), _stuck, needs_stage=True),
        Drill("deals.open_age", AGE_COLUMNS[1:], _open_age, needs_stage=True),
    )
}


def deal_url(snap: Snapshot, deal_id: pl.Expr) -> pl.Expr:
    """The deal's page in amoCRM for a real account; the report's own deal card for the demo (see
    the module's choices)."""
    subdomain = str((snap.manifest.get("source") or {}).get("subdomain") or "")
    own = not subdomain or subdomain == DEMO_SUBDOMAIN
    head, tail = (REPORT_URL if own else ACCOUNT_URL.replace("{subdomain}", subdomain)).split("{id}")
    return pl.lit(head) + deal_id.cast(pl.String) + pl.lit(tail)


def _manager_id(snap: Snapshot, value: object) -> int | None:
    """A manager as the metric shows it (name, ``id <n>``) or as a user id."""
    if value is None or isinstance(value, int):
        return value
    text = str(value).strip()
    if text.removeprefix("id ").isdigit():
        return int(text.removeprefix("id "))
    names = manager_names(snap).filter(pl.col("_name") == text)["manager"]
    if names.is_empty():
        raise MetricInputError(f"deals.list: no manager {text!r}")
    return int(names[0])


def _group_filter(snap: Snapshot, filters: Filters, items: pl.LazyFrame, group: Mapping[str, object]) -> pl.LazyFrame:
    """Keep the items of the clicked breakdown value (a null value = the metric's null group)."""
    bad = [k for k in group if k not in GROUP_KEYS]
    if bad:
        raise MetricInputError(f"deals.list: unknown group key {', '.join(bad)}; expected {', '.join(GROUP_KEYS)}")
    for key, value in group.items():
        if key == "manager":
            value = _manager_id(snap, value)
        col = pl.col(key)
        if key == "bucket":
            items = items.with_columns(
                bucket_expr("counted_at", filters.grain, snap.timezone, (filters.date_from, filters.date_to))
            )
            value = date.fromisoformat(value) if isinstance(value, str) else value
        items = items.filter(col.is_null() if value is None else col == value)
    return items


def _details(snap: Snapshot, items: pl.DataFrame) -> pl.DataFrame:
    """The listed deals' current stage, creation, last stage entry, manager name and URL."""
    ids = items["deal_id"].unique()
    info = snap.scan("deals").select("deal_id", "stage", "created_at").filter(pl.col("deal_id").is_in(ids.implode()))
    since = (
        snap.scan("entries")
        .select("deal_id", "at", "is_stage_entry")
        .filter(pl.col("is_stage_entry") & pl.col("deal_id").is_in(ids.implode()))
        .group_by("deal_id")
        .agg(pl.col("at").max().alias("stage_entered_at"))
    )
    info = info.join(since, on="deal_id", how="left").collect()
    out = items.join(info, on="deal_id", how="left").join(manager_names(snap), on="manager", how="left")
    days = (pl.lit(snap.data_as_of) - pl.col("stage_entered_at")).dt.total_days()
    return out.with_columns(
        url=deal_url(snap, pl.col("deal_id")),
        manager=pl.coalesce("_name", pl.when(pl.col("manager").is_not_null()).then(pl.format("id {}", "manager"))),
        days_in_stage=days,
    ).select(COLUMNS)


def deal_page(
    snap: Snapshot,
    filters: Filters,
    metric_id: str,
    *,
    column: str | None = None,
    stage: str | None = None,
    status: str | None = None,
    group: Mapping[str, object] | None = None,
    limit: int | None = None,
) -> tuple[pl.DataFrame, int]:
    """(the first ``limit`` deals behind the number, how many there are in all)."""
    drill = DRILLS.get(metric_id)
    if drill is None:
        raise MetricInputError(f"deals.list: {metric_id} counts no deals; drillable: {', '.join(DRILLS)}")
    column = column or drill.columns[0]
    if column not in drill.columns:
        raise MetricInputError(f"deals.list: {metric_id} has no count {column!r}; expected {', '.join(drill.columns)}")
    if drill.needs_stage and stage is None:
        raise MetricInputError(f"deals.list: {metric_id} needs a stage")
    items = drill.select(snap, filters, column, stage, status)
    items = _group_filter(snap, filters, items, group or {}).sort("counted_at", "deal_id").collect()
    total = items.height
    if limit is not None:
        items = items.head(limit)
    return _details(snap, items), total


def deal_list(snap: Snapshot, filters: Filters, metric_id: str, **choices: Any) -> pl.DataFrame:
    """Every deal behind the number: :func:`deal_page`'s ``column``, ``stage``, ``status`` and
    ``group``, without a cap."""
    return deal_page(snap, filters, metric_id, **choices)[0]
