"""The refresh folder ``<data>/refresh/`` and its files (see ``jobs`` for what each holds):
paths, atomic JSON writes, the append-only audit log. Split out of ``jobs``, which runs the job.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REFRESH_DIR = "refresh"


@dataclass(frozen=True)
class RefreshPaths:
    root: Path

    @classmethod
    def of(cls, data_dir: Path) -> RefreshPaths:
        return cls(Path(data_dir) / REFRESH_DIR)

    @property
    def lock(self) -> Path:
        return self.root / "lock"

    @property
    def current(self) -> Path:
        return self.root / "current.json"

    @property
    def last(self) -> Path:
        return self.root / "last.json"

    @property
    def audit(self) -> Path:
        return self.root / "audit.jsonl"

    def progress(self, refresh_id: str) -> Path:
        return self.root / f"{refresh_id}.json"

    def log(self, refresh_id: str) -> Path:
        return self.root / f"{refresh_id}.log"

    def cancel(self, refresh_id: str) -> Path:
        return self.root / f"{refresh_id}.cancel"


def utc_now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from a file written atomically by someone else; None if absent or unreadable."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def write_json(path: Path, value: Mapping[str, Any]) -> None:
    """Write a JSON file atomically (temp file + ``os.replace``): readers never see half of it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(3)}.tmp")
    try:
        tmp.write_text(json.dumps(value, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk must not leave a 0-byte temp file behind
        raise


def append_audit(paths: RefreshPaths, record: Mapping[str, Any]) -> None:
    """One JSON line per refresh, one ``write`` on an O_APPEND descriptor (no interleaving)."""
    line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    fd = os.open(paths.audit, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def read_audit(paths: RefreshPaths) -> list[dict[str, Any]]:
    try:
        lines = paths.audit.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        with contextlib.suppress(ValueError):
            out.append(json.loads(line))
    return out
