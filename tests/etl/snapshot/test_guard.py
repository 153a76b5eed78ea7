"""The publish guard, on the hand-written export of tests/builders/raw_export.py.

Coverage of that export, worked out by hand: live deals #1 #2 #3 #5 #6 #7 #8 #9 (#4 is deleted);
#5 sits in the unmapped "Странный статус", so 7 mapped deals; cities Москва (#1 #3 #6 #7 #9),
Казань (#2, written "казань "), Урюпинск (#8): 3; mapped stages won (#1), booked (#2), lost (#3
#6), lead (#7 #8 #9): 4.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from etl.config import REPO_ROOT, load_config
from etl.snapshot.guard import current_coverage
from etl.snapshot.store import current_id, list_snapshots, open_current
from etl.transform.build import BuildError, build_snapshot
from tests.builders import raw_export as rx


@pytest.fixture(scope="module")
def config():
    return load_config()


def export_without(raw_dir: Path, lead_ids: set[int], extra: list[dict] | None = None) -> Path:
    """The hand-written export minus the leads ``lead_ids`` (plus ``extra`` leads)."""
    recs = rx.records()
    recs["leads"] = [lead for lead in recs["leads"] if lead["id"] not in lead_ids] + (extra or [])
    return rx.write(raw_dir, recs)


@pytest.fixture
def published(tmp_path, config):
    data = tmp_path / "data"
    first = build_snapshot(rx.write(tmp_path / "raw"), config, data)
    return data, first


def cli_build(raw: Path, data: Path, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "etl", "build", "--raw", str(raw), "--data-dir", str(data), *flags],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )


def test_the_manifest_records_the_coverage(published):
    _, first = published
    manifest = json.loads((first / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["coverage"] == {"mapped_deals": 7, "cities": 3, "stages": 4}


def test_a_snapshot_losing_most_deals_is_refused_and_the_old_one_keeps_serving(tmp_path, published):
    data, first = published
    # Only #1 (won, Москва), #2 (booked, Казань), #4 (deleted) and #5 (unmapped) are left.
    raw = export_without(tmp_path / "raw2", {3, 6, 7, 8, 9})
    r = cli_build(raw, data)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    (line,) = [line for line in r.stderr.splitlines() if line.startswith("build failed")]  # the rest is progress
    assert "mapped deals 7 → 2 (−71 %); cities 3 → 2 (−33 %); stages 4 → 2 (−50 %)" in line
    assert first.name in line and "--force" in line
    snaps = data / "snapshots"
    assert current_id(snaps) == first.name and list_snapshots(snaps) == [first.name]
    assert not list(snaps.glob(".tmp-*"))
    assert open_current(snaps).row_counts["deals"] == 9

    forced = cli_build(raw, data, "--force")
    assert forced.returncode == 0, forced.stderr
    assert current_id(snaps) != first.name and open_current(snaps).row_counts["deals"] == 4
    assert current_coverage(snaps / current_id(snaps)) == {"mapped_deals": 2, "cities": 2, "stages": 2}


def test_a_small_drop_and_growth_publish(tmp_path, config, published):
    data, first = published
    snaps = data / "snapshots"
    # Without #9: mapped deals 7 → 6 (−14 %), cities and stages unchanged: under the 20 % default.
    second = build_snapshot(export_without(tmp_path / "raw2", {9}), config, data)
    assert current_id(snaps) == second.name != first.name
    # Growth: a new deal in Казань, at "Номер получен" (phone), a stage no live deal was in.
    new = rx.lead(
        10, rx.OF["Номер получен"], "2026-03-12 09:00", fields=[rx.select_value(500, "Город", "Казань", 5002)]
    )
    third = build_snapshot(export_without(tmp_path / "raw3", set(), [new]), config, data)
    assert current_id(snaps) == third.name
    assert current_coverage(third) == {"mapped_deals": 8, "cities": 3, "stages": 5}  # + phone


def test_the_share_comes_from_config(tmp_path, published):
    data, first = published
    text = (REPO_ROOT / "config.yaml").read_text(encoding="utf-8").replace("max_drop: 0.2", "max_drop: 0.1")
    strict = tmp_path / "strict.yaml"
    strict.write_text(text, encoding="utf-8")
    # The −14 % that passes under 20 % is refused under 10 %.
    with pytest.raises(BuildError, match=r"mapped deals 7 → 6 \(−14 %\).*max_drop 10 %") as caught:
        build_snapshot(export_without(tmp_path / "raw2", {9}), load_config(strict), data)
    assert caught.value.kind == "guard"
    assert current_id(data / "snapshots") == first.name


def test_a_current_snapshot_without_recorded_coverage_is_measured(published):
    _, first = published
    manifest_path = first / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    del manifest["coverage"]  # as written before the guard existed
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    assert current_coverage(first) == {"mapped_deals": 7, "cities": 3, "stages": 4}
