"""What the emulator serves: an *account source*, a view of the account at a given clock time.

A fixed view (a hand-made dict, or a raw export folder read back) ignores the clock; the synthetic
account's ``as_of(t)`` view changes as the emulator's clock advances.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from etl.simulated.view_store import StoreView, ViewBuilder, view_of_dict, view_of_raw


class AccountSource(Protocol):
    """What the emulator serves: a view of the account at a given clock time.

    ``store_view`` is what the emulator holds (record stores, not dicts); ``view_key`` says which
    clock times share one view (None: every one).
    """

    def initial_clock(self) -> datetime: ...

    def view(self, clock: datetime) -> dict[str, Any]: ...

    def store_view(self, clock: datetime) -> StoreView: ...

    def view_key(self, clock: datetime) -> datetime | None: ...


@dataclass
class StaticSource:
    """A fixed view (a hand-made dict or a raw export); the clock changes nothing."""

    data: dict[str, Any]
    clock: datetime | None = None

    def initial_clock(self) -> datetime:
        return self.clock or datetime.now(UTC).replace(microsecond=0)

    def view(self, clock: datetime) -> dict[str, Any]:
        return self.data

    def store_view(self, clock: datetime) -> StoreView:
        return view_of_dict(self.data)

    def view_key(self, clock: datetime) -> datetime | None:
        return None


@dataclass
class RawSource:
    """A raw export folder, read into record stores line by line (``--raw``); the clock changes nothing."""

    raw_dir: Path
    clock: datetime | None = None

    def initial_clock(self) -> datetime:
        return self.clock or datetime.now(UTC).replace(microsecond=0)

    def view(self, clock: datetime) -> dict[str, Any]:
        return load_raw_view(self.raw_dir)

    def store_view(self, clock: datetime) -> StoreView:
        return view_of_raw(self.raw_dir)

    def view_key(self, clock: datetime) -> datetime | None:
        return None


@dataclass
class AsOfSource:
    """Anything with ``as_of(t)`` and ``end`` (the synthetic account): the business goes on."""

    account: Any
    clock: datetime | None = None

    def initial_clock(self) -> datetime:
        return self.clock or self.account.end

    def view(self, clock: datetime) -> dict[str, Any]:
        return self.account.as_of(clock)

    def store_view(self, clock: datetime) -> StoreView:
        """The view at ``clock`` built chunk by chunk (``as_of`` would hold ~4.7 GB of dicts a year)."""
        if not hasattr(self.account, "emit"):  # a small hand-made account: as_of is fine
            return view_of_dict(self.account.as_of(clock))
        sink = ViewBuilder()
        self.account.emit(sink, clock)
        return sink.finish(self.account.account_record())

    def view_key(self, clock: datetime) -> datetime | None:
        return clock


def as_source(obj: Any, clock: datetime | None = None) -> AccountSource:
    """Accept a view dict, an account with ``as_of``, or a ready source."""
    if isinstance(obj, dict):
        return StaticSource(obj, clock)
    if hasattr(obj, "as_of"):
        return AsOfSource(obj, clock)
    if hasattr(obj, "store_view") and hasattr(obj, "initial_clock"):
        return obj
    raise TypeError(f"cannot serve {type(obj).__name__}: expected a view dict or an account with as_of()")


def load_raw_view(raw_dir: Path) -> dict[str, Any]:
    """Read a raw export folder into a view of dicts: latest record per id, trashed leads apart.

    For tests and small folders; the emulator itself holds a folder as record stores (``RawSource``).
    """
    return view_of_raw(Path(raw_dir)).as_dict()
