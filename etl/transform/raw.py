"""The raw export as the transform reads it: one frame per collection (``python -m etl build``'s input).

Reading is :mod:`etl.extract.rawio`'s; here are the frame bundle the pure transforms take and the
one dedupe rule every collection shares (:func:`latest_by_id`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from etl.extract import rawio
from etl.extract.rawio import int_col

if TYPE_CHECKING:
    from etl.transform.parsed import ParsedCache

#: The small collections every build reads whole (the rest is activity: leads … tasks).
REFERENCE = ("users", "pipelines", "lead_fields")

#: ``progress(message, step=…, count=…, part=…)``: a line for people, and which build step
#: (etl.progress.BUILD_STEPS) it is, with the rows it handles and (done, of) within the step.
Progress = Callable[..., None]


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
    #: collection → field → records whose value there has the wrong type (rawio.wrong_types)
    wrong_types: dict[str, dict[str, int]] = field(default_factory=dict)


def read_raw(
    raw_dir: Path, progress: Progress | None = None, cache: ParsedCache | None = None, *, lazy: bool = False
) -> RawFrames:
    """Every collection of the export in ``raw_dir``; through ``cache`` (the parsed parts of the
    lines read before, :mod:`etl.transform.parsed`) when given, which is then brought up to date.
    ``lazy`` (with a cache): the activity collections (leads … tasks) as lazy scans of their
    parts, read by the transform one step at a time (:func:`whole`); the caller saves ``cache``
    once done with them."""
    rawio.check_files(raw_dir)
    frames: dict[str, Any] = {}
    wrong: dict[str, dict[str, int]] = {}
    files = list(rawio.SCHEMAS.items())
    read = 0
    for i, (name, schema) in enumerate(files):
        if progress:
            progress(f"чтение {name}", step="read", count=read, part=(i, len(files)))
        collection = name.removesuffix(".jsonl")
        if cache is None:
            frames[collection] = rawio.read_jsonl(
                raw_dir / name, schema, rawio.KEEP.get(name), chunk_bytes=rawio.CHUNK_BYTES
            )
            found = rawio.wrong_types(name, frames[collection])
        else:
            frames[collection] = cache.read(name, lazy=lazy and collection not in REFERENCE)
            found = cache.wrong[name]
        if found:
            wrong[collection] = found
        if progress:
            read += whole(frames[collection].select(pl.len())).item()
    if cache is not None and not lazy:
        cache.save()
    return RawFrames(
        **frames,
        account=rawio.read_json_object(raw_dir / "account.json"),
        export=rawio.read_json_object(raw_dir / "export.json"),
        wrong_types=wrong,
    )


def read_raw_lazy(raw_dir: Path, cache: ParsedCache) -> tuple[RawFrames, dict[str, pl.DataFrame]] | None:
    """The export with its activity collections (leads … tasks) as lazy scans of the parsed parts
    plus the lines appended since (and those lines alone, by collection), the small reference
    collections read; None when a collection's parts are not valid.  For the incremental build,
    which reads only some columns and rows of the whole (so never holds it in memory); the
    caller saves ``cache`` once done with the scans."""
    rawio.check_files(raw_dir)
    frames: dict[str, Any] = {}
    new: dict[str, pl.DataFrame] = {}
    for name in rawio.SCHEMAS:
        collection = name.removesuffix(".jsonl")
        if collection in REFERENCE:
            frames[collection] = cache.read(name)
        elif (scanned := cache.scan(name)) is None:
            return None
        else:
            frames[collection], new[collection] = scanned
    wrong = {name.removesuffix(".jsonl"): cache.wrong[name] for name in rawio.SCHEMAS if cache.wrong.get(name)}
    raw = RawFrames(
        **frames,
        account=rawio.read_json_object(raw_dir / "account.json"),
        export=rawio.read_json_object(raw_dir / "export.json"),
        wrong_types=wrong,  # in read_raw's order
    )
    return raw, new


def columns(frame: pl.DataFrame | pl.LazyFrame, *cols: str) -> pl.DataFrame:
    """``cols`` of a raw frame, read now when it is a lazy scan (:func:`read_raw_lazy`)."""
    return whole(frame.select(cols))


def whole(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """A raw frame in memory, read now when it is a lazy scan (``read_raw(lazy=True)``)."""
    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame


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
