"""Raw export → snapshot, on the hand-written export in tests/builders/raw_export.py.

Every expected value below was worked out by hand from the records there; comments say how.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from etl.config import load_config
from etl.snapshot.schema import FACT_TABLES
from etl.snapshot.store import TABLES, Snapshot, current_id, list_snapshots, open_current
from etl.transform import build as build_mod
from etl.transform.build import BuildError, build_snapshot
from tests.builders import raw_export as tx

REPO = Path(__file__).resolve().parents[3]


def utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def config():
    return load_config()


@pytest.fixture(scope="module")
def snap(tmp_path_factory, config) -> Snapshot:
    root = tmp_path_factory.mktemp("build")
    raw = tx.write(root / "raw")
    folder = build_snapshot(raw, config, root / "data")
    return Snapshot.open(folder)


def rows(snap: Snapshot, table: str, deal_id: int) -> list[dict]:
    return snap.read(table).filter(pl.col("deal_id") == deal_id).sort("seq").to_dicts()


def deal(snap: Snapshot, deal_id: int) -> dict:
    (row,) = snap.read("deals").filter(pl.col("deal_id") == deal_id).to_dicts()
    return row


def test_entries_of_a_deal_through_the_whole_funnel(snap):
    # #1: created in Неразобранное, → Новая заявка (same stage "lead": not a stage entry),
    # → phone → booked → attended → contract → won: 7 status entries, 6 stage entries.
    got = [(r["seq"], r["stage"], r["is_stage_entry"]) for r in rows(snap, "entries", 1)]
    assert got == [
        (0, "lead", True),
        (1, "lead", False),
        (2, "phone", True),
        (3, "booked", True),
        (4, "attended", True),
        (5, "contract", True),
        (6, "won", True),
    ]
    assert rows(snap, "entries", 1)[0]["at"] == utc("2026-03-01 07:00")  # creation time


def test_same_stage_transfer_between_pipelines_and_reentry(snap):
    # #3: CC lead → CC phone → CC booked → office booked (transfer, same stage: no entry)
    # → no_show → booked again (a new stage entry) → lost.
    got = [(r["pipeline_id"], r["stage"], r["is_stage_entry"]) for r in rows(snap, "entries", 3)]
    assert got == [
        (tx.CC, "lead", True),
        (tx.CC, "phone", True),
        (tx.CC, "booked", True),
        (tx.OFFICE, "booked", False),
        (tx.OFFICE, "no_show", True),
        (tx.OFFICE, "booked", True),
        (tx.OFFICE, "lost", True),
    ]
    d = deal(snap, 3)
    assert d["channel"] == "office"  # the current pipeline decides the channel
    assert d["reach_booked"] == utc("2026-03-03 10:00")  # the first booked entry, in the CC pipeline
    assert d["reach_attended"] is None  # no_show implies position 3 only
    assert d["first_lost_at"] == utc("2026-03-12 09:00")


def test_first_reach_of_each_funnel_stage(snap):
    d = deal(snap, 1)
    assert [d[f"reach_{s}"] for s in ("lead", "phone", "booked", "attended", "contract")] == [
        utc("2026-03-01 07:00"),
        utc("2026-03-01 08:00"),
        utc("2026-03-02 07:00"),
        utc("2026-03-04 07:00"),
        utc("2026-03-04 09:00"),
    ]
    assert d["first_won_at"] == utc("2026-03-11 07:00")
    assert d["n_entries"] == 7


def test_deal_created_straight_into_a_later_stage_has_passed_the_earlier_ones(snap):
    # #2 was created by a robot in "Записан на консультацию" and never moved: one creation entry;
    # it reached lead, phone and booked at its creation time, nothing later.
    (entry,) = rows(snap, "entries", 2)
    assert (entry["stage"], entry["is_stage_entry"], entry["user_id"]) == ("booked", True, 0)
    d = deal(snap, 2)
    created = utc("2026-03-02 12:00")
    assert (d["reach_lead"], d["reach_phone"], d["reach_booked"]) == (created, created, created)
    assert d["reach_attended"] is None and d["channel"] == "contact_center"


def test_attribution_of_calls_and_sms(snap):
    touches = dict(snap.read("touches").select("touch_id", "deal_id").iter_rows())
    assert touches == {
        11: 1,  # lead notes belong to their lead
        12: 1,
        13: 1,
        14: 4,  # lead note of the deleted deal: kept, marked deleted below
        15: None,  # lead note of a deal that does not exist
        21: 6,  # 5 min before #6 was created: inside the 10-minute grace
        22: 6,  # 8 min after #6 was closed: inside the grace
        23: None,  # between #6 (closed 03-05) and #7 (created 03-10): nobody's
        24: 7,  # 5 min before #7 was created
        25: 9,  # #8 and #9 both open: the most recently created wins
        26: None,  # contact 903 only has the deleted #4, which is no candidate
    }
    assert 16 not in touches  # a "common" note is not a touch
    t = snap.read("touches")
    # "120" arrived as a string: still 120 s and answered; a 0-second call is not answered.
    assert t.filter(pl.col("touch_id") == 11).row(0, named=True)["duration_s"] == 120
    assert t.filter(pl.col("touch_id").is_in([11, 12, 13]))["answered"].to_list() == [True, False, False]
    assert t.filter(pl.col("touch_id") == 14)["is_deleted"].to_list() == [True]
    assert t["at"].is_sorted()


def test_deleted_deal_is_marked(snap):
    d = deal(snap, 4)
    assert d["is_deleted"] is True
    assert snap.read("deals").filter(~pl.col("is_deleted"))["deal_id"].sort().to_list() == [1, 2, 3, 5, 6, 7, 8, 9]


def test_fields_city_package_price(snap):
    d1, d2, d8 = deal(snap, 1), deal(snap, 2), deal(snap, 8)
    assert (d1["city"], d1["package"], d1["price"], d1["stage"]) == ("Москва", "Стандарт", 70000.0, "won")
    assert d2["city"] == "Казань"  # "казань " matched to the config's spelling
    assert d8["city"] == "Урюпинск"  # not in config: kept, counted
    assert deal(snap, 5)["city"] is None


def test_task_completion_times(snap):
    t = {r["task_id"]: r for r in snap.read("tasks").to_dicts()}
    assert t[71]["completed_at"] == utc("2026-03-02 10:00")  # the task_completed event
    assert t[72]["completed_at"] == utc("2026-03-02 16:00")  # no event: updated_at of the completed task
    assert t[73]["completed_at"] is None and t[73]["deal_id"] == 7
    assert t[74]["deal_id"] is None and t[75]["deal_id"] is None  # unknown deal; a contact's task


def test_quality_counters_and_row_counts(snap):
    q = snap.quality
    assert q["deals_without_city"] == 1  # #5
    assert q["deals_city_not_in_config"] == 1  # #8 Урюпинск
    assert q["deleted_deals"] == 1  # #4
    assert q["unmapped_statuses"] == [{"pipeline": "Офис", "status": "Странный статус", "status_id": 2010, "deals": 1}]
    assert q["unattributed_touches"] == 3  # 15, 23, 26
    assert q["notes_unknown_deals"] == 1  # 15
    assert q["events_unknown_deals"] == 1  # the status change of #998
    assert q["tasks_unknown_deals"] == 1  # 74
    assert q["duplicate_records_dropped"] == 1  # the older copy of #1
    assert {name: n for name, n in snap.row_counts.items() if name in FACT_TABLES} == {
        "deals": 9,
        "entries": 22,
        "touches": 11,
        "tasks": 5,
        "users": 3,
        "statuses": 23,
        "cities": 34,  # 33 from config + Урюпинск
    }
    assert snap.data_as_of == datetime(2026, 3, 15, tzinfo=UTC)  # export.json pulled_at
    for table in ("entries", "touches"):
        assert snap.read(table)["at"].is_sorted()


def test_no_personal_data_anywhere_in_the_snapshot(snap):
    secrets = [tx.CUSTOMER_NAME, tx.PHONE, tx.SMS_TEXT, tx.LEAD_NAME, "Иванов", "9161234567", "example.com"]
    for path in snap.path.iterdir():
        blob = path.read_bytes()
        for s in secrets:
            assert s.encode() not in blob, f"{s!r} found in {path.name}"
    for table in TABLES:
        df = snap.read(table)
        for col in df.columns:
            if df[col].dtype == pl.String:
                values = " ".join(v for v in df[col].drop_nulls().to_list())
                for s in secrets:
                    assert s not in values, f"{s!r} in {table}.{col}"


@pytest.fixture()
def good(tmp_path, config):
    raw = tx.write(tmp_path / "raw")
    data = tmp_path / "data"
    first = build_snapshot(raw, config, data)
    return raw, data, first


def _assert_untouched(data: Path, first: Path) -> None:
    snaps = data / "snapshots"
    assert current_id(snaps) == first.name
    assert list_snapshots(snaps) == [first.name]
    assert not list(snaps.glob(".tmp-*"))
    assert open_current(snaps).row_counts["deals"] == 9


def test_malformed_line_names_file_and_line_and_keeps_old_snapshot(good, config):
    raw, data, first = good
    lines = (raw / "leads.jsonl").read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2][:40]  # cut the third record in half
    (raw / "leads.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(BuildError, match=r"leads\.jsonl:3: not valid JSON"):
        build_snapshot(raw, config, data)
    _assert_untouched(data, first)


def test_missing_file_is_named(good, config):
    raw, data, first = good
    (raw / "events.jsonl").unlink()
    with pytest.raises(BuildError, match=r"missing: events\.jsonl \(GET /api/v4/events\)"):
        build_snapshot(raw, config, data)
    _assert_untouched(data, first)


def test_empty_export_is_refused(good, config):
    raw, data, first = good
    (raw / "leads.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(BuildError, match="holds no deals"):
        build_snapshot(raw, config, data)
    _assert_untouched(data, first)


def test_build_failing_half_way_through_writing_keeps_current(good, config, monkeypatch):
    raw, data, first = good
    real_write = build_mod.write_tables

    def crash_after_two_tables(folder, tables, manifest):
        real_write(folder, tables, manifest)  # the files are really written...
        (folder / "manifest.json").unlink()
        raise OSError(28, "No space left on device")  # ...then the disk fills up

    monkeypatch.setattr(build_mod, "write_tables", crash_after_two_tables)
    with pytest.raises(BuildError, match="no space left on device while writing .*snapshots"):
        build_snapshot(raw, config, data)
    _assert_untouched(data, first)


def test_old_snapshots_are_pruned_never_the_current_one(good, config):
    raw, data, first = good
    ids = [first.name]
    for i in range(config.snapshots_keep + 1):
        os.utime(raw / "export.json", ns=(i * 10**9, i * 10**9))  # another pull, another fingerprint
        ids.append(build_snapshot(raw, config, data).name)
    snaps = data / "snapshots"
    assert list_snapshots(snaps) == ids[-config.snapshots_keep :]
    assert current_id(snaps) == ids[-1]


def test_cli_reports_bad_input_without_a_traceback(tmp_path):
    raw = tx.write(tmp_path / "raw")
    with open(raw / "tasks.jsonl", "a", encoding="utf-8") as fh:
        fh.write("[1, 2]\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "etl", "build", "--raw", str(raw), "--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "tasks.jsonl:6: expected a JSON object, got list" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "data" / "snapshots" / "CURRENT").exists()


def test_cli_builds_and_prints_counts(tmp_path):
    raw = tx.write(tmp_path / "raw")
    proc = subprocess.run(
        [sys.executable, "-m", "etl", "build", "--raw", str(raw), "--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "deals 9, entries 22, touches 11" in proc.stdout
    manifest = json.loads((open_current(tmp_path / "data" / "snapshots").path / "manifest.json").read_text())
    assert manifest["schema_version"] == 3


def test_events_pulled_twice_count_once(tmp_path, config, snap):
    # A --full pull appends every event again: the snapshot must not change, only the counter.
    raw = tx.write(tmp_path / "raw")
    events = (raw / "events.jsonl").read_text(encoding="utf-8")
    (raw / "events.jsonl").write_text(events + events, encoding="utf-8")
    again = Snapshot.open(build_snapshot(raw, config, tmp_path / "data"))
    assert again.read("entries").equals(snap.read("entries"))
    n_events = len(events.splitlines())
    assert again.quality["duplicate_records_dropped"] == snap.quality["duplicate_records_dropped"] + n_events


def test_the_build_reports_every_step_in_order_with_what_it_counts(tmp_path, config):
    from etl.progress import BUILD_STEPS, Progress, read_progress

    raw = tx.write(tmp_path / "raw")
    recs = tx.records()
    path = tmp_path / "progress.json"
    tracker = Progress(path)
    seen: list[dict] = []

    def progress(message: str, step=None, count=None, part=None) -> None:
        tracker.build_step(message, step=step, count=count, part=part)
        seen.append(dict(read_progress(path)["step"], stage=read_progress(path)["stage"]))

    build_snapshot(raw, config, tmp_path / "data", progress)
    steps = list(dict.fromkeys(s["key"] for s in seen))
    assert steps == list(BUILD_STEPS)
    assert [s["index"] for s in seen] == sorted(s["index"] for s in seen)  # never goes back
    files = [s["part"] for s in seen if s["key"] == "read"]
    assert files[0] == [0, len(files)] and files[-1] == [len(files) - 1, len(files)]  # file by file
    by_key = {s["key"]: s for s in seen}
    assert by_key["deals"]["count"] == len(recs["leads"])
    assert by_key["tasks"]["count"] == len(recs["tasks"])
    assert by_key["write"]["stage"] == "publish" and by_key["publish"]["stage"] == "publish"
    assert by_key["facts"]["stage"] == "build"
