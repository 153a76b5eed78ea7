"""The snapshot manifest's data-quality counters, from the whole raw export and the built tables.

One function for both builds (full and incremental, :mod:`etl.transform.splice`): every counter is
read off the final tables or counted over the raw frames, so a spliced snapshot cannot carry a
counter left over from the previous one.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from etl.config import Config
from etl.extract.rawio import bool_col, int_col
from etl.transform.activity import tasks_on_unknown_deals
from etl.transform.deals import deal_quality
from etl.transform.raw import RawFrames, columns


def first_events(events: pl.DataFrame) -> pl.DataFrame:
    """Events without repeats: a pull that re-reads a window appends the same events again
    (DATA.md §1); the first copy is kept, in file order."""
    return events.filter(pl.col("id").is_first_distinct())


def _repeats(df: pl.DataFrame) -> int:
    return df.height - df["id"].n_unique() if df.height else 0


def quality_counters(raw: RawFrames, tables: dict[str, pl.DataFrame], config: Config) -> dict[str, Any]:
    """The counters of ``manifest.quality``, from ``raw`` as read (repeats included; its frames
    may be lazy scans, of which only the columns counted here are read)."""
    deals, touches = tables["deals"], tables["touches"]
    events = columns(raw.events, "id", "entity_type", "entity_id")
    first = events.get_column("id").is_first_distinct()
    lead_events = events.filter(first & (pl.col("entity_type") == "lead"))
    events_unknown = lead_events.select(deal_id=int_col("entity_id")).join(
        deals.select("deal_id"), on="deal_id", how="anti"
    )
    normal_leads = columns(raw.leads, "id", "is_deleted").filter(~bool_col("is_deleted"))
    event_repeats = events.height - int(first.sum())
    notes = _repeats(columns(raw.lead_notes, "id")) + _repeats(columns(raw.contact_notes, "id"))
    repeats = _repeats(normal_leads) + event_repeats + notes
    return {
        **deal_quality(deals, tables["statuses"], config),
        "events_unknown_deals": events_unknown.height,
        "tasks_unknown_deals": tasks_on_unknown_deals(raw, deals),
        "duplicate_records_dropped": repeats,
        "unattributed_touches": int(touches["deal_id"].null_count()),
        "notes_unknown_deals": touches.filter((pl.col("source") == "lead") & pl.col("deal_id").is_null()).height,
        "wrong_types": [
            {"collection": collection, "field": name, "records": n}
            for collection, fields in raw.wrong_types.items()
            for name, n in fields.items()
        ],
    }
