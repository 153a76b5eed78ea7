"""The incremental build (etl/transform/splice.py): after a pull, only the touched deals are rebuilt
and spliced into the previous snapshot, and the result equals a full build from scratch, table
for table and byte for byte (the parquet writer is deterministic: same frame, same bytes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from etl.config import REPO_ROOT, load_config
from etl.simulated.emulator import start_emulator
from etl.simulated.synth import generate_account, write_raw_export
from etl.transform.build import build_snapshot
from tests.builders import raw_export as rx
from tests.etl.transform.test_parsed import append, assert_same_snapshot, halves


def built_by(folder: Path) -> str:
    return json.loads((folder / "manifest.json").read_text())["built_by"]


def touch(folder: Path, touch_id: int) -> dict:
    return pl.read_parquet(folder / "touches.parquet").filter(pl.col("touch_id") == touch_id).row(0, named=True)


def deal(folder: Path, deal_id: int) -> dict:
    return pl.read_parquet(folder / "deals.parquet").filter(pl.col("deal_id") == deal_id).row(0, named=True)


def test_a_deal_closed_by_a_pull_moves_its_contacts_call_to_the_other_deal(tmp_path):
    # Contact 901 has deals #8 (03-06) and #9 (03-07), both open: call 25 (03-08 10:00) goes to the
    # newer, #9.  The pull brings #9 lost on 03-07 10:00 only: the call, 24 h after #9 closed
    # (grace 10 min), now goes to #8, which the pull never mentioned.
    config = load_config()
    raw, data = rx.write(tmp_path / "raw"), tmp_path / "data"
    before = build_snapshot(raw, config, data, force=True)
    assert touch(before, 25)["deal_id"] == 9 and deal(before, 9)["n_touches"] == 1
    lost = rx._lead(
        9, (rx.OFFICE, rx.LOST), "2026-03-07 09:00", updated="2026-03-07 10:00", closed="2026-03-07 10:00",
        contacts=[(901, False)],
    )  # fmt: skip
    moved = rx.status_event("ev09001", 9, "2026-03-07 10:00", rx.OF["Новая заявка"], (rx.OFFICE, rx.LOST))
    append(raw, {"leads": [lost], "events": [moved]})
    after = build_snapshot(raw, config, data, force=True)
    assert built_by(after) == "incremental"
    assert touch(after, 25)["deal_id"] == 8 and touch(after, 25)["prev_at"] is None
    assert (deal(after, 8)["n_touches"], deal(after, 9)["n_touches"]) == (1, 0)
    assert deal(after, 9)["first_lost_at"] == datetime(2026, 3, 7, 10, tzinfo=UTC)
    assert_same_snapshot(after, build_snapshot(raw, config, tmp_path / "fresh", force=True, full=True))


def test_a_call_on_a_deals_second_contact_keeps_the_touches_of_its_first(tmp_path):
    # Deal #7 has contact 900 (SMS 24 at 03-10 08:55 goes to #7) and, listed by contact 904's own
    # record, contact 904.  The pull brings a call on 904 at 03-10 12:00: #7 is rebuilt from 904's
    # side, and SMS 24 (contact 900, untouched) must stay on it and count.
    config = load_config()
    recs = rx.records()
    recs["contacts"].append(rx.contact(904, "2026-03-10 09:00", leads=[7]))
    raw, data = rx.write(tmp_path / "raw", recs), tmp_path / "data"
    build_snapshot(raw, config, data, force=True)
    append(raw, {"contact_notes": [rx._call(27, 904, "call_in", "2026-03-10 12:00", duration=30)]})
    after = build_snapshot(raw, config, data, force=True)
    assert built_by(after) == "incremental"
    assert touch(after, 24)["deal_id"] == 7 and touch(after, 27)["deal_id"] == 7
    assert touch(after, 27)["prev_at"] == datetime(2026, 3, 10, 8, 55, tzinfo=UTC)
    assert (deal(after, 7)["n_touches"], deal(after, 7)["n_calls"], deal(after, 7)["n_sms"]) == (2, 1, 1)
    assert_same_snapshot(after, build_snapshot(raw, config, tmp_path / "fresh", force=True, full=True))


def test_half_the_export_appended_builds_incrementally_to_the_full_builds_tables(tmp_path):
    config = load_config()
    day1, day2 = halves()
    raw, data = rx.write(tmp_path / "raw", day1), tmp_path / "data"
    build_snapshot(raw, config, data, force=True)
    append(raw, day2)
    after = build_snapshot(raw, config, data, force=True)
    assert built_by(after) == "incremental"
    assert_same_snapshot(after, build_snapshot(raw, config, tmp_path / "fresh", force=True))


def test_a_new_user_or_full_flag_rebuilds_everything(tmp_path):
    config = load_config()
    raw, data = rx.write(tmp_path / "raw"), tmp_path / "data"
    build_snapshot(raw, config, data, force=True)
    append(raw, {"users": [{"id": 4, "name": "Галина", "rights": {"is_active": True}}]})
    assert built_by(build_snapshot(raw, config, data, force=True)) == "full"
    append(raw, {"tasks": [rx.task(76, 1, "2026-03-12 09:00", "2026-03-13 09:00", done=False)]})
    assert built_by(build_snapshot(raw, config, data, force=True, full=True)) == "full"
    append(raw, {"tasks": [rx.task(77, 1, "2026-03-12 09:00", "2026-03-13 09:00", done=False)]})
    assert built_by(build_snapshot(raw, config, data, force=True)) == "incremental"


def test_refresh_after_an_emulated_day_builds_incrementally_and_equals_a_full_build(tmp_path):
    # The demo account's export at `end`; two refreshes through the emulator, a day apart: the
    # first builds in full (no snapshot yet), the second splices the day the pull appended.
    end = datetime(2026, 5, 1, tzinfo=UTC)
    account = generate_account(seed=5, deals_per_year=300, years=1.0, end=end)
    write_raw_export(tmp_path / "raw", account.as_of(end), source="emulator", pulled_at=end)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMOCRM_")}
    cmd = [sys.executable, "-m", "etl", "refresh", "--data-dir", str(tmp_path), "--force"]
    with start_emulator(account, clock=end + timedelta(days=1)) as emu:
        env |= {"AMOCRM_BASE_URL": emu.url, "AMOCRM_ACCESS_TOKEN": emu.token}
        sizes = []
        for _ in range(2):
            r = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
            assert r.returncode == 0, r.stderr
            sizes.append((tmp_path / "raw" / "events.jsonl").stat().st_size)
            emu.advance(86400)
    assert sizes[1] > sizes[0]  # the second pull appended a day of events
    snaps = tmp_path / "snapshots"
    last = snaps / (snaps / "CURRENT").read_text().strip()
    assert built_by(last) == "incremental"
    assert_same_snapshot(last, build_snapshot(tmp_path / "raw", load_config(), tmp_path / "fresh", full=True))
