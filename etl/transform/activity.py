"""Touches and tasks (the activity on deals), users and cities: pure transforms of the raw frames.

Part of :func:`etl.transform.build.transform`; each function is raw frames and the deals table
in, a snapshot table (docs/data-model.md) out.
"""

from __future__ import annotations

import polars as pl

from etl.config import Config
from etl.extract.rawio import TOUCH_KINDS, bool_col, int_col, ts_col
from etl.snapshot.schema import CITIES, TASKS, USERS
from etl.transform.deals import json_int
from etl.transform.raw import RawFrames, columns, latest_by_id


def contact_deals(contacts: pl.DataFrame) -> pl.DataFrame:
    """(contact_id, deal_id) for every lead a contact record lists (every version of the record)."""
    return (
        contacts.select(contact_id=int_col("id"), l=pl.col("_embedded").struct.field("leads"))
        .explode("l")
        .drop_nulls("l")
        .select(
            "contact_id",
            deal_id=pl.col("l").struct.field("id").cast(pl.Float64, strict=False).cast(pl.Int64, strict=False),
        )
    )


#: The tasks table's row order (task ids are unique).
TASK_ORDER = ["created_at", "task_id"]
#: The touches table's row order: by time, then note id; a lead note and a contact note may share
#: an id (two endpoints), so the source settles the tie and the order is the same in every build.
TOUCH_ORDER = ["at", "touch_id", "source"]


def touches_table(
    raw: RawFrames, deals: pl.DataFrame, links: pl.DataFrame, grace_minutes: int
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Calls and SMS from both note endpoints, attributed to deals (METRICS.md, *Touch*)."""
    parts = []
    dropped = 0
    for source, frame in (("lead", raw.lead_notes), ("contact", raw.contact_notes)):
        notes, d = latest_by_id(frame.filter(pl.col("note_type").is_in(TOUCH_KINDS)))
        dropped += d
        parts.append(
            notes.select(
                touch_id=int_col("id"),
                source=pl.lit(source),
                entity_id=int_col("entity_id"),
                kind=pl.col("note_type"),
                at=ts_col("created_at"),
                duration_s=json_int("params", "duration").fill_null(0).clip(lower_bound=0),
                user_id=pl.coalesce(int_col("responsible_user_id"), int_col("created_by")),
            )
        )
    notes = pl.concat(parts).with_columns(
        duration_s=pl.when(pl.col("kind").str.starts_with("call")).then(pl.col("duration_s")).otherwise(0)
    )
    notes = notes.with_columns(answered=pl.col("kind").str.starts_with("call") & (pl.col("duration_s") > 0))

    known = deals.select("deal_id")
    lead_part = notes.filter(pl.col("source") == "lead")
    unknown_lead_notes = lead_part.join(known, left_on="entity_id", right_on="deal_id", how="anti").height
    lead_part = lead_part.with_columns(
        deal_id=pl.when(pl.col("entity_id").is_in(known["deal_id"].implode())).then(pl.col("entity_id")),
        contact_id=pl.lit(None, dtype=pl.Int64),
    )

    contact_part = notes.filter(pl.col("source") == "contact").rename({"entity_id": "contact_id"})
    extra = contact_deals(raw.contacts)
    grace = pl.duration(minutes=grace_minutes)
    candidates = (
        pl.concat([links.select("deal_id", "contact_id"), extra.select("deal_id", "contact_id").drop_nulls()])
        .unique()
        .join(deals.filter(~pl.col("is_deleted")).select("deal_id", "created_at", "closed_at"), on="deal_id")
    )
    matched = (
        contact_part.select("touch_id", "contact_id", "at")
        .join(candidates, on="contact_id")
        .filter(
            (pl.col("at") >= pl.col("created_at") - grace)
            & (pl.col("closed_at").is_null() | (pl.col("at") <= pl.col("closed_at") + grace))
        )
        .sort(["touch_id", "created_at", "deal_id"])
        .unique("touch_id", keep="last", maintain_order=True)
        .select("touch_id", "deal_id")
    )
    contact_part = contact_part.join(matched, on="touch_id", how="left")
    cols = ["touch_id", "source", "deal_id", "contact_id", "kind", "at", "duration_s", "answered", "user_id"]
    touches = pl.concat([lead_part.select(cols), contact_part.select(cols)])
    touches = touches.join(
        deals.select("deal_id", "city", "channel", "is_deleted", deal_user_id="user_id", deal_created_at="created_at"),
        on="deal_id",
        how="left",
    ).sort(TOUCH_ORDER)
    quality = {
        "unattributed_touches": int(touches["deal_id"].null_count()),
        "notes_unknown_deals": unknown_lead_notes,
        "duplicate_notes_dropped": dropped,
    }
    return touches, quality


def task_rows(raw: RawFrames) -> pl.DataFrame:
    """The newest version of each task that no ``task_deleted`` event removed, with its completion
    time (the ``task_completed`` event's, else the record's ``updated_at``); not yet on deals."""
    tasks, _ = latest_by_id(raw.tasks)
    ev = raw.events.filter(pl.col("entity_type") == "task")
    completed_ev = (
        ev.filter(pl.col("type") == "task_completed")
        .group_by(task_id=int_col("entity_id"))
        .agg(ev_completed_at=ts_col("created_at").max())
    )
    deleted_ev = ev.filter(pl.col("type") == "task_deleted").select(task_id=int_col("entity_id")).unique()
    t = tasks.select(
        task_id=int_col("id"),
        entity_id=int_col("entity_id"),
        on_lead=pl.col("entity_type").is_in(["leads", "lead"]),
        user_id=int_col("responsible_user_id"),
        task_type_id=int_col("task_type_id"),
        created_at=ts_col("created_at"),
        updated_at=ts_col("updated_at"),
        deadline=ts_col("complete_till"),
        is_completed=bool_col("is_completed"),
    ).join(deleted_ev, on="task_id", how="anti")
    return t.join(completed_ev, on="task_id", how="left").with_columns(
        completed_at=pl.when(pl.col("is_completed")).then(pl.coalesce("ev_completed_at", "updated_at"))
    )


def tasks_on_unknown_deals(raw: RawFrames, deals: pl.DataFrame) -> int:
    """Tasks (the newest version of each, not deleted) on a lead that is not among ``deals``: the
    same tasks :func:`task_rows` gives, from the four columns that decide it."""
    latest, _ = latest_by_id(columns(raw.tasks, "id", "entity_id", "entity_type", "updated_at"))
    events = columns(raw.events, "entity_type", "type", "entity_id")
    deleted = events.filter((pl.col("entity_type") == "task") & (pl.col("type") == "task_deleted"))
    on_leads = latest.filter(pl.col("entity_type").is_in(["leads", "lead"]))
    return (
        on_leads.select(task_id=int_col("id"), deal_id=int_col("entity_id"))
        .join(deleted.select(task_id=int_col("entity_id")), on="task_id", how="anti")
        .join(deals.select("deal_id"), on="deal_id", how="anti")
        .height
    )


def tasks_table(raw: RawFrames, deals: pl.DataFrame) -> pl.DataFrame:
    """The tasks table (TASKS.built, by creation)."""
    t = task_rows(raw)
    known = deals.select("deal_id")
    t = t.with_columns(
        deal_id=pl.when(pl.col("on_lead") & pl.col("entity_id").is_in(known["deal_id"].implode())).then(
            pl.col("entity_id")
        )
    )
    t = t.join(
        deals.select("deal_id", "city", "channel", "is_deleted", deal_user_id="user_id"), on="deal_id", how="left"
    ).select(TASKS.built)
    return t.sort(TASK_ORDER)


def users_table(raw: RawFrames, deals: pl.DataFrame, config: Config) -> pl.DataFrame:
    users, _ = latest_by_id(raw.users, "id")
    users = users.select(user_id=int_col("id"), name=pl.col("name").fill_null(""), rights=pl.col("rights"))
    # Users that appear on deals but not in users.jsonl (users may be admin-only: 403).
    extra = (
        deals.select(user_id="user_id").drop_nulls().unique().join(users.select("user_id"), on="user_id", how="anti")
    )
    users = pl.concat(
        [users, extra.with_columns(name=pl.format("#{}", "user_id"), rights=pl.lit(None, dtype=pl.String))]
    )
    top_city = (
        deals.filter(~pl.col("is_deleted") & pl.col("city").is_not_null())
        .group_by("user_id", "city")
        .agg(n=pl.len())
        .sort(["user_id", "n", "city"], descending=[False, True, False])
        .unique("user_id", keep="first", maintain_order=True)
        .select("user_id", top_city="city")
    )
    users = users.join(top_city, on="user_id", how="left")
    rows = []
    for u in users.iter_rows(named=True):
        city = config.user_city(u["user_id"], u["name"]) or u["top_city"]
        active = u["rights"] is None or '"is_active":false' not in u["rights"].replace(" ", "")
        rows.append(
            {"user_id": u["user_id"], "name": u["name"], "city": city, "tz": config.city_tz(city), "is_active": active}
        )
    return pl.DataFrame(rows, schema=USERS.schema).sort("user_id")


def cities_table(deals: pl.DataFrame, config: Config) -> pl.DataFrame:
    configured = [{"city": c, "tz": tz, "in_config": True} for c, tz in config.cities.items()]
    others = sorted(set(deals["city"].drop_nulls().unique().to_list()) - set(config.cities))
    extra = [{"city": c, "tz": config.timezone, "in_config": False} for c in others]
    return pl.DataFrame(configured + extra, schema=CITIES.schema)
