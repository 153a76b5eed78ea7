"""Raw export → parquet snapshot (``python -m etl build``).

The transform is a chain of pure polars functions (raw frames → snapshot tables, see
docs/data-model.md); reading happens in :mod:`etl.extract.rawio`, writing and the atomic publish in
:mod:`etl.snapshot.store`.  A build that fails at any point leaves ``CURRENT`` and every published
snapshot untouched.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from etl.config import (
    FUNNEL_STAGES,
    STAGE_POSITION,
    Config,
    ConfigError,
    data_dir,
    load_config,
    normalize_name,
)
from etl.extract import rawio
from etl.extract.rawio import TOUCH_KINDS, RawExportError, bool_col, int_col, ts_col
from etl.snapshot.store import SCHEMA_VERSION, TABLES, publish, write_tables
from etl.transform.facts import add_derived

Progress = Callable[[str], None]
TS = pl.Datetime("us", "UTC")


class BuildError(RuntimeError):
    """The build could not produce a snapshot; the message says what was wrong and where."""


@dataclass
class RawFrames:
    """The raw export as read: one frame per collection, plus the two metadata objects."""

    users: pl.DataFrame
    pipelines: pl.DataFrame
    lead_fields: pl.DataFrame
    leads: pl.DataFrame
    contacts: pl.DataFrame
    events: pl.DataFrame
    lead_notes: pl.DataFrame
    contact_notes: pl.DataFrame
    tasks: pl.DataFrame
    account: dict[str, Any]
    export: dict[str, Any]


def read_raw(raw_dir: Path, progress: Progress | None = None) -> RawFrames:
    rawio.check_files(raw_dir)
    frames: dict[str, pl.DataFrame] = {}
    for name, schema in rawio.SCHEMAS.items():
        if progress:
            progress(f"чтение {name}")
        frames[name.removesuffix(".jsonl")] = rawio.read_jsonl(raw_dir / name, schema, rawio.KEEP.get(name))
    return RawFrames(
        **frames,
        account=rawio.read_json_object(raw_dir / "account.json"),
        export=rawio.read_json_object(raw_dir / "export.json"),
    )


# ---------------------------------------------------------------------------------------------
# Pure transforms
# ---------------------------------------------------------------------------------------------


def latest_by_id(df: pl.DataFrame, order_col: str = "updated_at") -> tuple[pl.DataFrame, int]:
    """Keep, per id, the record with the greatest ``order_col`` (later lines win ties).

    Decides on (id, order, row) alone and then gathers the winning rows, so that wide nested
    records are moved once; a collection without repeats (a fresh full pull) is returned as is.
    """
    if df.height == 0 or df["id"].n_unique() == df.height:
        return df, 0
    winners = (
        df.select("id", _ord=int_col(order_col).fill_null(-1))
        .with_row_index("_row")
        .sort(["_ord", "_row"])
        .unique(subset="id", keep="last")
        .get_column("_row")
        .sort()
    )
    return df[winners], df.height - winners.len()


def statuses_table(raw: RawFrames, config: Config) -> pl.DataFrame:
    pipes, _ = latest_by_id(raw.pipelines, "sort")
    rows = []
    for p in pipes.iter_rows(named=True):
        pid, pname = int(p["id"]), p["name"] or ""
        channel = config.channel_of(pid, pname)
        for st in (p["_embedded"] or {}).get("statuses") or []:
            sid = int(float(st["id"]))
            stage = config.stage_of(sid, st["name"])
            rows.append(
                {
                    "pipeline_id": pid,
                    "pipeline": pname,
                    "status_id": sid,
                    "status": st["name"] or "",
                    "sort": int(float(st["sort"] or 0)),
                    "stage": stage,
                    "position": STAGE_POSITION[stage],
                    "channel": channel,
                    "mapped": stage != "other",
                }
            )
    return (
        pl.DataFrame(rows, schema=_STATUS_SCHEMA)
        .unique(["pipeline_id", "status_id"], keep="first")
        .sort(["pipeline_id", "sort", "status_id"])
    )


_STATUS_SCHEMA = {
    "pipeline_id": pl.Int64,
    "pipeline": pl.String,
    "status_id": pl.Int64,
    "status": pl.String,
    "sort": pl.Int64,
    "stage": pl.String,
    "position": pl.Int8,
    "channel": pl.String,
    "mapped": pl.Boolean,
}


def add_unknown_statuses(statuses: pl.DataFrame, used: pl.DataFrame, config: Config) -> pl.DataFrame:
    """Statuses referenced by deals or events but absent from pipelines.jsonl (deleted statuses)."""
    missing = used.unique().join(
        statuses.select("pipeline_id", "status_id"), on=["pipeline_id", "status_id"], how="anti"
    )
    if missing.height == 0:
        return statuses
    rows = []
    for pid, sid in missing.iter_rows():
        stage = config.stage_of(sid, None)
        rows.append(
            {
                "pipeline_id": pid,
                "pipeline": f"#{pid}",
                "status_id": sid,
                "status": f"#{sid}",
                "sort": 1_000_000,
                "stage": stage,
                "position": STAGE_POSITION[stage],
                "channel": config.channel_of(pid, None),
                "mapped": stage != "other",
            }
        )
    return pl.concat([statuses, pl.DataFrame(rows, schema=_STATUS_SCHEMA)])


def _field_id(lead_fields: pl.DataFrame, name: str) -> int | None:
    if not name:
        return None
    wanted = normalize_name(name)
    for fid, fname in lead_fields.select("id", "name").iter_rows():
        if fname is not None and normalize_name(fname) == wanted:
            return int(float(fid))
    return None


def _custom_field_value(leads: pl.DataFrame, lead_fields: pl.DataFrame, name: str) -> pl.DataFrame:
    """id → the first value of the named select field (enum value by enum_id where possible)."""
    if not name:
        return pl.DataFrame(schema={"id": pl.Int64, "value": pl.String})
    fid = _field_id(lead_fields, name)
    wanted = normalize_name(name)
    cf = (
        leads.select(pl.col("id").cast(pl.Int64), "custom_fields_values")
        .explode("custom_fields_values")
        .unnest("custom_fields_values")
        .filter(
            ((int_col("field_id") == fid) if fid is not None else pl.lit(False))
            | (pl.col("field_name").str.strip_chars().str.to_lowercase().str.replace_all("ё", "е") == wanted)
        )
        .with_columns(first=pl.col("values").list.first())
        .unnest("first")
        .select("id", "value", enum_id=int_col("enum_id"))
        .unique("id", keep="first")
    )
    enums = (
        lead_fields.filter(int_col("id") == fid)
        .select("enums")
        .explode("enums")
        .unnest("enums")
        .select(enum_id=int_col("id"), enum_value=pl.col("value"))
        .drop_nulls("enum_id")
        if fid is not None and "enums" in lead_fields.columns and lead_fields.height
        else pl.DataFrame(schema={"enum_id": pl.Int64, "enum_value": pl.String})
    )
    return (
        cf.join(enums, on="enum_id", how="left")
        .select("id", value=pl.coalesce("enum_value", "value").str.strip_chars())
        .with_columns(pl.when(pl.col("value") == "").then(None).otherwise(pl.col("value")).alias("value"))
    )


def deals_base(raw: RawFrames, config: Config) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """One row per lead id: current fields from the newest normal record, the deleted flag.

    Also returns the contact links of those newest records (deal_id, contact_id, is_main).
    """
    leads = raw.leads
    flagged = leads.with_columns(bool_col("is_deleted"), _upd=int_col("updated_at"))
    normal, dropped = latest_by_id(flagged.filter(~pl.col("is_deleted")).drop("_upd"))
    # Deleted: the newest deleted record is not older than the newest normal one (a trashed record
    # often has updated_at null), unless a later lead_restored/lead_deleted event says otherwise.
    newest_deleted = (
        flagged.filter(pl.col("is_deleted")).group_by("id").agg(del_upd=pl.col("_upd").fill_null(2**62).max())
    )
    newest_normal = (
        flagged.filter(~pl.col("is_deleted")).group_by("id").agg(norm_upd=pl.col("_upd").fill_null(-1).max())
    )
    by_records = newest_deleted.join(newest_normal, on="id", how="full", coalesce=True).select(
        pl.col("id").cast(pl.Int64),
        rec_deleted=pl.col("del_upd").is_not_null() & (pl.col("del_upd") >= pl.col("norm_upd").fill_null(-1)),
    )
    ev = raw.events.filter(pl.col("type").is_in(["lead_deleted", "lead_restored"]) & (pl.col("entity_type") == "lead"))
    by_events = (
        ev.select(id=int_col("entity_id"), at=int_col("created_at"), deleted=pl.col("type") == "lead_deleted")
        .sort("at")
        .group_by("id")
        .agg(ev_deleted=pl.col("deleted").last())
    )
    deleted = by_records.join(by_events, on="id", how="full", coalesce=True).select(
        "id", is_deleted=pl.coalesce("ev_deleted", "rec_deleted").fill_null(False)
    )

    city = _custom_field_value(normal, raw.lead_fields, config.city_field).rename({"value": "city_raw"})
    package = _custom_field_value(normal, raw.lead_fields, config.package_field).rename({"value": "package"})
    links = contact_links(normal)
    main_contact = (
        links.sort(["deal_id", "is_main"], descending=[False, True])
        .unique("deal_id", keep="first", maintain_order=True)
        .select("deal_id", "contact_id")
    )

    base = normal.select(
        deal_id=int_col("id"),
        pipeline_id=int_col("pipeline_id"),
        status_id=int_col("status_id"),
        user_id=int_col("responsible_user_id"),
        creator_id=int_col("created_by"),
        price=pl.col("price").cast(pl.Float64, strict=False).fill_null(0.0),
        created_at=ts_col("created_at"),
        updated_at=ts_col("updated_at"),
        closed_at=ts_col("closed_at"),
    )
    all_ids = flagged.select(deal_id=int_col("id")).unique()
    base = all_ids.join(base, on="deal_id", how="left")
    base = (
        base.join(deleted.rename({"id": "deal_id"}), on="deal_id", how="left")
        .join(city.rename({"id": "deal_id"}), on="deal_id", how="left")
        .join(package.rename({"id": "deal_id"}), on="deal_id", how="left")
        .join(main_contact, on="deal_id", how="left")
        .with_columns(pl.col("is_deleted").fill_null(False))
    )
    # A lead known only from the trash (no normal record) is deleted whatever the events say.
    base = base.with_columns(is_deleted=pl.col("is_deleted") | pl.col("created_at").is_null())
    city_key = config.city_key()
    spelled = {v: city_key.get(normalize_name(v), v.strip()) for v in base["city_raw"].drop_nulls().unique().to_list()}
    base = base.with_columns(
        city=pl.col("city_raw").replace_strict(spelled, default=None, return_dtype=pl.String)
    ).drop("city_raw")
    return base, links, dropped


def contact_links(leads: pl.DataFrame) -> pl.DataFrame:
    """(deal_id, contact_id, is_main) for every contact linked to a lead."""
    return (
        leads.select(deal_id=int_col("id"), c=pl.col("_embedded").struct.field("contacts"))
        .explode("c")
        .drop_nulls("c")
        .select(
            "deal_id",
            contact_id=pl.col("c").struct.field("id").cast(pl.Float64, strict=False).cast(pl.Int64, strict=False),
            is_main=pl.col("c").struct.field("is_main").str.to_lowercase().is_in(["true", "1"]).fill_null(False),
        )
        .drop_nulls("contact_id")
        .unique(["deal_id", "contact_id"], keep="first")
    )


def status_changes(events: pl.DataFrame) -> pl.DataFrame:
    """lead_status_changed events as rows: deal, time, before/after (pipeline, status), user."""
    sc = events.filter((pl.col("type") == "lead_status_changed") & (pl.col("entity_type") == "lead"))
    return sc.with_row_index("_row").select(
        "_row",
        deal_id=int_col("entity_id"),
        at=ts_col("created_at"),
        user_id=int_col("created_by"),
        before_pipeline=_json_int("value_before", "pipeline_id"),
        before_status=_json_int("value_before", "id"),
        after_pipeline=_json_int("value_after", "pipeline_id"),
        after_status=_json_int("value_after", "id"),
    )


def _json_int(col: str, key: str) -> pl.Expr:
    """The integer under ``"key":`` in a small JSON text (number or numeric string).

    A regular expression, not a JSON parser: several times faster over millions of events, and
    exact for amoCRM's value arrays, where each key occurs once (``"id"`` cannot match inside
    ``"pipeline_id"``: the quote must come right before it).
    """
    return pl.col(col).str.extract(rf'"{key}"\s*:\s*"?(-?\d+)', 1).cast(pl.Int64, strict=False)


def entries_table(deals: pl.DataFrame, changes: pl.DataFrame, statuses: pl.DataFrame) -> pl.DataFrame:
    """One row per entry into a status, the creation included (METRICS.md, *Entry*)."""
    live = deals.filter(pl.col("created_at").is_not_null())
    changes = changes.join(live.select("deal_id"), on="deal_id", how="semi").sort(["deal_id", "at", "_row"])
    first = changes.unique("deal_id", keep="first", maintain_order=True).select(
        "deal_id", "before_pipeline", "before_status"
    )
    creation = live.join(first, on="deal_id", how="left").select(
        "deal_id",
        at=pl.col("created_at"),
        pipeline_id=pl.coalesce("before_pipeline", "pipeline_id"),
        status_id=pl.coalesce("before_status", "status_id"),
        user_id=pl.col("creator_id"),
        _order=pl.lit(-1, dtype=pl.Int64),
    )
    moves = changes.select(
        "deal_id",
        "at",
        pipeline_id=pl.coalesce("after_pipeline", "before_pipeline"),
        status_id="after_status",
        user_id="user_id",
        _order=pl.col("_row").cast(pl.Int64),
    ).drop_nulls("status_id")
    entries = (
        pl.concat([creation, moves])
        .sort(["deal_id", "_order"])  # creation first, then events in (time, file) order
        .join(
            statuses.select("pipeline_id", "status_id", "stage", "position"),
            on=["pipeline_id", "status_id"],
            how="left",
        )
        .with_columns(pl.col("stage").fill_null("other"))
        .with_columns(
            seq=pl.int_range(pl.len(), dtype=pl.Int32).over("deal_id"),
            from_stage=pl.col("stage").shift(1).over("deal_id"),
        )
        .with_columns(is_stage_entry=pl.col("from_stage").is_null() | (pl.col("stage") != pl.col("from_stage")))
        .drop("_order")
    )
    return entries


def reach_columns(deals: pl.DataFrame, entries: pl.DataFrame) -> pl.DataFrame:
    """first_reach per funnel stage, first won/lost entry, entry count (METRICS.md)."""
    aggs = [
        pl.col("at").filter(pl.col("position") >= STAGE_POSITION[s]).min().alias(f"reach_{s}")
        for s in FUNNEL_STAGES[1:]
    ]
    aggs += [
        pl.col("at").filter(pl.col("stage") == "won").min().alias("first_won_at"),
        pl.col("at").filter(pl.col("stage") == "lost").min().alias("first_lost_at"),
        pl.len().cast(pl.Int32).alias("n_entries"),
    ]
    per_deal = entries.group_by("deal_id").agg(aggs)
    out = deals.join(per_deal, on="deal_id", how="left").with_columns(
        reach_lead=pl.col("created_at"), n_entries=pl.col("n_entries").fill_null(0)
    )
    # Monotone by construction (min over a shrinking set), but a clock-skewed event before creation
    # must not make a later stage precede the lead itself.
    return out.with_columns(
        [
            pl.when(pl.col(f"reach_{s}").is_not_null())
            .then(pl.max_horizontal(f"reach_{s}", "created_at"))
            .alias(f"reach_{s}")
            for s in FUNNEL_STAGES[1:]
        ]
    )


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
                duration_s=_json_int("params", "duration").fill_null(0).clip(lower_bound=0),
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
    extra = (
        raw.contacts.select(contact_id=int_col("id"), l=pl.col("_embedded").struct.field("leads"))
        .explode("l")
        .drop_nulls("l")
        .select(
            "contact_id",
            deal_id=pl.col("l").struct.field("id").cast(pl.Float64, strict=False).cast(pl.Int64, strict=False),
        )
    )
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
    ).sort(["at", "touch_id"])
    quality = {
        "unattributed_touches": int(touches["deal_id"].null_count()),
        "notes_unknown_deals": unknown_lead_notes,
        "duplicate_notes_dropped": dropped,
    }
    return touches, quality


def tasks_table(raw: RawFrames, deals: pl.DataFrame) -> tuple[pl.DataFrame, int]:
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
    t = t.join(completed_ev, on="task_id", how="left").with_columns(
        completed_at=pl.when(pl.col("is_completed")).then(pl.coalesce("ev_completed_at", "updated_at"))
    )
    known = deals.select("deal_id")
    unknown = t.filter(pl.col("on_lead")).join(known, left_on="entity_id", right_on="deal_id", how="anti").height
    t = t.with_columns(
        deal_id=pl.when(pl.col("on_lead") & pl.col("entity_id").is_in(known["deal_id"].implode())).then(
            pl.col("entity_id")
        )
    )
    t = t.join(
        deals.select("deal_id", "city", "channel", "is_deleted", deal_user_id="user_id"), on="deal_id", how="left"
    ).select(
        "task_id",
        "deal_id",
        "user_id",
        "task_type_id",
        "created_at",
        "deadline",
        "is_completed",
        "completed_at",
        "city",
        "channel",
        "is_deleted",
        "deal_user_id",
    )
    return t.sort(["created_at", "task_id"]), unknown


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
    schema = {"user_id": pl.Int64, "name": pl.String, "city": pl.String, "tz": pl.String, "is_active": pl.Boolean}
    return pl.DataFrame(rows, schema=schema).sort("user_id")


def cities_table(deals: pl.DataFrame, config: Config) -> pl.DataFrame:
    configured = [{"city": c, "tz": tz, "in_config": True} for c, tz in config.cities.items()]
    others = sorted(set(deals["city"].drop_nulls().unique().to_list()) - set(config.cities))
    extra = [{"city": c, "tz": config.timezone, "in_config": False} for c in others]
    return pl.DataFrame(configured + extra, schema={"city": pl.String, "tz": pl.String, "in_config": pl.Boolean})


def transform(
    raw: RawFrames, config: Config, progress: Progress | None = None
) -> tuple[dict[str, pl.DataFrame], dict[str, Any]]:
    """Raw frames → snapshot tables and data-quality counters.  Pure: no I/O."""

    def say(msg: str) -> None:
        if progress:
            progress(msg)

    if raw.leads.height == 0:
        raise BuildError("leads.jsonl holds no deals: the export is empty, nothing to report")
    # Events never change: a pull that re-reads a window appends the same ones again (DATA.md §1).
    events = raw.events.unique("id", keep="first", maintain_order=True)
    dup_events = raw.events.height - events.height
    raw = replace(raw, events=events)
    say("сделки")
    statuses = statuses_table(raw, config)
    deals, links, dup_leads = deals_base(raw, config)
    changes = status_changes(raw.events)
    known_ids = deals.select("deal_id")
    lead_events = raw.events.filter(pl.col("entity_type") == "lead").select(deal_id=int_col("entity_id"))
    events_unknown = lead_events.join(known_ids, on="deal_id", how="anti").height
    used = pl.concat(
        [
            deals.select("pipeline_id", "status_id").drop_nulls(),
            changes.select(pipeline_id="before_pipeline", status_id="before_status").drop_nulls(),
            changes.select(
                pipeline_id=pl.coalesce("after_pipeline", "before_pipeline"), status_id="after_status"
            ).drop_nulls(),
        ]
    )
    statuses = add_unknown_statuses(statuses, used, config)
    deals = deals.join(
        statuses.select("pipeline_id", "status_id", "stage", "channel"), on=["pipeline_id", "status_id"], how="left"
    ).with_columns(
        stage=pl.col("stage").fill_null("other"),
        # A pipeline missing from pipelines.jsonl can still be named by id in config.
        channel=pl.coalesce(
            "channel",
            pl.when(pl.col("pipeline_id").is_in(list(config.contact_center.ids))).then(pl.lit("contact_center")),
        ).fill_null("office"),
    )
    say("история статусов")
    entries = entries_table(deals, changes, statuses)
    deals = reach_columns(deals, entries)
    deal_cols = deals.select("deal_id", "city", "channel", "is_deleted", deal_user_id="user_id")
    entries = (
        entries.join(deal_cols, on="deal_id", how="left")
        .select(
            "deal_id",
            "seq",
            "at",
            "pipeline_id",
            "status_id",
            "stage",
            "position",
            "from_stage",
            "is_stage_entry",
            "user_id",
            "city",
            "channel",
            "is_deleted",
            "deal_user_id",
        )
        .sort(["at", "deal_id", "seq"])
    )
    say("звонки и SMS")
    touches, touch_quality = touches_table(raw, deals, links, config.attribution_grace_minutes)
    say("задачи")
    tasks, tasks_unknown = tasks_table(raw, deals)
    users = users_table(raw, deals, config)
    cities = cities_table(deals, config)
    deals = deals.select(
        "deal_id",
        "pipeline_id",
        "status_id",
        "stage",
        "channel",
        "city",
        "user_id",
        "price",
        "package",
        "contact_id",
        "created_at",
        "closed_at",
        "is_deleted",
        *[f"reach_{s}" for s in FUNNEL_STAGES],
        "first_won_at",
        "first_lost_at",
        "n_entries",
    ).sort(["created_at", "deal_id"], nulls_last=True)

    live = deals.filter(~pl.col("is_deleted"))
    unmapped = (
        statuses.filter(~pl.col("mapped"))
        .join(
            live.group_by("pipeline_id", "status_id").agg(deals=pl.len()), on=["pipeline_id", "status_id"], how="left"
        )
        .select("pipeline", "status", "status_id", pl.col("deals").fill_null(0))
    )
    quality = {
        "deals_without_city": int(live["city"].null_count()),
        "deals_city_not_in_config": int(
            live.filter(pl.col("city").is_not_null() & ~pl.col("city").is_in(list(config.cities))).height
        ),
        "deleted_deals": int(deals["is_deleted"].sum()),
        "unmapped_statuses": unmapped.to_dicts(),
        "events_unknown_deals": events_unknown,
        "tasks_unknown_deals": tasks_unknown,
        "duplicate_records_dropped": dup_leads + dup_events + touch_quality.pop("duplicate_notes_dropped"),
        **touch_quality,
    }
    tables = {
        "deals": deals,
        "entries": entries,
        "touches": touches,
        "tasks": tasks,
        "users": users,
        "statuses": statuses,
        "cities": cities,
    }
    say("производные столбцы")
    # Facts several metrics need (next entry, previous touch, touch counts, local days), computed
    # once here so that a filter change is a scan, not a group-by over the whole history.
    return add_derived(tables, config.timezone), quality


# ---------------------------------------------------------------------------------------------
# I/O edge: build and publish
# ---------------------------------------------------------------------------------------------


def _data_as_of(raw: RawFrames, tables: dict[str, pl.DataFrame]) -> datetime:
    pulled = raw.export.get("pulled_at")
    if pulled:
        try:
            return datetime.fromisoformat(str(pulled).replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            pass
    candidates = [tables["entries"]["at"].max(), tables["touches"]["at"].max(), tables["deals"]["created_at"].max()]
    return max(c for c in candidates if c is not None)


def build_snapshot(raw_dir: Path, config: Config, data_dir: Path, progress: Progress | None = None) -> Path:
    """Read ``raw_dir``, build every table, publish atomically under ``data_dir``; return the folder.

    Raises :class:`BuildError` with a message naming the file/line or the problem; on any error
    nothing is published and the current snapshot stays.
    """
    raw_dir = Path(raw_dir)
    snapshots_dir = Path(data_dir) / config.snapshots_dir
    try:
        raw = read_raw(raw_dir, progress)
        tables, quality = transform(raw, config, progress)
    except (RawExportError, ConfigError) as exc:
        raise BuildError(str(exc)) from exc
    now = datetime.now(UTC)
    built_at = now.replace(microsecond=0)
    fingerprint = hashlib.sha256()
    fingerprint.update(config.sha256.encode())
    for name in sorted(rawio.FILES):
        p = raw_dir / name
        if p.is_file():
            st = p.stat()
            fingerprint.update(f"{name}:{st.st_size}:{st.st_mtime_ns}".encode())
    # Milliseconds keep ids of quick successive builds in time order (pruning sorts by id).
    snapshot_id = f"{now:%Y%m%dT%H%M%S}{now.microsecond // 1000:03d}Z-{fingerprint.hexdigest()[:8]}"
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "snapshot_id": snapshot_id,
        "built_at": built_at.isoformat().replace("+00:00", "Z"),
        "data_as_of": _data_as_of(raw, tables).isoformat().replace("+00:00", "Z"),
        "source": {
            "raw_dir": str(raw_dir.resolve()),
            "subdomain": raw.export.get("source") or raw.account.get("subdomain") or "",
            "pulled_at": raw.export.get("pulled_at"),
        },
        "timezone": config.timezone,
        "config_sha256": config.sha256,
        "row_counts": {name: tables[name].height for name in TABLES},
        "quality": quality,
    }
    snapshots_dir.mkdir(parents=True, exist_ok=True)
    staged = snapshots_dir / f".tmp-{snapshot_id}"
    try:
        if progress:
            progress("запись parquet")
        write_tables(staged, tables, manifest)
        return publish(snapshots_dir, staged, snapshot_id, config.snapshots_keep)
    except OSError as exc:
        raise BuildError(f"cannot write snapshot into {snapshots_dir}: {exc}") from exc
    finally:
        if staged.exists():
            shutil.rmtree(staged, ignore_errors=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m etl build", description="Build a parquet snapshot from a raw export."
    )
    parser.add_argument("--raw", required=True, help="raw export folder (DATA.md §1)")
    parser.add_argument("--config", default=None, help="config file (default: the repository's config.yaml)")
    parser.add_argument("--data-dir", default=None, help="data folder (default: $REPORT_DATA_DIR or ./data)")
    args = parser.parse_args(argv)
    started = time.monotonic()

    def progress(msg: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {msg}", file=sys.stderr, flush=True)

    try:
        config = load_config(args.config)
        folder = build_snapshot(Path(args.raw), config, data_dir(args.data_dir), progress)
    except (BuildError, ConfigError) as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    counts = ", ".join(f"{k} {v}" for k, v in manifest["row_counts"].items())
    print(f"published snapshot {manifest['snapshot_id']} ({counts}) in {time.monotonic() - started:.1f} s")
    return 0
