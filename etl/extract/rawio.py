"""Reading a raw export (DATA.md §1) into polars frames, leniently and with clear errors.

amoCRM is written in PHP: a number may arrive as a string and an empty object as ``[]``.  We read
only the fields the build needs, scalars as text (cast afterwards with ``strict=False``) and
free-form objects as their JSON text, so that such quirks never stop a build.  When polars cannot
parse a file, a second pass in Python finds the first bad line and names it.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import polars as pl

S = pl.String

#: Raw export files: name → (required, what produces it).
FILES: dict[str, tuple[bool, str]] = {
    "account.json": (False, "GET /api/v4/account"),
    "users.jsonl": (True, "GET /api/v4/users"),
    "pipelines.jsonl": (True, "GET /api/v4/leads/pipelines"),
    "lead_fields.jsonl": (True, "GET /api/v4/leads/custom_fields"),
    "leads.jsonl": (True, "GET /api/v4/leads?with=contacts"),
    "contacts.jsonl": (True, "GET /api/v4/contacts"),
    "events.jsonl": (True, "GET /api/v4/events"),
    "lead_notes.jsonl": (True, "GET /api/v4/leads/notes"),
    "contact_notes.jsonl": (True, "GET /api/v4/contacts/notes"),
    "tasks.jsonl": (True, "GET /api/v4/tasks"),
    "export.json": (False, "etl pull"),
}

#: The JSONL collections of a raw export, by name (users, pipelines, …, tasks).
COLLECTIONS: tuple[str, ...] = tuple(n.removesuffix(".jsonl") for n in FILES if n.endswith(".jsonl"))

_CF_VALUES = pl.List(pl.Struct({"value": S, "enum_id": S}))
_CUSTOM_FIELDS = pl.List(pl.Struct({"field_id": S, "field_name": S, "field_code": S, "values": _CF_VALUES}))

#: The fields of each collection the build reads.  Other fields (names, phones, texts) are
#: never read, so personal data cannot leak past this point.
SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "users.jsonl": {"id": S, "name": S, "rights": S},
    "pipelines.jsonl": {
        "id": S,
        "name": S,
        "sort": S,
        "is_archive": S,
        "_embedded": pl.Struct({"statuses": pl.List(pl.Struct({"id": S, "name": S, "sort": S, "type": S}))}),
    },
    "lead_fields.jsonl": {
        "id": S,
        "name": S,
        "code": S,
        "type": S,
        "enums": pl.List(pl.Struct({"id": S, "value": S})),
    },
    "leads.jsonl": {
        "id": S,
        "price": S,
        "responsible_user_id": S,
        "status_id": S,
        "pipeline_id": S,
        "created_by": S,
        "created_at": S,
        "updated_at": S,
        "closed_at": S,
        "is_deleted": S,
        # Nested values are read as JSON text and decoded afterwards (see NESTED): polars parses
        # them several times faster that way.
        "custom_fields_values": S,
        "_embedded": S,
    },
    "contacts.jsonl": {
        "id": S,
        "updated_at": S,
        "_embedded": pl.Struct({"leads": pl.List(pl.Struct({"id": S}))}),
    },
    "events.jsonl": {
        "id": S,
        "type": S,
        "entity_id": S,
        "entity_type": S,
        "created_by": S,
        "created_at": S,
        "value_before": S,
        "value_after": S,
    },
    "lead_notes.jsonl": {
        "id": S,
        "entity_id": S,
        "created_by": S,
        "created_at": S,
        "updated_at": S,
        "responsible_user_id": S,
        "note_type": S,
        "params": S,
    },
    "tasks.jsonl": {
        "id": S,
        "responsible_user_id": S,
        "entity_id": S,
        "entity_type": S,
        "task_type_id": S,
        "created_at": S,
        "updated_at": S,
        "complete_till": S,
        "is_completed": S,
    },
}
SCHEMAS["contact_notes.jsonl"] = SCHEMAS["lead_notes.jsonl"]

#: Columns read as JSON text and then decoded to these types.
NESTED: dict[str, dict[str, pl.DataType]] = {
    "leads.jsonl": {
        "custom_fields_values": _CUSTOM_FIELDS,
        "_embedded": pl.Struct({"contacts": pl.List(pl.Struct({"id": S, "is_main": S}))}),
    },
}

#: Event types the build uses: status history, deletions, task completion.  Call and SMS events
#: only point to notes, which are read from the notes endpoints.
EVENT_TYPES: tuple[str, ...] = (
    "lead_added",
    "lead_status_changed",
    "lead_deleted",
    "lead_restored",
    "task_completed",
    "task_deleted",
)
TOUCH_KINDS: tuple[str, ...] = ("call_in", "call_out", "sms_in", "sms_out")
#: What the build keeps of each collection (None: everything).
KEEP: dict[str, pl.Expr] = {
    "events.jsonl": pl.col("type").is_in(EVENT_TYPES),
    "lead_notes.jsonl": pl.col("note_type").is_in(TOUCH_KINDS),
    "contact_notes.jsonl": pl.col("note_type").is_in(TOUCH_KINDS),
}


#: Scalar fields the build reads as integers (ids, Unix times, prices …) and as booleans.  A value
#: of another type (a date string for ``created_at``, "abc" for a price) is counted per collection
#: and field in the snapshot's quality counters (:func:`wrong_types`) and read as empty; an ``id``
#: that is no integer makes its record unusable and stops the build (:func:`check_ids`).
INTEGERS: dict[str, tuple[str, ...]] = {
    "users.jsonl": ("id",),
    "pipelines.jsonl": ("id", "sort"),
    "lead_fields.jsonl": ("id",),
    "leads.jsonl": (
        "id", "price", "responsible_user_id", "status_id", "pipeline_id", "created_by",
        "created_at", "updated_at", "closed_at",
    ),
    "contacts.jsonl": ("id", "updated_at"),
    "events.jsonl": ("entity_id", "created_by", "created_at"),  # event ids are strings
    "lead_notes.jsonl": ("id", "entity_id", "created_by", "created_at", "updated_at", "responsible_user_id"),
    "tasks.jsonl": ("id", "responsible_user_id", "entity_id", "task_type_id", "created_at", "updated_at",
                    "complete_till"),
}  # fmt: skip
INTEGERS["contact_notes.jsonl"] = INTEGERS["lead_notes.jsonl"]
BOOLEANS: dict[str, tuple[str, ...]] = {
    "pipelines.jsonl": ("is_archive",),
    "leads.jsonl": ("is_deleted",),
    "tasks.jsonl": ("is_completed",),
}


class RawExportError(ValueError):
    """The raw export cannot be read; the message names the file (and line) and what is wrong."""


def check_files(raw_dir: Path) -> None:
    if not raw_dir.is_dir():
        raise RawExportError(f"raw export folder {raw_dir} does not exist")
    missing = [
        f"{name} ({source})"
        for name, (required, source) in FILES.items()
        if required and not (raw_dir / name).is_file()
    ]
    if missing:
        raise RawExportError(f"raw export {raw_dir} is missing: {', '.join(missing)}")


def read_json_object(path: Path) -> dict[str, Any]:
    """A single-object JSON file (account.json, export.json); {} when absent."""
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RawExportError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise RawExportError(f"{path}: expected a JSON object, got {type(value).__name__}")
    return value


#: Bytes of a raw file parsed at once when reading it in stretches (:func:`read_jsonl`'s
#: ``chunk_bytes``): polars reading a file whole maps and holds all of it, which for a five-year
#: export (a 2 GB events file) was most of the build's peak memory.
CHUNK_BYTES = 64 * 2**20


def line_ranges(path: Path, chunk_bytes: int) -> list[tuple[int, int]]:
    """``path`` cut into byte ranges of about ``chunk_bytes``, each ending at a line's end."""
    size = path.stat().st_size
    ranges, start = [], 0
    with open(path, "rb") as fh:
        while start < size:
            end = min(start + chunk_bytes, size)
            if end < size:
                fh.seek(end)
                end += len(fh.readline())
            ranges.append((start, end))
            start = end
    return ranges


def _stretch(path: Path, start: int, end: int | None) -> io.BytesIO:
    with open(path, "rb") as fh:
        fh.seek(start)
        return io.BytesIO(fh.read(-1 if end is None else end - start))


def _parse(source: Path | io.BytesIO, schema: dict[str, pl.DataType], keep: pl.Expr | None) -> pl.DataFrame:
    if keep is None:
        return pl.read_ndjson(source, schema=schema)
    lf = pl.scan_ndjson(source, schema=schema).filter(keep | pl.col("id").is_null())  # no id: reported below
    return lf.collect(engine="streaming")


def _decode_nested(df: pl.DataFrame, nested: dict[str, pl.DataType]) -> pl.DataFrame:
    if not nested or not df.height:
        return df
    # PHP sends an empty object as [], which is no struct: treat it as absent.
    return df.with_columns(
        pl.when(pl.col(c) != "[]").then(pl.col(c)).str.json_decode(dtype).alias(c) for c, dtype in nested.items()
    )


def _read_in_stretches(
    path: Path, schema: dict[str, pl.DataType], keep: pl.Expr | None, chunk_bytes: int
) -> pl.DataFrame | None:
    """The whole file's frame, parsed ``chunk_bytes`` at a time (so that memory holds one stretch
    of text, not the file); None on anything unusual, and :func:`read_jsonl` then reads the file
    whole, whose error names the right line."""
    nested = NESTED.get(path.name, {})
    try:
        parts = [
            _decode_nested(_parse(_stretch(path, a, b), schema, keep), nested)
            for a, b in line_ranges(path, chunk_bytes)
        ]
    except Exception:  # polars raises several types; the whole read diagnoses
        return None
    return pl.concat(parts) if parts else None


def read_jsonl(
    path: Path,
    schema: dict[str, pl.DataType],
    keep: pl.Expr | None = None,
    *,
    start: int = 0,
    end: int | None = None,
    chunk_bytes: int | None = None,
) -> pl.DataFrame:
    """Read a JSONL collection with ``schema``; on failure, name the first bad line.

    ``keep`` filters records while streaming, so that collections we need a small part of
    (events, notes) never sit in memory whole.  ``start`` > 0 reads only the lines from that
    byte offset on, up to ``end`` (the lines a pull appended since, :mod:`etl.transform.parsed`); such a read
    raises :class:`RawExportError` without a diagnosis on anything unusual, and the caller then
    reads the whole file, whose error names the right line.  ``chunk_bytes``: a whole file longer
    than that is parsed in stretches of about that many bytes (the same frame, less memory).
    """
    if path.stat().st_size <= start:
        return pl.DataFrame(schema=schema)
    df = None
    if chunk_bytes and not start and end is None and path.stat().st_size > chunk_bytes:
        df = _read_in_stretches(path, schema, keep, chunk_bytes)
    if df is None:
        df = _read_whole(path, schema, keep, start, end)
    if df.height and df["id"].null_count():
        if start:
            raise RawExportError(f"{path}: a record after byte {start} has no id")
        first_null = int(df.with_row_index().filter(pl.col("id").is_null())["index"][0])
        raise RawExportError(f"{path}: record {first_null + 1} has no id")
    check_ids(path, df)
    return df


def _read_whole(
    path: Path, schema: dict[str, pl.DataType], keep: pl.Expr | None, start: int, end: int | None
) -> pl.DataFrame:
    source = _stretch(path, start, end) if start else path
    try:
        df = _parse(source, schema, keep)
    except Exception as exc:  # polars raises several types; we re-diagnose below
        if start:
            raise RawExportError(f"{path}: the lines after byte {start} cannot be read") from exc
        raise RawExportError(_diagnose(path, exc)) from exc
    nested = NESTED.get(path.name, {})
    try:
        return _decode_nested(df, nested)
    except Exception as exc:
        if start:
            raise RawExportError(f"{path}: a nested value after byte {start} has another shape") from exc
        # Another unexpected shape inside: let polars parse the file with the nested schema;
        # if that fails too, the error names the file and the first line Python cannot read.
        return _read_tolerant(path, {**schema, **nested})


def _read_tolerant(path: Path, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    try:
        return pl.read_ndjson(path, schema=schema)
    except Exception as exc:
        raise RawExportError(_diagnose(path, exc)) from exc


def _diagnose(path: Path, exc: Exception) -> str:
    """Find the first line Python's json cannot read, or that is not an object."""
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            line = raw.strip()
            if not line:
                continue
            try:
                value = json.loads(line)
            except (UnicodeDecodeError, json.JSONDecodeError) as err:
                return f"{path}:{lineno}: not valid JSON ({err})"
            if not isinstance(value, dict):
                return f"{path}:{lineno}: expected a JSON object, got {type(value).__name__}"
    return f"{path}: cannot be read: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"


def _given(name: str) -> pl.Expr:
    """A value is there: not null, not empty (PHP's "" means "not set", as 0 does for times)."""
    return pl.col(name).is_not_null() & (pl.col(name) != "")


def _not_integer(name: str) -> pl.Expr:
    return _given(name) & pl.col(name).cast(pl.Float64, strict=False).is_null()


def wrong_types(file: str, df: pl.DataFrame) -> dict[str, int]:
    """Field → how many records of ``file`` carry a value of the wrong type there (only fields > 0).

    Integers: anything that does not read as a number (12, "12", 12.0 do).  Booleans: anything but
    true/false/1/0 (any case).
    """
    checks = {f: _not_integer(f) for f in INTEGERS.get(file, ()) if f in df.columns}
    truth = ["true", "false", "1", "0"]
    checks |= {
        f: _given(f) & ~pl.col(f).str.to_lowercase().is_in(truth) for f in BOOLEANS.get(file, ()) if f in df.columns
    }
    if not checks or df.height == 0:
        return {}
    row = df.select(**{f: expr.sum() for f, expr in checks.items()}).row(0, named=True)
    return {f: int(n) for f, n in row.items() if n}


def check_ids(path: Path, df: pl.DataFrame) -> None:
    """Refuse a record whose ``id`` is no integer (it cannot be joined to anything): one line with
    the file, the line and the value."""
    if "id" not in INTEGERS.get(path.name, ()) or df.height == 0:
        return
    as_float = pl.col("id").cast(pl.Float64, strict=False)
    if not df.select((as_float.is_null() | (as_float != as_float.floor())).any()).item():
        return
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            value = json.loads(raw).get("id") if raw.strip() else None
            if value is not None and not (isinstance(value, int | float | str) and _integral(value)):
                raise RawExportError(f"{path}:{lineno}: field id: expected an integer, got {value!r}")
    raise RawExportError(f"{path}: a record's field id is not an integer")


def _integral(value: int | float | str) -> bool:
    if isinstance(value, bool):
        return False
    try:
        number = float(value)
    except ValueError:
        return False
    return number == int(number)


def int_col(name: str) -> pl.Expr:
    """Lenient integer: accepts 12, "12", 12.0; anything else becomes null."""
    return pl.col(name).cast(pl.Float64, strict=False).cast(pl.Int64, strict=False)


def ts_col(name: str) -> pl.Expr:
    """Unix seconds (lenient) → UTC timestamp; 0 and empty mean "not set"."""
    secs = int_col(name)
    return pl.when(secs > 0).then(secs * 1_000_000).otherwise(None).cast(pl.Datetime("us", "UTC")).alias(name)


def bool_col(name: str) -> pl.Expr:
    v = pl.col(name).str.to_lowercase()
    return v.is_in(["true", "1"]).fill_null(False).alias(name)
