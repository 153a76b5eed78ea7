"""Reading a raw JSONL file in stretches of bytes (etl/extract/rawio.py's ``chunk_bytes``): the
frame a file read whole gives, errors that still name the file and the line, and a whole build on
stretches of a few hundred bytes publishing the same tables.

The export is the hand-written one of tests/builders/raw_export.py; a stretch of 300 bytes holds
one or two of its records, so every file of more than one record is read in several stretches.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from etl.config import load_config
from etl.extract import rawio
from etl.snapshot.store import TABLES
from etl.transform.build import BuildError, build_snapshot
from tests.builders import raw_export as rx

STRETCH = 300


def test_stretches_cover_the_file_and_end_at_line_ends(tmp_path):
    path = rx.write(tmp_path / "raw") / "events.jsonl"
    data = path.read_bytes()
    ranges = rawio.line_ranges(path, STRETCH)
    assert len(ranges) > 3
    assert ranges[0][0] == 0 and ranges[-1][1] == len(data)
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))  # no gap, no overlap
    assert all(data[end - 1 : end] == b"\n" for _, end in ranges)


def test_every_collection_read_in_stretches_is_the_frame_read_whole(tmp_path):
    raw = rx.write(tmp_path / "raw")
    for name, schema in rawio.SCHEMAS.items():
        keep = rawio.KEEP.get(name)
        whole = rawio.read_jsonl(raw / name, schema, keep)
        assert_frame_equal(rawio.read_jsonl(raw / name, schema, keep, chunk_bytes=STRETCH), whole)


def test_a_bad_line_in_a_later_stretch_is_named_with_its_line_number(tmp_path):
    raw = rx.write(tmp_path / "raw")
    lines = (raw / "events.jsonl").read_text(encoding="utf-8").splitlines()
    assert sum(len(line) + 1 for line in lines[:11]) > 3 * STRETCH  # line 12 is past the first stretches
    lines[11] = lines[11][:30]
    (raw / "events.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    name = "events.jsonl"
    with pytest.raises(rawio.RawExportError, match=r"events\.jsonl:12: not valid JSON"):
        rawio.read_jsonl(raw / name, rawio.SCHEMAS[name], rawio.KEEP[name], chunk_bytes=STRETCH)


def test_a_build_reading_in_stretches_publishes_the_same_tables(tmp_path, monkeypatch):
    raw = rx.write(tmp_path / "raw")
    whole = build_snapshot(raw, load_config(), tmp_path / "whole", force=True, full=True)
    monkeypatch.setattr(rawio, "CHUNK_BYTES", STRETCH)
    stretched = build_snapshot(raw, load_config(), tmp_path / "stretched", force=True, full=True)
    for name in TABLES:
        assert (stretched / f"{name}.parquet").read_bytes() == (whole / f"{name}.parquet").read_bytes(), name


def test_a_build_in_stretches_still_names_a_broken_line(tmp_path, monkeypatch):
    raw = rx.write(tmp_path / "raw")
    lines = (raw / "lead_notes.jsonl").read_text(encoding="utf-8").splitlines()
    lines[-1] = lines[-1][:25]
    Path(raw / "lead_notes.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(rawio, "CHUNK_BYTES", STRETCH)
    with pytest.raises(BuildError, match=rf"lead_notes\.jsonl:{len(lines)}: not valid JSON"):
        build_snapshot(raw, load_config(), tmp_path / "data", full=True)
