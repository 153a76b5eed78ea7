"""A view of the account held as record stores: what the emulator serves at one clock time.

Built without ever holding the whole view as dicts: the synthetic account emits its records chunk
by chunk (:meth:`~etl.simulated.account.SynthAccount.emit`, the same emitter the chunked raw export
uses), and a raw export folder is read line by line.  ``account`` stays a dict.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from etl.extract.amo_client import lenient_int
from etl.extract.rawio import COLLECTIONS
from etl.simulated.record_store import RecordStore, StoreBuilder

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


@dataclass
class StoreView:
    """``account`` as a dict, every collection as a :class:`RecordStore`."""

    account: dict[str, Any]
    stores: dict[str, RecordStore]

    def counts(self) -> dict[str, int]:
        return {key: len(self.stores.get(key) or ()) for key in VIEW_KEYS}

    def as_dict(self) -> dict[str, Any]:
        """The whole view as dicts (for tests and small accounts)."""
        view: dict[str, Any] = {"account": self.account}
        view.update({name: store.all_records() if (store := self.stores.get(name)) else [] for name in VIEW_KEYS})
        return view

    @property
    def nbytes(self) -> int:
        return sum(store.nbytes for store in self.stores.values())


class ViewBuilder:
    """A sink for :meth:`SynthAccount.emit` (``add``/``add_lines`` per collection) that fills record stores."""

    wants_records = True  # events as dicts: encoding them is cheaper than decoding their lines

    def __init__(self) -> None:
        self.builders: dict[str, StoreBuilder] = {}

    @property
    def summary(self) -> dict[str, dict[str, int]]:
        """Records so far per collection (as :class:`~etl.simulated.raw_export.ExportWriter` counts them)."""
        return {name: {"records": self._builder(name).count} for name in VIEW_KEYS}

    def _builder(self, name: str) -> StoreBuilder:
        return self.builders.setdefault(name, StoreBuilder())

    def add(self, name: str, records: list[dict[str, Any]]) -> None:
        self._builder(name).add(records)

    def add_lines(self, name: str, lines: list[str], cursor: int | None = None) -> None:
        self._builder(name).add_lines(lines)

    def finish(self, account: dict[str, Any]) -> StoreView:
        stores = {name: builder.finish() for name, builder in self.builders.items()}
        return StoreView(account, stores)


def view_of_dict(view: dict[str, Any]) -> StoreView:
    """A view given as dicts (a hand-made one, or :meth:`SynthAccount.as_of`'s)."""
    sink = ViewBuilder()
    for name in VIEW_KEYS:
        sink.add(name, list(view.get(name) or []))
    return sink.finish(view.get("account") or {})


def view_of_raw(raw_dir: Path, chunk: int = 50_000) -> StoreView:
    """A raw export folder: the latest record per ``str(id)`` (a later line with an ``updated_at`` as
    new or newer wins, in the first one's place), trashed leads apart; read line by line, never all
    dicts at once."""
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"raw export folder {raw_dir} does not exist")
    account_path = raw_dir / "account.json"
    account = json.loads(account_path.read_text(encoding="utf-8")) if account_path.is_file() else {}
    stores: dict[str, RecordStore] = {}
    for name in COLLECTIONS:
        path = raw_dir / f"{name}.jsonl"
        if not path.is_file():
            continue
        store, deleted = _read_latest(path, chunk)
        if name == "leads":
            stores["leads"] = store.subset(np.flatnonzero(~deleted))
            stores["deleted_leads"] = store.subset(np.flatnonzero(deleted))
        else:
            stores[name] = store
    return StoreView(account, stores)


def _read_latest(path: Path, chunk: int) -> tuple[RecordStore, np.ndarray]:
    """One JSONL file: (its latest record per ``str(id)``, which of them are ``is_deleted``)."""
    builder = StoreBuilder()
    seen: dict[str, tuple[int, int]] = {}  # str(id) → (position, updated_at or 0)
    deleted: list[bool] = []
    records: list[dict[str, Any]] = []
    lines: list[bytes] = []

    def flush() -> None:
        builder.add_decoded(records, lines)
        records.clear()
        lines.clear()

    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            line = raw.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{lineno}: not valid JSON: {exc.msg}") from exc
            key, stamp = str(rec.get("id")), lenient_int(rec.get("updated_at")) or 0
            old = seen.get(key)
            if old is None:
                seen[key] = (builder.count + len(records), stamp)
                deleted.append(bool(rec.get("is_deleted")))
                records.append(rec)
                lines.append(line)
                if len(records) >= chunk:
                    flush()
            elif stamp >= old[1]:
                seen[key] = (old[0], stamp)
                deleted[old[0]] = bool(rec.get("is_deleted"))
                if old[0] >= builder.count:  # still in this chunk
                    records[old[0] - builder.count], lines[old[0] - builder.count] = rec, line
                else:
                    builder.replace(old[0], rec, line)
    flush()
    return builder.finish(), np.array(deleted, dtype=bool)
