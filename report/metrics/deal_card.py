"""What the snapshot knows of one deal: the report's own deal card (``/deal/<id>``, issue 12).

:func:`deal_card` reads the snapshot directly, under no filters: the card describes the deal as
of the snapshot, whatever the period the list it was opened from was under. It returns three
small frames (see :data:`DEAL_COLUMNS`, :data:`ENTRY_COLUMNS`, :data:`ACTIVITY_COLUMNS`), or
None for an id the snapshot does not have. Only ids, staff names, statuses, times and counts:
the snapshot holds no customer names, phones or message texts.

Choices (the spec is silent):
- A deleted deal is shown, flagged (``is_deleted``): the drill lists do not list it, but an id
  typed in by hand still answers with what is known.
- ``manager`` is the responsible user's name (``id <n>`` when the users table lacks it);
  ``pipeline`` and ``status`` the names of the deal's current ones (``#<id>`` when unknown).
- ``entries`` is every status entry in order (``seq``), also a move within one stage (a new
  pipeline, a second status of the same stage): ``is_stage_entry`` says which ones began a stage.
- ``activity`` counts the calls and SMS attributed to the deal (its own notes and its contact's
  calls attributed by the build), ``answered_s`` sums the answered calls' seconds, ``tasks`` the
  tasks on the deal and ``tasks_open`` the ones not completed.
"""

from __future__ import annotations

import polars as pl

from etl.snapshot.store import Snapshot

DEAL_COLUMNS = (
    "deal_id",
    "city",
    "manager",
    "channel",
    "pipeline",
    "status",
    "stage",
    "created_at",
    "closed_at",
    "is_deleted",
    "price",
    "package",
)
ENTRY_COLUMNS = ("at", "pipeline", "status", "stage", "is_stage_entry")
TOUCH_KINDS = ("call_in", "call_out", "sms_in", "sms_out")
ACTIVITY_COLUMNS = (*TOUCH_KINDS, "answered_s", "tasks", "tasks_open")


def _named(snap: Snapshot, lf: pl.LazyFrame) -> pl.LazyFrame:
    """``pipeline`` and ``status`` names for ``pipeline_id`` and ``status_id``."""
    statuses = snap.scan("statuses").select("pipeline_id", "pipeline", "status_id", "status")
    return lf.join(statuses, on=["pipeline_id", "status_id"], how="left").with_columns(
        pipeline=pl.coalesce("pipeline", pl.format("#{}", "pipeline_id")),
        status=pl.coalesce("status", pl.format("#{}", "status_id")),
    )


def deal_card(snap: Snapshot, deal_id: int) -> dict[str, pl.DataFrame] | None:
    """``{"deal": 1 row, "entries": a row per status entry, "activity": 1 row}``; None when the
    snapshot has no deal ``deal_id``."""
    deal = snap.scan("deals").filter(pl.col("deal_id") == deal_id)
    users = snap.scan("users").select("user_id", pl.col("name").alias("_name"))
    deal = (
        _named(snap, deal)
        .join(users, on="user_id", how="left")
        .with_columns(manager=pl.coalesce("_name", pl.format("id {}", "user_id")))
        .select(DEAL_COLUMNS)
        .collect()
    )
    if deal.is_empty():
        return None
    entries = _named(snap, snap.scan("entries").filter(pl.col("deal_id") == deal_id)).sort("seq")
    touches = snap.scan("touches").filter(pl.col("deal_id") == deal_id)
    calls = pl.col("kind").str.starts_with("call")
    counts = touches.select(
        *[(pl.col("kind") == kind).sum().alias(kind) for kind in TOUCH_KINDS],
        pl.col("duration_s").filter(calls & pl.col("answered")).sum().alias("answered_s"),
    )
    tasks = (
        snap.scan("tasks")
        .filter(pl.col("deal_id") == deal_id)
        .select(pl.len().alias("tasks"), (~pl.col("is_completed")).sum().alias("tasks_open"))
    )
    activity = pl.concat([counts, tasks], how="horizontal").cast(pl.Int64).select(ACTIVITY_COLUMNS)
    return {
        "deal": deal,
        "entries": entries.select(ENTRY_COLUMNS).collect(),
        "activity": activity.collect(),
    }
