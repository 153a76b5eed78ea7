"""A pull whose raw folder refuses writes: kind ``disk``, the path and the cause, the export untouched.

The first pull fills the export; the second (a day later on the emulator's clock) meets a full
disk while staging (a real tmpfs as root, tests/builders/disk.py), or a full disk half-way through
appending to the raw files (simulated), and must leave every file of the export byte for byte as
it was, with no staging folder or temp file.
"""

from __future__ import annotations

import errno
import os
import re

import pytest

from etl.extract import staging
from etl.extract.amo_client import AmoError
from etl.extract.pull import pull
from etl.simulated.emulator import start_emulator
from tests.builders.disk import refusing, small_disk
from tests.etl.extract.pull_helpers import FAST, client_for, export_files


def test_a_full_raw_folder_while_staging_is_a_disk_error(tmp_path, tiny):
    raw = tmp_path / "raw"
    with small_disk(raw) as disk, start_emulator(tiny, rate_limit_per_s=FAST) as emu:
        with client_for(emu) as client:
            pull(raw, client)
        before = export_files(raw)
        emu.advance(86400)
        with refusing(disk, errno.ENOSPC) as words, client_for(emu) as client, pytest.raises(AmoError) as err:
            pull(raw, client)
        assert err.value.kind == "disk"
        # Full: the first staged collection's file; without root (no permission): the staging folder.
        staged = r"/\.pull-[^/]+/users\.jsonl$" if words == "no space left on device" else r"/\.pull-[^/ ]+$"
        assert re.search(f"{words} while writing {re.escape(str(raw))}{staged}", err.value.message)
        assert export_files(raw) == before


def test_a_full_disk_half_way_through_the_commit_cuts_the_raw_files_back(tmp_path, tiny, monkeypatch):
    with start_emulator(tiny, rate_limit_per_s=FAST) as emu:
        with client_for(emu) as client:
            pull(tmp_path, client)
        before = export_files(tmp_path)
        emu.advance(3 * 86400)
        real_append = staging._append

        def events_half_written(src, dst):
            if dst.name != "events.jsonl":
                return real_append(src, dst)  # leads, contacts … are appended for real first
            with dst.open("ab") as fh:
                fh.write(src.read_bytes()[: src.stat().st_size // 2])  # half a file, a cut line
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))

        monkeypatch.setattr(staging, "_append", events_half_written)
        with client_for(emu) as client, pytest.raises(AmoError) as err:
            pull(tmp_path, client)
    assert err.value.kind == "disk"
    assert re.search(r"no space left on device while writing \S+/events\.jsonl$", err.value.message)
    assert export_files(tmp_path) == before  # leads.jsonl etc. cut back, cursors not moved
