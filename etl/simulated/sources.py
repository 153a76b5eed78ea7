"""What the emulator serves: an *account source*, a view of the account at a given clock time.

A fixed view (a hand-made dict, or a raw export folder read back) ignores the clock; the synthetic
account's ``as_of(t)`` view changes as the emulator's clock advances.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from etl.extract.amo_client import lenient_int
from etl.extract.rawio import COLLECTIONS

#: The collections of a view (besides ``account``); trashed leads are apart from the others.
VIEW_KEYS = (
    "users",
    "pipelines",
    "lead_fields",
    "leads",
    "deleted_leads",
    "contacts",
    "events",
    "lead_notes",
    "contact_notes",
    "tasks",
)


class AccountSource(Protocol):
    """What the emulator serves: a view of the account at a given clock time."""

    def initial_clock(self) -> datetime: ...

    def view(self, clock: datetime) -> dict[str, Any]: ...


@dataclass
class StaticSource:
    """A fixed view (a hand-made dict or a raw export); the clock changes nothing."""

    data: dict[str, Any]
    clock: datetime | None = None

    def initial_clock(self) -> datetime:
        return self.clock or datetime.now(UTC).replace(microsecond=0)

    def view(self, clock: datetime) -> dict[str, Any]:
        return self.data


@dataclass
class AsOfSource:
    """Anything with ``as_of(t)`` and ``end`` (the synthetic account): the business goes on."""

    account: Any
    clock: datetime | None = None

    def initial_clock(self) -> datetime:
        return self.clock or self.account.end

    def view(self, clock: datetime) -> dict[str, Any]:
        return self.account.as_of(clock)


def as_source(obj: Any, clock: datetime | None = None) -> AccountSource:
    """Accept a view dict, an account with ``as_of``, or a ready source."""
    if isinstance(obj, dict):
        return StaticSource(obj, clock)
    if hasattr(obj, "as_of"):
        return AsOfSource(obj, clock)
    if hasattr(obj, "view") and hasattr(obj, "initial_clock"):
        return obj
    raise TypeError(f"cannot serve {type(obj).__name__}: expected a view dict or an account with as_of()")


def load_raw_view(raw_dir: Path) -> dict[str, Any]:
    """Read a raw export folder into a view: latest record per id, trashed leads apart."""
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"raw export folder {raw_dir} does not exist")
    view: dict[str, Any] = {key: [] for key in VIEW_KEYS}
    account_path = raw_dir / "account.json"
    view["account"] = json.loads(account_path.read_text(encoding="utf-8")) if account_path.is_file() else {}
    for name in COLLECTIONS:
        path = raw_dir / f"{name}.jsonl"
        if not path.is_file():
            continue
        latest: dict[Any, dict[str, Any]] = {}
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{lineno}: not valid JSON: {exc.msg}") from exc
                key = str(rec.get("id"))
                old = latest.get(key)
                if old is None or (lenient_int(rec.get("updated_at")) or 0) >= (
                    lenient_int(old.get("updated_at")) or 0
                ):
                    latest[key] = rec
        records = list(latest.values())
        if name == "leads":
            view["leads"] = [rec for rec in records if not rec.get("is_deleted")]
            view["deleted_leads"] = [rec for rec in records if rec.get("is_deleted")]
        else:
            view[name] = records
    return view
