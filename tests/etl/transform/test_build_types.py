"""Raw values of the wrong type: counted per collection and field, shown in the quality panel; an
id that is no integer stops the build with the file, line and field.

The hand-written export of tests/builders/raw_export.py with a few values spoiled by hand; each
spoiled field is counted once per record carrying it.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from etl.config import REPO_ROOT, load_config
from etl.snapshot.store import Snapshot, current_id
from etl.transform.build import build_snapshot
from report.metrics.calls import quality_panel
from report.metrics.filters import Filters
from report.views.quality import panel
from tests.builders import raw_export as rx

MARCH = Filters(date(2026, 3, 1), date(2026, 3, 31))  # the panel ignores filters


def spoiled() -> dict[str, list[dict]]:
    recs = rx.records()
    for lead in recs["leads"]:
        if lead["id"] == 7:
            lead["created_at"] = "2026-03-10"  # a date string instead of Unix seconds
        if lead["id"] == 8:
            lead["price"] = "abc"
            lead["status_id"] = "new"
        if lead["id"] == 9:
            lead["is_deleted"] = "yes"
    recs["tasks"][0]["complete_till"] = "завтра"
    recs["events"][0]["created_at"] = "2026-03-01 07:10"
    return recs


@pytest.fixture(scope="module")
def snap(tmp_path_factory) -> Snapshot:
    root = tmp_path_factory.mktemp("types")
    return Snapshot.open(build_snapshot(rx.write(root / "raw", spoiled()), load_config(), root / "data"))


def test_wrong_types_are_counted_per_collection_and_field(snap):
    assert snap.quality["wrong_types"] == [
        {"collection": "leads", "field": "price", "records": 1},
        {"collection": "leads", "field": "status_id", "records": 1},
        {"collection": "leads", "field": "created_at", "records": 1},
        {"collection": "leads", "field": "is_deleted", "records": 1},
        {"collection": "events", "field": "created_at", "records": 1},
        {"collection": "tasks", "field": "complete_till", "records": 1},
    ]
    # The spoiled values read as empty: #7 has no creation time, #8 no status (so stage other).
    deals = {r["deal_id"]: r for r in snap.read("deals").to_dicts()}
    assert deals[7]["created_at"] is None and deals[8]["stage"] == "other"
    assert snap.row_counts["deals"] == 9  # every record still used


def test_the_quality_panel_shows_them(snap):
    df = quality_panel(snap, MARCH)
    got = dict(zip(df["check"], df["value"], strict=True))
    assert got["wrong_type_values"] == 6
    text = str(panel(df, snap, "en").to_plotly_json())
    assert "Raw values of the wrong type" in text and "leads.created_at: 1" in text and "tasks.complete_till: 1" in text


def test_the_clean_export_has_none(tmp_path):
    snap = Snapshot.open(build_snapshot(rx.write(tmp_path / "raw"), load_config(), tmp_path / "data"))
    assert snap.quality["wrong_types"] == []
    got = dict(zip(*quality_panel(snap, MARCH).get_columns(), strict=True))
    assert got["wrong_type_values"] == 0


@pytest.mark.parametrize("bad_id", ["abc", 7.5, True, {"id": 7}])
def test_an_id_that_is_no_integer_names_file_line_and_field(tmp_path, bad_id):
    recs = rx.records()
    recs["tasks"][2]["id"] = bad_id  # the third line of tasks.jsonl
    raw = rx.write(tmp_path / "raw", recs)
    cmd = [sys.executable, "-m", "etl", "build", "--raw", str(raw), "--data-dir", str(tmp_path / "data")]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    (line,) = [line for line in r.stderr.splitlines() if line.startswith("build failed")]
    assert line == f"build failed: {raw / 'tasks.jsonl'}:3: field id: expected an integer, got {bad_id!r}"
    assert current_id(tmp_path / "data" / "snapshots") is None


def test_an_integral_id_written_as_text_or_float_is_fine(tmp_path):
    recs = rx.records()
    recs["tasks"][2]["id"] = str(recs["tasks"][2]["id"])
    recs["tasks"][3]["id"] = float(recs["tasks"][3]["id"])
    raw = rx.write(tmp_path / "raw", recs)
    snap = Snapshot.open(build_snapshot(raw, load_config(), tmp_path / "data"))
    assert snap.quality["wrong_types"] == [] and snap.row_counts["tasks"] == 5
