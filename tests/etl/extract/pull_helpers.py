"""What the extract tests share: a client for an emulator, and the raw export read back as records.

Most tests run emulator and client at 100 requests/s (the emulator's limit set to match) to stay
fast; ``test_never_more_than_7_requests_in_any_second`` runs both at amoCRM's real 7/s.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from etl.extract.amo_client import (
    AmoClient,
    StaticToken,
)
from etl.extract.specs import EVENT_TYPES

FAST = 100.0
COLLECTIONS = (
    "users",
    "pipelines",
    "lead_fields",
    "leads",
    "contacts",
    "events",
    "lead_notes",
    "contact_notes",
    "tasks",
)


def client_for(emu, rate: float = FAST, **kw: Any) -> AmoClient:
    kw.setdefault("backoff_base_s", 0.01)
    kw.setdefault("timeout_s", 5)
    return AmoClient(emu.url, kw.pop("tokens", None) or StaticToken(emu.token), rate_limit_per_s=rate, **kw)


def raw_latest(raw: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """Per collection, id → the record with the greatest updated_at (the build's rule)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for name in COLLECTIONS:
        latest: dict[str, dict[str, Any]] = {}
        for line in (raw / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            key = str(rec["id"])
            if key not in latest or (rec.get("updated_at") or 0) >= (latest[key].get("updated_at") or 0):
                latest[key] = rec
        out[name] = latest
    return out


def served(emu) -> dict[str, dict[str, dict[str, Any]]]:
    """What the emulator serves now of what a pull asks for, keyed like raw_latest (leads include
    the trashed ones; events only of the types a pull asks for)."""
    out = {}
    for name in COLLECTIONS:
        records = emu.records(name) + (emu.records("deleted_leads") if name == "leads" else [])
        if name == "events":
            records = [r for r in records if r["type"] in EVENT_TYPES]
        out[name] = {str(r["id"]): r for r in records}
    return out


def export_files(raw: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(raw.iterdir())}
