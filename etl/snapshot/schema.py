"""The snapshot contract: every table, column, dtype and whether it may be null (schema 3).

One declaration that the build validates against before publishing (:func:`validate`, called by
``etl.snapshot.store.write_tables``), that the report checks the version of
(``Snapshot.open``), that the test builders fill defaults from (:func:`fill_defaults`), and that
docs/data-model.md's table list is generated from (``python -m etl.snapshot.schema_doc [--check]``).

The *facts* (``fact=True``) are the derived columns computed by :mod:`etl.transform.facts`; since
schema 2 they are mandatory: the metrics read them and no longer derive them on the fly.

The *daily aggregates* (``aggregate_of`` set, since schema 3) are the additive counts of a fact
table summed per local day (:mod:`etl.transform.daily`): the metrics that only count or add read
them instead of the facts.

Choices where the spec is silent:

- :func:`validate` checks the set of tables, the set of columns and every dtype, not the column
  order (readers select by name) nor the nulls: a ``nullable=False`` column is a promise of the
  transform (tests check it on built snapshots), but one null from an odd raw record must not
  stop a whole account's build; the metrics treat a null as "unknown" anyway.
- ``default`` is only for hand-made test tables (a column a test leaves out); the build sets
  every column itself.  Nullable columns default to null; a non-nullable column without a
  declared default must be given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from etl.config import FUNNEL_STAGES
from etl.snapshot.errors import SchemaError

SCHEMA_VERSION = 3
TS = pl.Datetime("us", "UTC")
FACTS_MODULE = "etl/transform/facts.py"


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


#: Marks a non-nullable column that a hand-made table must give (no default).
NO_DEFAULT: Any = _NoDefault()


@dataclass(frozen=True)
class Column:
    name: str
    dtype: pl.DataType
    meaning: str
    nullable: bool = False
    fact: bool = False
    default: Any = NO_DEFAULT

    @property
    def has_default(self) -> bool:
        return self.nullable or self.default is not NO_DEFAULT

    @property
    def fill_value(self) -> Any:
        return None if self.default is NO_DEFAULT else self.default


@dataclass(frozen=True)
class Table:
    name: str
    meaning: str
    columns: tuple[Column, ...]
    sorted_by: str | None = None
    #: The fact table a daily aggregate sums (built by etl.transform.daily); None for a fact table.
    aggregate_of: str | None = None

    @property
    def schema(self) -> dict[str, pl.DataType]:
        return {c.name: c.dtype for c in self.columns}

    @property
    def built(self) -> list[str]:
        """The columns the transform builds, in order: all but the facts (added after them)."""
        return [c.name for c in self.columns if not c.fact]


I64, I32, I8, F64 = pl.Int64(), pl.Int32(), pl.Int8(), pl.Float64()
STR, BOOL, DATE = pl.String(), pl.Boolean(), pl.Date()


def _deal_copies(*, on_every_row: bool) -> tuple[Column, ...]:
    """The deal's columns copied onto a row (denormalised, so the common filters need no join)."""
    nullable = not on_every_row
    unless = "" if on_every_row else " (null when not on a deal)"
    return (
        Column("city", STR, f"the deal's city{unless}", nullable=True),
        Column("channel", STR, f"the deal's channel{unless}", nullable=nullable),
        Column(
            "is_deleted", BOOL, f"the deal is deleted{unless}", nullable=nullable, default=None if nullable else False
        ),
        Column("deal_user_id", I64, f"the deal's responsible user{unless}", nullable=True),
    )


def _counts(suffix: str, meaning: str, *, nullable: bool = False) -> tuple[Column, ...]:
    """The touches/calls/SMS count facts ``touches<suffix>``, ``calls<suffix>``, ``sms<suffix>``."""
    return tuple(
        Column(
            f"{what}{suffix}", I32, f"{noun} {meaning}", nullable=nullable, fact=True, default=None if nullable else 0
        )
        for what, noun in (("touches", "touches"), ("calls", "calls"), ("sms", "SMS"))
    )


DEALS = Table(
    "deals",
    "One row per amoCRM lead id, deleted ones included.",
    (
        Column("deal_id", I64, "amoCRM lead id"),
        Column("pipeline_id", I64, "current pipeline (null for a deal known only from the trash)", nullable=True),
        Column("status_id", I64, "current status (null for a deal known only from the trash)", nullable=True),
        Column("stage", STR, "stage of the current status (`other` if unmapped)"),
        Column("channel", STR, "`office` or `contact_center` (class of the current pipeline)"),
        Column("city", STR, "city from the city field, spelled as in `config.yaml`; null when empty", nullable=True),
        Column("user_id", I64, "responsible user (null for a deal known only from the trash)", nullable=True),
        Column(
            "price", F64, "budget, 0 when empty (null for a deal known only from the trash)", nullable=True, default=0.0
        ),
        Column("package", STR, "package field value", nullable=True),
        Column("contact_id", I64, "main contact (else the first linked contact)", nullable=True),
        Column("created_at", TS, "creation time (null for a deal known only from the trash)", nullable=True),
        Column("closed_at", TS, "amoCRM `closed_at`", nullable=True),
        Column("is_deleted", BOOL, "deleted (in the trash) at export time", default=False),
        *(
            Column(f"reach_{s}", TS, f"first_reach({s}) (METRICS.md)" + ("; = created_at" if s == "lead" else ""), True)
            for s in FUNNEL_STAGES
        ),
        Column("first_won_at", TS, "first entry into a `won` status", nullable=True),
        Column("first_lost_at", TS, "first entry into a `lost` status", nullable=True),
        Column("n_entries", I32, "number of status entries (creation included)"),
        Column("first_booked_at", TS, "first stage entry into `booked`", nullable=True, fact=True),
        Column(
            "rebooked_at",
            TS,
            "first `booked` entry after a no_show that followed the first booking",
            nullable=True,
            fact=True,
        ),
        Column("first_no_answer_at", TS, "first stage entry into `no_answer`", nullable=True, fact=True),
        Column("lost_from_no_answer_at", TS, "first `lost` entry coming from `no_answer`", nullable=True, fact=True),
        Column("first_out_at", TS, "first `call_out`/`sms_out` at or after creation", nullable=True, fact=True),
        Column("n_touches", I32, "touches attributed to the deal", fact=True, default=0),
        Column("n_calls", I32, "calls attributed to the deal", fact=True, default=0),
        Column("n_sms", I32, "SMS attributed to the deal", fact=True, default=0),
        Column("n_answered", I32, "answered calls attributed to the deal", fact=True, default=0),
        Column("answered_s", I64, "total duration of those answered calls", fact=True, default=0),
        Column("last_entry_at", TS, "time of the deal's last entry (null without entries)", nullable=True, fact=True),
        Column("last_pipeline_id", I64, "pipeline of the deal's last entry", nullable=True, fact=True),
        Column("last_status_id", I64, "status of the deal's last entry", nullable=True, fact=True),
        Column("last_stage", STR, "stage of the deal's last entry", nullable=True, fact=True),
        *_counts("_before_contract", "strictly before first_reach(contract); null without one", nullable=True),
        Column(
            "bookings_before_contract",
            I32,
            "entries into `booked` strictly before first_reach(contract); null without one",
            nullable=True,
            fact=True,
        ),
    ),
    sorted_by="created_at",
)

ENTRIES = Table(
    "entries",
    "One row per entry of a deal into a status, the creation included.",
    (
        Column("deal_id", I64, "the deal"),
        Column("seq", I32, "0 for the creation entry, then 1, 2, … in time order"),
        Column("at", TS, "event time (creation time for seq 0)"),
        Column("pipeline_id", I64, "pipeline of the status entered"),
        Column("status_id", I64, "status entered"),
        Column("stage", STR, "its stage (`other` if unmapped)"),
        Column("position", I8, "implied funnel position of that stage", nullable=True),
        Column("from_stage", STR, "stage before (null for the creation entry)", nullable=True),
        Column("is_stage_entry", BOOL, "true when `stage != from_stage` (always true for seq 0)"),
        Column("user_id", I64, "who moved it (event `created_by`; 0 = robot)", nullable=True),
        *_deal_copies(on_every_row=True),
        Column("next_at", TS, "time of the deal's next entry (null for its last)", nullable=True, fact=True),
        *_counts("_upto", "of the deal at or before the entry"),
        *_counts("_before", "of the deal strictly before the entry"),
        Column(
            "first_stage_entry",
            BOOL,
            "a stage entry that is the deal's first into exactly this stage",
            fact=True,
            default=False,
        ),
    ),
    sorted_by="at",
)

TOUCHES = Table(
    "touches",
    "One row per call or SMS note, from lead notes and contact notes; no phone numbers or texts.",
    (
        Column("touch_id", I64, "note id"),
        Column("source", STR, "`lead` or `contact` (which notes endpoint)"),
        Column("deal_id", I64, "attributed deal (null = unattributed)", nullable=True),
        Column("contact_id", I64, "the contact, for contact notes", nullable=True),
        Column("kind", STR, "`call_in`, `call_out`, `sms_in`, `sms_out`"),
        Column("at", TS, "note `created_at`"),
        Column("duration_s", I64, "call duration (0 for SMS and missed calls)", default=0),
        Column("answered", BOOL, "call with duration > 0 (false for SMS)", default=False),
        Column("user_id", I64, "the note's responsible user (who called)", nullable=True),
        *_deal_copies(on_every_row=False),
        Column("deal_created_at", TS, "the deal's creation time", nullable=True),
        Column(
            "prev_at",
            TS,
            "previous touch of the same deal (null for the first or unattributed)",
            nullable=True,
            fact=True,
        ),
    ),
    sorted_by="at",
)

TASKS = Table(
    "tasks",
    "One row per task that is not deleted.",
    (
        Column("task_id", I64, "amoCRM task id"),
        Column("deal_id", I64, "the lead when `entity_type = leads`, else null", nullable=True),
        Column("user_id", I64, "responsible user"),
        Column("task_type_id", I64, "amoCRM task type", nullable=True),
        Column("created_at", TS, "creation time"),
        Column("deadline", TS, "`complete_till`", nullable=True),
        Column("is_completed", BOOL, "completed at export time", default=False),
        Column(
            "completed_at",
            TS,
            "time of the `task_completed` event, else `updated_at` of a completed task",
            nullable=True,
        ),
        *_deal_copies(on_every_row=False),
        Column(
            "completed_day", DATE, "date of completion in the responsible user's time zone", nullable=True, fact=True
        ),
    ),
    sorted_by="created_at",
)

USERS = Table(
    "users",
    "Staff (their names are not customer data), plus users met only on deals.",
    (
        Column("user_id", I64, "amoCRM user id"),
        Column("name", STR, "user name (`#<id>` when unknown)"),
        Column("city", STR, "config `users:`, else the city most of the user's deals have", nullable=True),
        Column("tz", STR, "the city's time zone, else the report time zone"),
        Column("is_active", BOOL, "not deactivated in amoCRM", default=True),
    ),
)

STATUSES = Table(
    "statuses",
    "Every status of every pipeline (142/143 once per pipeline), plus deleted ones deals still name.",
    (
        Column("pipeline_id", I64, "pipeline id"),
        Column("pipeline", STR, "pipeline name"),
        Column("status_id", I64, "status id"),
        Column("status", STR, "status name"),
        Column("sort", I64, "amoCRM sort order"),
        Column("stage", STR, "stage from config (`other` when unmapped)"),
        Column("position", I8, "implied funnel position of the stage", nullable=True),
        Column("channel", STR, "`office` or `contact_center`"),
        Column("mapped", BOOL, "false = no stage in config, shown as `other`", default=True),
    ),
)

CITIES = Table(
    "cities",
    "Every city of `config.yaml` plus any other city the deals carry.",
    (
        Column("city", STR, "city name"),
        Column("tz", STR, "its time zone"),
        Column("in_config", BOOL, "named in `config.yaml`", default=True),
    ),
)


def _daily_keys(manager: str, whose: str) -> tuple[Column, ...]:
    """The keys every daily aggregate has: the local day, the deal's city and pipeline class
    (null for a row without a deal) and ``manager``, whose user that is."""
    return (
        Column("day", DATE, "local date in the report time zone"),
        Column("city", STR, "the deal's city (null when not on a deal, or the deal has none)", nullable=True),
        Column("channel", STR, "the deal's pipeline class (null when not on a deal)", nullable=True),
        Column(manager, I64, whose, nullable=True),
    )


def _sums(*columns: tuple[str, str]) -> tuple[Column, ...]:
    return tuple(Column(name, I64, meaning) for name, meaning in columns)


ON_DEAL = Column("on_deal", BOOL, "the row is on a deal (else unattributed, or on a contact)")

CALLS_DAILY = Table(
    "calls_daily",
    "Calls of live deals and unattributed calls, summed per day × city × pipeline class × caller.",
    (
        *_daily_keys("user_id", "the note's responsible user (who called)"),
        ON_DEAL,
        *_sums(
            ("incoming", "`call_in` notes"),
            ("outgoing", "`call_out` notes"),
            ("answered", "calls with duration > 0"),
            ("duration_s", "summed call duration"),
            ("answered_duration_s", "summed duration of the answered calls"),
        ),
    ),
    sorted_by="day",
    aggregate_of="touches",
)

TASKS_DAILY = Table(
    "tasks_daily",
    "Tasks of live deals and of contacts, summed per day of creation × city × pipeline class × responsible user.",
    (
        *_daily_keys("user_id", "the task's responsible user"),
        ON_DEAL,
        *_sums(
            ("created", "tasks created"),
            ("completed", "of them completed at export time"),
            ("overdue", "of them completed after the deadline, or open past it at `data_as_of`"),
        ),
    ),
    sorted_by="day",
    aggregate_of="tasks",
)

DEALS_DAILY = Table(
    "deals_daily",
    "Live deals summed per day of creation × city × pipeline class × responsible user.",
    (*_daily_keys("user_id", "the deal's responsible user"), *_sums(("deals", "deals created"))),
    sorted_by="day",
    aggregate_of="deals",
)

ENTRIES_DAILY = Table(
    "entries_daily",
    "Status entries of live deals summed per day × city × pipeline class × the deal's responsible "
    "user × stage entered (only creations and stage entries).",
    (
        *_daily_keys("deal_user_id", "the deal's responsible user"),
        Column("stage", STR, "the stage entered"),
        *_sums(
            ("created", "creations (seq 0 entries)"),
            ("stage_entries", "entries with `is_stage_entry` (a creation included)"),
        ),
    ),
    sorted_by="day",
    aggregate_of="entries",
)

SCHEMA: dict[str, Table] = {
    t.name: t
    for t in (
        DEALS,
        ENTRIES,
        TOUCHES,
        TASKS,
        USERS,
        STATUSES,
        CITIES,
        CALLS_DAILY,
        TASKS_DAILY,
        DEALS_DAILY,
        ENTRIES_DAILY,
    )
}
TABLES: tuple[str, ...] = tuple(SCHEMA)
#: The tables the transform builds (and a test writes by hand); the rest are daily aggregates of them.
FACT_TABLES: tuple[str, ...] = tuple(name for name, t in SCHEMA.items() if t.aggregate_of is None)
AGGREGATES: tuple[str, ...] = tuple(name for name, t in SCHEMA.items() if t.aggregate_of is not None)


def _problems(name: str, df: pl.DataFrame) -> list[str]:
    table = SCHEMA[name]
    found = df.schema
    out = []
    for col in table.columns:
        where = f"{name}.{col.name}"
        if col.name not in found:
            what = f" (a fact, computed by {FACTS_MODULE})" if col.fact else ""
            out.append(f"{where}: missing column, expected {col.dtype}{what}")
        elif not found[col.name].is_(col.dtype):
            out.append(f"{where}: expected {col.dtype}, found {found[col.name]}")
    out += [f"{name}.{c}: extra column ({found[c]}), not in the schema" for c in found if c not in table.schema]
    return out


def validate(tables: Mapping[str, pl.DataFrame]) -> None:
    """Raise :class:`SchemaError` naming every table and column that differs from :data:`SCHEMA`."""
    problems = [f"{name}: missing table" for name in TABLES if name not in tables]
    problems += [f"{name}: extra table, not in the schema" for name in tables if name not in SCHEMA]
    for name in TABLES:
        if name in tables:
            problems += _problems(name, tables[name])
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise SchemaError(f"tables do not match snapshot schema {SCHEMA_VERSION} (etl/snapshot/schema.py):\n{lines}")


def fill_defaults(name: str, df: pl.DataFrame, *, facts: bool = False) -> pl.DataFrame:
    """``df`` with every column of table ``name`` it lacks set to its default (facts too when
    ``facts``), cast to the schema dtypes and in schema order; for hand-made test tables.

    Columns the schema does not know are kept at the end, for :func:`validate` to report.
    """
    table = SCHEMA[name]
    wanted = [c for c in table.columns if facts or not c.fact]
    lacking = [c for c in wanted if c.name not in df.columns]
    required = [c.name for c in lacking if not c.has_default]
    if required:
        raise SchemaError(f"{name}: no default for {', '.join(required)}; the table must give them")
    df = df.with_columns(pl.lit(c.fill_value, dtype=c.dtype).alias(c.name) for c in lacking)
    df = df.with_columns(pl.col(c.name).cast(c.dtype) for c in wanted)
    return df.select(*(c.name for c in wanted), *(c for c in df.columns if c not in table.schema))
