"""A folder that refuses writes, for the disk-fault tests of the pull, the build and the refresh.

As root the folder is a real tmpfs: filled to its last page (ENOSPC, "no space left on device") or
remounted read-only (EROFS).  Without root the folder is made read-only by its mode, which gives a
real EACCES ("permission denied") for both.  :func:`refusing` yields the words the error will use.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

AS_ROOT = os.geteuid() == 0
WORDS = {
    errno.ENOSPC: "no space left on device",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
}


def fill(folder: Path) -> None:
    """Write a filler file until the file system has no page left."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"\0" * 65536)
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"\0" * 512)
    finally:
        os.close(fd)


@contextlib.contextmanager
def small_disk(folder: Path, size: str = "8m") -> Iterator[Path]:
    """As root: ``folder`` is a tmpfs of ``size`` for the block (its old content copied in and back)."""
    if not AS_ROOT:
        yield folder
        return
    keep = Path(tempfile.mkdtemp(prefix="disk-keep-"))
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(folder, keep, dirs_exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    try:
        shutil.copytree(keep, folder, dirs_exist_ok=True)
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)
        shutil.rmtree(keep, ignore_errors=True)


@contextlib.contextmanager
def refusing(folder: Path, kind: int) -> Iterator[str]:
    """Inside :func:`small_disk`: ``folder`` refuses new data with ``kind`` (ENOSPC or EROFS) as
    root, EACCES otherwise; yields the words the error message uses."""
    if not AS_ROOT:
        modes = {p: p.stat().st_mode for p in [folder, *folder.rglob("*")] if p.is_dir()}
        for p in modes:
            p.chmod(0o555)
        try:
            yield WORDS[errno.EACCES]
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
        return
    if kind == errno.ENOSPC:
        fill(folder)
        try:
            yield WORDS[kind]
        finally:
            (folder / "filler").unlink()
        return
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
    try:
        yield WORDS[kind]
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(folder)], check=True)
