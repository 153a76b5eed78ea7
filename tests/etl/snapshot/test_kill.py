"""SIGKILL in the middle of a publish: the previous snapshot keeps serving, the next build tidies up.

The build runs as its own process and is held at a step of :func:`etl.snapshot.store.publish` by
the test-only ``ETL_TEST_PAUSE_AT`` hook (it writes the step's name to a file and waits), then
killed with SIGKILL — no handler, no ``finally`` runs, as after ``kill -9`` or a power cut of the
process.  Each step is one of the states the disk can be left in.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from etl.config import REPO_ROOT, load_config
from etl.snapshot.store import CURRENT, PAUSE_POINTS, current_id, list_snapshots
from etl.transform.build import build_snapshot
from report.source import SnapshotSource
from tests.builders import raw_export as rx


def build_killed_at(point: str, raw: Path, data: Path, tmp: Path) -> None:
    """``python -m etl build`` held at ``point`` of the publish, then SIGKILLed."""
    marker = tmp / f"reached-{point}"
    env = {**os.environ, "ETL_TEST_PAUSE_AT": point, "ETL_TEST_PAUSE_FILE": str(marker)}
    cmd = [sys.executable, "-m", "etl", "build", "--raw", str(raw), "--data-dir", str(data)]
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while not marker.exists():  # the build has to read, transform and write first
            if proc.poll() is not None:
                pytest.fail(f"the build ended before {point}: {proc.stderr.read().decode()}")
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("point", PAUSE_POINTS)
def test_a_publish_killed_at_any_step_leaves_the_previous_snapshot_serving(tmp_path, point):
    config = load_config()
    raw, data = rx.write(tmp_path / "raw"), tmp_path / "data"
    snaps = data / "snapshots"
    first = build_snapshot(raw, config, data)

    build_killed_at(point, raw, data, tmp_path)

    assert current_id(snaps) == first.name
    info = SnapshotSource(snaps).get()  # what the report serves
    assert info is not None and info.snap.id == first.name and info.snap.read("deals").height == 9
    left = {p.name for p in snaps.iterdir()} - {first.name, CURRENT}
    # What the killed process leaves: its staged folder, or its complete folder not yet named by
    # CURRENT (and the new pointer it had not switched to yet).
    staged = [name for name in left if name.startswith(".tmp-")]
    orphans = [name for name in list_snapshots(snaps) if name != first.name]
    assert (len(staged), len(orphans)) == ((1, 0) if point == "staged" else (0, 1))
    assert (f"{CURRENT}.tmp" in left) == (point == "pointer_written")

    second = build_snapshot(raw, config, data)
    assert current_id(snaps) == second.name and SnapshotSource(snaps).get().snap.id == second.name
    assert not list(snaps.glob(".tmp-*")) and not (snaps / f"{CURRENT}.tmp").exists()
    assert set(list_snapshots(snaps)) <= {first.name, second.name, *left}  # an orphan is kept like any old one
