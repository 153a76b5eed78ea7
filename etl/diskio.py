"""A write the disk refuses (full, read-only, no permission), said with the path and the cause.

Python's ``write`` on a full disk raises ``OSError(ENOSPC)`` without a file name (and polars hides
it entirely, so snapshot tables are encoded in memory and written by Python).  :func:`writing`
adds the file name, and :func:`disk_message` says it in one line ("no space left on device while
writing …"), which the build and the refresh report with the error kind ``disk``.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["DISK_ERRNOS", "disk_message", "is_disk_error", "writing"]

#: The errors that mean "this folder does not take writes", with the words a message uses.
DISK_ERRNOS: dict[int, str] = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EIO: "input/output error",
}


def is_disk_error(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in DISK_ERRNOS


def disk_message(exc: OSError, path: Path | str | None = None) -> str:
    """``<cause> while writing <path>``: the path given, else the one the error names."""
    cause = DISK_ERRNOS.get(exc.errno or 0) or (exc.strerror or str(exc)).lower()
    where = path if path is not None else exc.filename
    return f"{cause} while writing {where}" if where else cause


@contextmanager
def writing(path: Path | str) -> Iterator[None]:
    """Re-raise a refused write inside the block as an ``OSError`` naming ``path``."""
    try:
        yield
    except OSError as exc:
        if exc.filename is None and exc.errno is not None:
            raise OSError(exc.errno, exc.strerror or os.strerror(exc.errno), str(path)) from exc
        raise
