"""The raw export writer: a view (or an account, chunk by chunk) as the raw export folder of DATA.md §1.

Written into a sibling temp folder and renamed into place, so a crash leaves nothing half-written.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from etl.extract.rawio import COLLECTIONS
from etl.simulated.timekit import iso, no_gc, to_ts

RAW_FILES = COLLECTIONS


def fast_encoder() -> Any:
    """Compact UTF-8 JSON of one record, as ``json.dumps(..., ensure_ascii=False, separators=(",", ":"))``.

    Calls the C encoder directly: ``JSONEncoder.encode`` builds a new one per call, which is half
    the cost of writing millions of small records.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pure-Python json: the slow, equivalent path
        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode

    def default(obj: Any) -> Any:
        raise TypeError(f"not JSON serialisable: {type(obj).__name__}")

    chunks = make(None, default, json.encoder.encode_basestring, None, ":", ",", False, False, True)
    return lambda obj: "".join(chunks(obj, 0))


class ExportWriter:
    """Writes a raw export into a temp folder beside ``out_dir``; :meth:`commit` renames it into place."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = Path(out_dir)
        if self.out_dir.exists() and not (
            self.out_dir.is_dir() and (not any(self.out_dir.iterdir()) or (self.out_dir / "export.json").is_file())
        ):  # replacing it would destroy something that is not a raw export
            raise FileExistsError(
                f"{self.out_dir} exists and is not a raw export folder (no export.json); not overwriting it"
            )
        self.out_dir.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.out_dir.name}.tmp-", dir=self.out_dir.parent))
        os.chmod(self.tmp, 0o755)
        self.encode = fast_encoder()
        self.files = {name: open(self.tmp / f"{name}.jsonl", "w", encoding="utf-8") for name in RAW_FILES}  # noqa: SIM115
        self.summary: dict[str, dict[str, Any]] = {name: {"records": 0, "cursor": None} for name in RAW_FILES}

    def add(self, name: str, records: list[dict[str, Any]]) -> None:
        """Records of a collection (``deleted_leads`` go to ``leads.jsonl``, as ``with=only_deleted`` shows them)."""
        if not records:
            return
        name = "leads" if name == "deleted_leads" else name
        enc = self.encode
        self.files[name].write("\n".join([enc(rec) for rec in records]) + "\n")
        info = self.summary[name]
        info["records"] += len(records)
        key = "created_at" if name == "events" else "updated_at"
        stamps = [stamp for rec in records if isinstance(stamp := rec.get(key), int)]
        if stamps:
            info["cursor"] = max(stamps) if info["cursor"] is None else max(info["cursor"], *stamps)

    def add_lines(self, name: str, lines: list[str], cursor: int | None) -> None:
        """Records already encoded (one JSON object per string) with their cursor."""
        if not lines:
            return
        self.files[name].write("\n".join(lines) + "\n")
        info = self.summary[name]
        info["records"] += len(lines)
        if cursor is not None:
            info["cursor"] = cursor if info["cursor"] is None else max(info["cursor"], cursor)

    def commit(self, account: dict[str, Any], source: str, pulled_at: datetime, extra: dict | None) -> None:
        for fh in self.files.values():
            fh.close()
        (self.tmp / "account.json").write_text(self.encode(account) + "\n", encoding="utf-8")
        meta = {"source": source, "pulled_at": iso(to_ts(pulled_at)), "collections": self.summary, **(extra or {})}
        (self.tmp / "export.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        if self.out_dir.exists():
            old = self.out_dir.parent / f".{self.out_dir.name}.old-{os.getpid()}"
            os.replace(self.out_dir, old)
            os.replace(self.tmp, self.out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(self.tmp, self.out_dir)

    def abort(self) -> None:
        for fh in self.files.values():
            fh.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def write_raw_export(
    out_dir: Path, view: dict[str, Any], *, source: str = "emulator", pulled_at: datetime, extra: dict | None = None
) -> None:
    """Write ``view`` (an :meth:`SynthAccount.as_of` result) as a raw export folder (DATA.md §1).

    Written into a sibling temp folder and renamed into place, so a crash leaves nothing half-written;
    an existing ``out_dir`` is replaced only once the new one is complete.  ``leads.jsonl`` holds the
    normal leads, then the deleted ones as ``with=only_deleted`` returns them.
    """
    writer = ExportWriter(out_dir)
    try:
        with no_gc():
            for name in RAW_FILES:
                writer.add(name, view.get(name) or [])
                if name == "leads":
                    writer.add(name, view.get("deleted_leads") or [])
        writer.commit(view["account"], source, pulled_at, extra)
    except BaseException:
        writer.abort()
        raise
