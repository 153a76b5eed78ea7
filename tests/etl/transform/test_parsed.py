"""The parsed raw export kept as parquet (etl/transform/parsed.py): a build that parses only the
lines a pull appended gives the same snapshot as one that parses every file whole.

The export is the hand-written one of tests/builders/raw_export.py, cut in two: the first half of
every activity collection's lines is "yesterday's pull", the second half is appended as
"today's" (the way staging.commit appends).  Leads 4 (then trashed) and 1 (then won) change across the cut.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from etl.config import load_config
from etl.extract import rawio
from etl.snapshot.store import TABLES
from etl.transform.build import BuildError, build_snapshot
from etl.transform.parsed import MAX_PARTS, ParsedCache, private_free
from etl.transform.raw import read_raw
from tests.builders import raw_export as rx

REFERENCE = ("users", "pipelines", "lead_fields")


def halves() -> tuple[dict[str, list], dict[str, list]]:
    """Day one: the reference collections whole, the first half of every other; day two: the rest."""
    recs = rx.records()
    day1 = {k: v if k in REFERENCE else v[: len(v) // 2] for k, v in recs.items()}
    return day1, {k: v[len(v) // 2 :] for k, v in recs.items() if k not in REFERENCE}


def append(raw: Path, recs: dict[str, list]) -> None:
    for name, rows in recs.items():
        with open(raw / f"{name}.jsonl", "a", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def assert_same_snapshot(a: Path, b: Path) -> None:
    """Every table equal as frames and as parquet bytes; the manifests equal but for id and time."""
    for name in TABLES:
        assert_frame_equal(pl.read_parquet(a / f"{name}.parquet"), pl.read_parquet(b / f"{name}.parquet"))
        assert (a / f"{name}.parquet").read_bytes() == (b / f"{name}.parquet").read_bytes(), name
    ma, mb = (json.loads((f / "manifest.json").read_text()) for f in (a, b))
    for key in ("snapshot_id", "built_at", "built_by"):
        ma.pop(key), mb.pop(key)
    assert ma == mb


def how(raw: Path, data: Path, probe: Path) -> dict[str, str]:
    """What the next build on ``data`` will do with each collection, found on a copy of its cache."""
    shutil.copytree(data / "parsed", probe / "parsed")
    config = load_config()
    cache = ParsedCache(probe / "parsed", raw, lead_fields=(config.city_field, config.package_field))
    read_raw(raw, None, cache)
    return {name.removesuffix(".jsonl"): h for name, h in cache.how.items()}


def test_a_build_after_an_appending_pull_parses_only_the_new_lines_and_equals_a_full_build(tmp_path):
    config = load_config()
    day1, day2 = halves()
    # Values of the wrong type on both days: the quality counters add up the parts' counts.
    day1["tasks"].append({**rx.task(78, 1, "2026-03-12 09:00", "2026-03-13 09:00", done=False), "updated_at": "x"})
    day2["tasks"].append({**rx.task(79, 1, "2026-03-12 09:00", "2026-03-13 09:00", done=False), "created_at": "y"})
    day2["leads"].append({**rx._lead(11, rx.OF["Новая заявка"], "2026-03-12 09:00"), "price": "abc"})
    raw, data = rx.write(tmp_path / "raw", day1), tmp_path / "data"
    build_snapshot(raw, config, data, force=True)
    append(raw, day2)
    seen = how(raw, data, tmp_path / "probe")
    assert {k for k, v in seen.items() if v == "appended"} == set(rx.records()) - set(REFERENCE)
    assert {k for k, v in seen.items() if v == "cached"} == set(REFERENCE)
    incremental = build_snapshot(raw, config, data, force=True)
    full = build_snapshot(raw, config, tmp_path / "fresh", force=True)
    assert_same_snapshot(incremental, full)
    wrong = json.loads((incremental / "manifest.json").read_text())["quality"]["wrong_types"]
    assert {(w["collection"], w["field"], w["records"]) for w in wrong} == {
        ("tasks", "updated_at", 1), ("tasks", "created_at", 1), ("leads", "price", 1),
    }  # fmt: skip
    # Nothing appended since: every collection comes from its parts alone.
    assert set(how(raw, data, tmp_path / "probe2").values()) == {"cached"}


def test_a_raw_file_rewritten_or_cut_back_is_parsed_again_whole(tmp_path):
    config = load_config()
    recs = rx.records()
    raw, data = rx.write(tmp_path / "raw"), tmp_path / "data"
    build_snapshot(raw, config, data, force=True)
    # leads.jsonl rewritten, longer than before: deal 1's won version (line 2) carries another price
    # of the same length (every old line ends where it did) and a deal 10 comes at the end.
    # tasks.jsonl cut back by its last line.
    assert recs["leads"][1]["price"] == "70000"
    recs["leads"][1] = {**recs["leads"][1], "price": "90000"}
    recs["leads"].append(rx._lead(10, rx.OF["Новая заявка"], "2026-03-11 09:00"))
    recs["tasks"] = recs["tasks"][:-1]
    rx.write(raw, {"leads": recs["leads"], "tasks": recs["tasks"]})
    seen = how(raw, data, tmp_path / "probe")
    assert seen["leads"] == "parsed" and seen["tasks"] == "parsed" and seen["events"] == "cached"
    again = build_snapshot(raw, config, data, force=True)
    full = build_snapshot(raw, config, tmp_path / "fresh", force=True)
    assert_same_snapshot(again, full)
    deals = pl.read_parquet(again / "deals.parquet")
    assert deals.filter(pl.col("deal_id") == 1)["price"].to_list() == [90000.0]
    assert 10 in deals["deal_id"].to_list()


def test_a_bad_line_appended_is_named_with_its_line_number(tmp_path):
    raw, data = rx.write(tmp_path / "raw"), tmp_path / "data"
    build_snapshot(raw, load_config(), data, force=True)
    lines = len(rx.records()["leads"])
    with open(raw / "leads.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"id": 77, "price": \n')
    try:
        build_snapshot(raw, load_config(), data, force=True)
    except BuildError as exc:
        assert f"leads.jsonl:{lines + 1}: not valid JSON" in str(exc)
    else:
        raise AssertionError("a broken line was read")


def test_many_small_pulls_keep_few_parts_and_the_same_frames(tmp_path):
    recs = rx.records()
    events = recs["events"]
    raw, data = rx.write(tmp_path / "raw", {**recs, "events": events[:2]}), tmp_path / "data"
    for i in range(2, len(events)):  # one pull per event: 14 appends
        read_raw(raw, None, ParsedCache(data / "parsed", raw))
        append(raw, {"events": [events[i]]})
    cached = read_raw(raw, None, ParsedCache(data / "parsed", raw))
    assert len(list((data / "parsed" / "events").glob("part-*.parquet"))) <= MAX_PARTS
    whole = rawio.read_jsonl(raw / "events.jsonl", rawio.SCHEMAS["events.jsonl"], rawio.KEEP["events.jsonl"])
    assert_frame_equal(cached.events, whole.with_columns(private_free("events.jsonl", None, ())[0]))


def test_the_parsed_parts_hold_no_name_phone_or_message_text(tmp_path):
    recs = rx.records()
    # A phone in a custom field of the deal itself, besides the city and package fields.
    recs["leads"][1]["custom_fields_values"].append(rx.phone_value(600, rx.PHONE))
    raw, data = rx.write(tmp_path / "raw", recs), tmp_path / "data"
    folder = build_snapshot(raw, load_config(), data, force=True)
    text = "".join(pl.read_parquet(p).write_ndjson() for p in (data / "parsed").glob("*/part-*.parquet"))
    assert '{\\"duration\\":120}' in text  # the call's duration is kept (the rest of its params not)
    for private in (rx.PHONE, rx.SMS_TEXT, rx.CUSTOMER_NAME, rx.PHONE[1:]):
        assert private not in text
    assert pl.read_parquet(folder / "deals.parquet").filter(pl.col("deal_id") == 1)["city"].to_list() == ["Москва"]
