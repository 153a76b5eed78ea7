"""Statuses, deals and their status history (entries, first_reach): pure transforms of the raw frames.

Part of :func:`etl.transform.build.transform`; each function is raw frames or tables in, a
snapshot table (docs/data-model.md) out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

from etl.config import FUNNEL_STAGES, STAGE_POSITION, Config, normalize_name
from etl.extract.rawio import bool_col, int_col, ts_col
from etl.snapshot.schema import ENTRIES, STATUSES
from etl.transform.raw import RawFrames, latest_by_id

#: Row orders of the deals and entries tables (unique keys: the same order in every build).
DEAL_ORDER = ["created_at", "deal_id"]
ENTRY_ORDER = ["at", "deal_id", "seq"]


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
        pl.DataFrame(rows, schema=STATUSES.schema)
        .unique(["pipeline_id", "status_id"], keep="first")
        .sort(["pipeline_id", "sort", "status_id"])
    )


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
    return pl.concat([statuses, pl.DataFrame(rows, schema=STATUSES.schema)])


def statuses_in_use(deals: pl.DataFrame, changes: pl.DataFrame) -> pl.DataFrame:
    """(pipeline_id, status_id) of every status a deal is in or an event moves a deal from or to."""
    return pl.concat(
        [
            deals.select("pipeline_id", "status_id").drop_nulls(),
            changes.select(pipeline_id="before_pipeline", status_id="before_status").drop_nulls(),
            changes.select(
                pipeline_id=pl.coalesce("after_pipeline", "before_pipeline"), status_id="after_status"
            ).drop_nulls(),
        ]
    )


def with_stage_and_channel(deals: pl.DataFrame, statuses: pl.DataFrame, config: Config) -> pl.DataFrame:
    """Deals with the stage of their current status and the class of their current pipeline."""
    return deals.join(
        statuses.select("pipeline_id", "status_id", "stage", "channel"), on=["pipeline_id", "status_id"], how="left"
    ).with_columns(
        stage=pl.col("stage").fill_null("other"),
        # A pipeline missing from pipelines.jsonl can still be named by id in config.
        channel=pl.coalesce(
            "channel",
            pl.when(pl.col("pipeline_id").is_in(list(config.contact_center.ids))).then(pl.lit("contact_center")),
        ).fill_null("office"),
    )


def deal_quality(deals: pl.DataFrame, statuses: pl.DataFrame, config: Config) -> dict[str, Any]:
    """The manifest's data-quality counters about deals (cities, deleted deals, unmapped statuses)."""
    live = deals.filter(~pl.col("is_deleted"))
    unmapped = (
        statuses.filter(~pl.col("mapped"))
        .join(
            live.group_by("pipeline_id", "status_id").agg(deals=pl.len()), on=["pipeline_id", "status_id"], how="left"
        )
        .select("pipeline", "status", "status_id", pl.col("deals").fill_null(0))
    )
    return {
        "deals_without_city": int(live["city"].null_count()),
        "deals_city_not_in_config": int(
            live.filter(pl.col("city").is_not_null() & ~pl.col("city").is_in(list(config.cities))).height
        ),
        "deleted_deals": int(deals["is_deleted"].sum()),
        "unmapped_statuses": unmapped.to_dicts(),
    }


def _field_id(lead_fields: pl.DataFrame, name: str) -> int | None:
    if not name:
        return None
    wanted = normalize_name(name)
    for fid, fname in lead_fields.select("id", "name").iter_rows():
        if fname is not None and normalize_name(fname) == wanted:
            return int(float(fid))
    return None


def _names_field(field_id: pl.Expr, field_name: pl.Expr, fid: int | None, wanted: str) -> pl.Expr:
    """A custom value is the field's: by the field id lead_fields gives the name, else by its name."""
    by_id = (
        (field_id.cast(pl.Float64, strict=False).cast(pl.Int64, strict=False) == fid)
        if fid is not None
        else pl.lit(False)
    )
    return by_id | (field_name.str.strip_chars().str.to_lowercase().str.replace_all("ё", "е") == wanted)


def custom_fields_read(lead_fields: pl.DataFrame, names: tuple[str, ...]) -> tuple[pl.Expr, str]:
    """An expression keeping, of the ``custom_fields_values`` lists, only the values of the fields
    ``names`` (config's city and package fields) that :func:`deals_base` reads, and a key of what
    it keeps: the parsed raw export kept on disk (etl/transform/parsed.py) then holds no other
    field (a phone or a name in a custom field never leaves the raw export)."""
    named = [(_field_id(lead_fields, n), normalize_name(n)) for n in names if n]
    el = pl.element().struct
    keep = pl.lit(False)
    for fid, wanted in named:
        keep = keep | _names_field(el.field("field_id"), el.field("field_name"), fid, wanted)
    return pl.col("custom_fields_values").list.eval(pl.element().filter(keep)), repr(named)


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
        .filter(_names_field(pl.col("field_id"), pl.col("field_name"), fid, wanted))
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
        before_pipeline=json_int("value_before", "pipeline_id"),
        before_status=json_int("value_before", "id"),
        after_pipeline=json_int("value_after", "pipeline_id"),
        after_status=json_int("value_after", "id"),
    )


#: A note's call duration in its ``params`` text (see :func:`json_int`).
DURATION = r'"duration"\s*:\s*"?(-?\d+)'


def json_int(col: str, key: str) -> pl.Expr:
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


def deal_tables(
    raw: RawFrames, config: Config, statuses: pl.DataFrame, say: Callable[[str, str, int], None] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Statuses (``statuses`` plus those only deals and events name), deals (every column the
    other tables join, before ``DEALS.built`` is selected), entries (``ENTRIES.built``, in time
    order) and contact links, from raw frames whose events are without repeats."""
    deals, links, _ = deals_base(raw, config)
    changes = status_changes(raw.events)
    statuses = add_unknown_statuses(statuses, statuses_in_use(deals, changes), config)
    deals = with_stage_and_channel(deals, statuses, config)
    if say:
        say("история статусов, событий", "entries", changes.height)
    entries = entries_table(deals, changes, statuses)
    deals = reach_columns(deals, entries)
    deal_cols = deals.select("deal_id", "city", "channel", "is_deleted", deal_user_id="user_id")
    entries = entries.join(deal_cols, on="deal_id", how="left").select(ENTRIES.built).sort(ENTRY_ORDER)
    return statuses, deals, entries, links
