"""A refresh whose data folder refuses writes: full disk, read-only folder (issue 13).

As root the refresh folder is a real tmpfs of 64 KiB, filled to the last page (ENOSPC) or remounted
read-only (EROFS); otherwise the same errors are raised by a patched ``Path.write_text`` that, like
a full disk, leaves the 0-byte temp file behind for the code to clean up.  Either way the command
line and the HTTP API must end with the reason in words, no traceback and no temp file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import pathlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from admin_fixtures import ADMIN_PASSWORD, clean_environ, make_app

from report.admin import jobs
from report.admin.__main__ import main as admin_cli
from tests.builders.disk import fill

OLD_AUDIT_LINE = '{"refresh_id": "20261101T000000Z-000000", "result": "succeeded"}\n'
AS_ROOT = os.geteuid() == 0


@contextlib.contextmanager
def refused_writes(refresh_dir: Path, kind: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The refresh folder refuses new data with ``kind`` (ENOSPC or EROFS); audit.jsonl exists."""
    refresh_dir.mkdir(parents=True, exist_ok=True)
    if not AS_ROOT:
        (refresh_dir / "audit.jsonl").write_text(OLD_AUDIT_LINE, encoding="utf-8")
        real = pathlib.Path.write_text

        def failing(self: Path, *args, **kwargs):
            if self.parent == refresh_dir:
                real(self, "", encoding="utf-8")  # the 0-byte file a full disk leaves
                raise OSError(kind, os.strerror(kind), str(self))
            return real(self, *args, **kwargs)

        monkeypatch.setattr(pathlib.Path, "write_text", failing)
        yield
        return
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(refresh_dir)], check=True)
    try:
        (refresh_dir / "audit.jsonl").write_text(OLD_AUDIT_LINE, encoding="utf-8")
        (refresh_dir / "lock").touch()
        if kind == errno.ENOSPC:
            fill(refresh_dir)
        else:
            subprocess.run(["mount", "-o", "remount,ro", str(refresh_dir)], check=True)
        yield
    finally:
        subprocess.run(["umount", "-l", str(refresh_dir)], check=True)


def leftovers(refresh_dir: Path) -> list[str]:
    return sorted(p.name for p in refresh_dir.iterdir() if p.name not in ("audit.jsonl", "lock", "filler"))


def audit_lines(refresh_dir: Path) -> list[str]:
    return (refresh_dir / "audit.jsonl").read_text(encoding="utf-8").splitlines()


def test_a_full_disk_ends_the_cli_refresh_with_a_message_and_an_audit_line(data_dir, monkeypatch, capsys):
    refresh_dir = data_dir / "refresh"
    with refused_writes(refresh_dir, errno.ENOSPC, monkeypatch):
        code = admin_cli(["refresh", "--data-dir", str(data_dir)])
        err = capsys.readouterr().err
        assert code == 1
        assert "нет места на диске в папке данных" in err and "Traceback" not in err
        assert leftovers(refresh_dir) == []  # no .current.json.*.tmp left behind
        lines = audit_lines(refresh_dir)
        # The audit line still fits in the log's last page (tmpfs, like most file systems, allocates
        # by page); it says who tried and why it failed.
        assert len(lines) == 2 and '"kind": "disk"' in lines[1] and '"who": "cli"' in lines[1]
        assert not jobs.refresh_running(jobs.RefreshPaths.of(data_dir))


def test_a_full_disk_answers_507_over_http(admin_config, data_dir, monkeypatch):
    app = make_app(admin_config, data_dir, clean_environ(REPORT_ADMIN_PASSWORD=ADMIN_PASSWORD))
    client = app.server.test_client()
    refresh_dir = data_dir / "refresh"
    with refused_writes(refresh_dir, errno.ENOSPC, monkeypatch):
        resp = client.post("/admin/refresh", auth=("admin", ADMIN_PASSWORD))
        assert resp.status_code == 507 and resp.is_json
        assert resp.json["error"] == "storage_error" and "нет места на диске" in resp.json["message"]
        assert leftovers(refresh_dir) == []


def test_a_read_only_data_folder_answers_500_and_says_the_audit_is_lost(admin_config, data_dir, monkeypatch, capsys):
    app = make_app(admin_config, data_dir, clean_environ(REPORT_ADMIN_PASSWORD=ADMIN_PASSWORD))
    client = app.server.test_client()
    refresh_dir = data_dir / "refresh"
    with refused_writes(refresh_dir, errno.EROFS, monkeypatch):
        resp = client.post("/admin/refresh", auth=("admin", ADMIN_PASSWORD))
        assert resp.status_code == 500 and resp.is_json
        assert "только для чтения" in resp.json["message"]
        if AS_ROOT:  # a read-only mount takes no audit line either: that is said on stderr
            assert "the audit log could not be written either" in capsys.readouterr().err
            assert len(audit_lines(refresh_dir)) == 1
        code = admin_cli(["refresh", "--data-dir", str(data_dir)])
        assert code == 1 and "только для чтения" in capsys.readouterr().err
