"""A build whose data folder refuses writes half-way: a clear one-line error, nothing published.

The data folder is a small tmpfs (as root; tests/builders/disk.py), full or read-only by the time
the second build writes; the first snapshot must keep serving, with no staged folder or temp file
left, and the next build on a freed disk must publish.
"""

from __future__ import annotations

import errno
import os
import pathlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from etl.config import REPO_ROOT, load_config
from etl.snapshot.store import CURRENT, current_id, list_snapshots
from etl.transform.build import BuildError, build_snapshot
from tests.builders import raw_export as rx
from tests.builders.disk import refusing, small_disk


def leftovers(snaps: Path) -> list[str]:
    return sorted(p.name for p in snaps.iterdir() if p.name.startswith(".") or p.name == f"{CURRENT}.tmp")


@pytest.mark.parametrize("kind", [errno.ENOSPC, errno.EROFS], ids=["full", "read-only"])
def test_a_refused_write_during_the_build_names_the_path_and_keeps_current(tmp_path, kind):
    raw, data = rx.write(tmp_path / "raw"), tmp_path / "data"
    with small_disk(data) as disk:
        first = build_snapshot(raw, load_config(), data)
        snaps = data / "snapshots"
        with refusing(disk, kind) as words:
            cmd = [sys.executable, "-m", "etl", "build", "--raw", str(raw), "--data-dir", str(data)]
            r = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
            assert r.returncode == 1 and "Traceback" not in r.stderr
            (line,) = [line for line in r.stderr.splitlines() if line.startswith("build failed")]
            # A full disk fails on the first table; a read-only one (or no permission) on the
            # staged folder itself.
            written = r"/\.tmp-[^/]+/deals\.parquet" if words == "no space left on device" else r"/\.tmp-[^/ ]+$"
            assert re.search(f"snapshot not published: {words} while writing {re.escape(str(snaps))}{written}", line)
            assert current_id(snaps) == first.name and list_snapshots(snaps) == [first.name]
            assert leftovers(snaps) == []
        second = build_snapshot(raw, load_config(), data)  # room again: the next build publishes
        assert current_id(snaps) == second.name


def test_a_full_disk_at_the_manifest_is_a_disk_error(tmp_path, monkeypatch):
    # Simulated: the parquet tables fit, then the manifest's write fails as a full disk does,
    # leaving a 0-byte file behind.
    raw, data = rx.write(tmp_path / "raw"), tmp_path / "data"
    first = build_snapshot(raw, load_config(), data)
    real = pathlib.Path.write_text

    def full(self: Path, *args, **kwargs):
        if self.name == "manifest.json.tmp":
            real(self, "", encoding="utf-8")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "write_text", full)
    with pytest.raises(BuildError, match=r"no space left on device while writing \S+/\.tmp-\S+/manifest\.json\.tmp"):
        try:
            build_snapshot(raw, load_config(), data)
        except BuildError as exc:
            assert exc.kind == "disk"
            raise
    snaps = data / "snapshots"
    assert current_id(snaps) == first.name and leftovers(snaps) == []


def test_a_full_disk_at_the_switch_removes_the_new_folder(tmp_path, monkeypatch):
    # Simulated: everything is written and moved into place, then CURRENT.tmp cannot be written.
    raw, data = rx.write(tmp_path / "raw"), tmp_path / "data"
    first = build_snapshot(raw, load_config(), data)
    real_open = open

    def full_open(file, mode="r", *args, **kwargs):
        if str(file).endswith(f"{CURRENT}.tmp") and "w" in mode:
            real_open(file, "w").close()  # created, then the first block is refused
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", full_open)
    with pytest.raises(BuildError, match=f"no space left on device while writing \\S+/{CURRENT}\\.tmp"):
        build_snapshot(raw, load_config(), data)
    snaps = data / "snapshots"
    assert current_id(snaps) == first.name and list_snapshots(snaps) == [first.name]
    assert leftovers(snaps) == []
