"""The incremental build: recompute only the rows of what a pull touched and splice them into the
previous snapshot's tables.  ``etl build --full`` (and any doubt, below) runs
:func:`etl.transform.build.transform` on everything instead; both give byte-equal tables
(tests/etl/transform/test_splice.py).

What a row depends on, and so what is recomputed:
- A deal's row, its entries and its facts depend on its own lead records, its own events, the
  touches attributed to it and the statuses.  A contact's call or SMS goes to one of the
  contact's deals by time (METRICS.md, *Touch*), so a change to one deal can move touches
  between the deals of its contacts.  Hence the touched deals are: the deals of new lead
  records, lead events and lead notes; then every contact linked to them or given a new record or
  note; then every deal of those contacts.  Links are read from every version of the lead and
  contact records, a superset of the old and the new links, so a touch that moves leaves a deal
  that is recomputed too.
- A touch row is recomputed when its note is (the lead notes of the touched deals, the contact
  notes of those contacts); the other touches of a touched deal are kept, as they are, to
  compute the deal's facts (previous touch, counts) over all its touches.
- A task row is recomputed when the task has a new record or event, or lies on a touched deal;
  its local completion day for every task when the users table changed (a time zone may have).
- Users, cities and statuses are small and rebuilt whole; the quality counters too
  (:mod:`etl.transform.quality`).

When splicing is not safe the build is full, and the manifest says so (``built_by``): the
statuses table would change (a pipeline edited, or a status no pipeline lists), the reference
collections (users, pipelines, lead fields) were appended to, or the previous snapshot was built
from other bytes, config or transform code (etl/transform/build.py decides those).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from etl.config import Config
from etl.extract.rawio import int_col
from etl.snapshot.schema import DEALS, TASKS, TOUCHES
from etl.transform.activity import (
    TASK_ORDER,
    TOUCH_ORDER,
    cities_table,
    contact_deals,
    tasks_table,
    touches_table,
    users_table,
)
from etl.transform.deals import DEAL_ORDER, ENTRY_ORDER, contact_links, deal_tables, statuses_table
from etl.transform.facts import add_derived
from etl.transform.quality import first_events, quality_counters
from etl.transform.raw import RawFrames, columns

#: Collections whose appended records name the deals, contacts and tasks to recompute.
ACTIVITY = ("leads", "contacts", "events", "lead_notes", "contact_notes", "tasks")
Say = Callable[[str, str, int], None]


@dataclass(frozen=True)
class Touched:
    """Ids whose rows are recomputed."""

    deals: pl.Series
    contacts: pl.Series
    tasks: pl.Series


def _ids(df: pl.DataFrame, col: str) -> pl.Series:
    return df.select(int_col(col)).to_series().drop_nulls()


def _union(*parts: pl.Series) -> pl.Series:
    return pl.concat([p.cast(pl.Int64) for p in parts]).unique().sort()


def _is(col: str, ids: pl.Series) -> pl.Expr:
    """``col`` is one of ``ids`` (false for a null)."""
    return int_col(col).is_in(ids.implode()).fill_null(False)


def touched(raw: RawFrames, new: dict[str, pl.DataFrame]) -> Touched:
    """The deals, contacts and tasks the records ``new[collection]`` (appended to ``raw``) touch."""
    lead_ev = new["events"].filter(pl.col("entity_type") == "lead")
    task_ev = new["events"].filter(pl.col("entity_type") == "task")
    deals0 = _union(_ids(new["leads"], "id"), _ids(lead_ev, "entity_id"), _ids(new["lead_notes"], "entity_id"))
    contacts0 = _union(_ids(new["contacts"], "id"), _ids(new["contact_notes"], "entity_id"))
    lead_links = contact_links(columns(raw.leads, "id", "_embedded")).select("deal_id", "contact_id")
    links = pl.concat([lead_links, contact_deals(columns(raw.contacts, "id", "_embedded"))], how="diagonal")
    links = links.drop_nulls()
    contacts = _union(contacts0, links.filter(pl.col("deal_id").is_in(deals0.implode()))["contact_id"])
    deals = _union(deals0, links.filter(pl.col("contact_id").is_in(contacts.implode()))["deal_id"])
    tasks = _union(
        _ids(new["tasks"], "id"),
        _ids(task_ev, "entity_id"),
        _ids(columns(raw.tasks, "id", "entity_id").filter(_is("entity_id", deals)), "id"),
    )
    return Touched(deals, contacts, tasks)


def subset(raw: RawFrames, t: Touched) -> RawFrames:
    """Every record (every version, file order kept) of the touched deals, contacts and tasks, in
    memory (``raw``'s frames may be lazy scans)."""
    lead_ev = (pl.col("entity_type") == "lead") & _is("entity_id", t.deals)
    task_ev = (pl.col("entity_type") == "task") & _is("entity_id", t.tasks)
    rows = {
        "leads": _is("id", t.deals),
        "contacts": _is("id", t.contacts),
        "events": lead_ev | task_ev,
        "lead_notes": _is("entity_id", t.deals),
        "contact_notes": _is("entity_id", t.contacts),
        "tasks": _is("id", t.tasks),
    }
    return replace(raw, **{c: _rows(getattr(raw, c), keep) for c, keep in rows.items()})


def _rows(frame: pl.DataFrame | pl.LazyFrame, keep: pl.Expr) -> pl.DataFrame:
    out = frame.filter(keep)
    return out.collect() if isinstance(out, pl.LazyFrame) else out


def splice(
    raw: RawFrames, new: dict[str, pl.DataFrame], prev: dict[str, pl.DataFrame], config: Config, say: Say
) -> tuple[dict[str, pl.DataFrame], dict[str, Any]] | None:
    """The snapshot tables and quality counters for ``raw``, from the ``prev`` snapshot's tables
    (built from ``raw`` without the records ``new``); None when splicing is not safe.  ``raw``'s
    activity frames may be lazy scans (etl.transform.raw.read_raw_lazy): only the columns and
    rows needed are read.  Once splicing is safe, ``prev`` is emptied as its tables are used, so
    that memory never holds a whole previous table next to its spliced copy (a five-year
    account's incremental build peaked there)."""
    statuses = statuses_table(raw, config)
    if not statuses.equals(prev["statuses"]):
        return None
    t = touched(raw, new)
    sub = subset(raw, t)
    sub = replace(sub, events=first_events(sub.events))
    say("сделки (изменённые)", "deals", t.deals.len())
    sub_statuses, sub_deals, sub_entries, sub_links = deal_tables(sub, config, statuses, say)
    if sub_statuses.height != statuses.height:
        return None  # a status no pipeline lists: the statuses table changes, and so may every deal
    in_deals = pl.col("deal_id").is_in(t.deals.implode()).fill_null(False)
    deals = pl.concat([prev["deals"].filter(~in_deals).select(DEALS.built), sub_deals.select(DEALS.built)])
    say("звонки и SMS (изменённые), примечаний", "touches", sub.lead_notes.height + sub.contact_notes.height)
    sub_touches, _ = touches_table(sub, sub_deals, sub_links, config.attribution_grace_minutes)
    redone = pl.concat(
        [
            sub.lead_notes.select(source=pl.lit("lead"), touch_id=int_col("id")),
            sub.contact_notes.select(source=pl.lit("contact"), touch_id=int_col("id")),
        ]
    )
    kept = prev.pop("touches").join(redone, on=["source", "touch_id"], how="anti", nulls_equal=True)
    say("задачи (изменённые)", "tasks", sub.tasks.height)
    sub_tasks = tasks_table(sub, deals)
    kept_tasks = prev.pop("tasks").filter(~pl.col("task_id").is_in(t.tasks.implode()).fill_null(False))
    users = users_table(raw, deals, config)
    zones_moved = not users.equals(prev["users"])
    part = {
        "deals": sub_deals.select(DEALS.built).sort(DEAL_ORDER, nulls_last=True),
        "entries": sub_entries,
        "touches": pl.concat([kept.filter(in_deals).select(TOUCHES.built), sub_touches]),
        "tasks": pl.concat([kept_tasks.select(TASKS.built), sub_tasks]) if zones_moved else sub_tasks,
        "users": users,
        "statuses": statuses,
        "cities": cities_table(deals, config),
    }
    say("производные столбцы (изменённые), переходов", "facts", sub_entries.height)
    part = add_derived(part, config.timezone)
    del sub, sub_deals, sub_entries, sub_touches, deals
    # One table at a time, each previous one let go as soon as it is filtered.
    tables = dict(part)
    tables["deals"] = pl.concat([prev.pop("deals").filter(~in_deals), part.pop("deals")]).sort(
        DEAL_ORDER, nulls_last=True
    )
    tables["entries"] = pl.concat([prev.pop("entries").filter(~in_deals), part.pop("entries")]).sort(ENTRY_ORDER)
    kept = kept.filter(~in_deals)
    tables["touches"] = pl.concat([kept, part.pop("touches")]).sort(TOUCH_ORDER)
    del kept
    old_tasks = [] if zones_moved else [kept_tasks]  # else in part["tasks"] already
    del kept_tasks
    tables["tasks"] = pl.concat([*old_tasks, part.pop("tasks")]).sort(TASK_ORDER)
    del old_tasks, part
    prev.clear()
    return tables, quality_counters(raw, tables, config)
