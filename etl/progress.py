"""Progress of a pull / refresh: a JSON file the report's admin page polls, and terminal lines.

The file is rewritten atomically (tmp + ``os.replace``) on every change, so a reader never sees a
half-written object.  Shape (issue 6 contract)::

    {"refresh_id", "pid", "state": running|succeeded|failed|cancelled, "stage": pull|build|publish|done,
     "collection", "collections": {name: {"records", "requests", "done"}}, "step": null | {"key",
     "index", "total", "count", "part": null | [done, of]}, "message", "error":
     null | {"kind", "message"}, "snapshot_id", "started_at", "updated_at"}
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from etl.diskio import disk_message

#: Russian names of collections for messages.
COLLECTION_RU = {
    "account": "аккаунт",
    "users": "пользователи",
    "pipelines": "воронки",
    "lead_fields": "поля сделок",
    "leads": "сделки",
    "contacts": "контакты",
    "events": "события",
    "lead_notes": "примечания сделок",
    "contact_notes": "примечания контактов",
    "tasks": "задачи",
}


#: The build's steps in order: ``etl.transform.build`` reports each (with a count of what it
#: handles), the admin's bar and text read them from the progress file's ``step``.
BUILD_STEPS: tuple[str, ...] = ("read", "deals", "entries", "touches", "tasks", "facts", "write", "publish")
#: Steps that belong to the "publish" stage (the tables are written, then switched to).
PUBLISH_STEPS: tuple[str, ...] = ("write", "publish")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def new_refresh_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def write_atomic(path: Path, value: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(value, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_progress(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class Progress:
    """Tracks one run; every change rewrites the progress file and (sometimes) prints a line."""

    def __init__(
        self,
        path: Path | None,
        *,
        refresh_id: str | None = None,
        echo: TextIO | None = None,
        echo_every_s: float = 5.0,
    ) -> None:
        self.path = path
        self.echo = echo
        self.echo_every_s = echo_every_s
        self._last_echo = time.monotonic()  # a "…" line only for collections taking longer than echo_every_s
        self.state: dict[str, Any] = {
            "refresh_id": refresh_id or new_refresh_id(),
            "pid": os.getpid(),
            "state": "running",
            "stage": "pull",
            "collection": None,
            "collections": {},
            "message": "выгрузка из amoCRM",
            "error": None,
            "snapshot_id": None,
            "started_at": now_iso(),
            "updated_at": now_iso(),
        }
        self.write_failed = False
        if self.path is not None:  # a progress file that cannot be written at the start is an error
            write_atomic(self.path, self.state)

    # -- file ---------------------------------------------------------------------------------
    def _write(self) -> None:
        self.state["updated_at"] = now_iso()
        if self.path is not None:
            try:
                write_atomic(self.path, self.state)
            except OSError as exc:
                # A full disk must not turn into a crash of the run it reports on: the run goes on
                # (and fails on its own writes, with its own message); say it once on stderr.
                if not self.write_failed:
                    print(f"progress file not written: {disk_message(exc, self.path)}", file=sys.stderr, flush=True)
                self.write_failed = True

    def _print(self, line: str) -> None:
        if self.echo is not None:
            print(line, file=self.echo, flush=True)

    def say(self, message: str) -> None:
        self.state["message"] = message
        self._write()
        self._print(message)

    # -- pull callbacks (etl.extract.pull.PullProgress) -------------------------------------------------
    def collection_started(self, name: str) -> None:
        self.state["stage"] = "pull"
        self.state["collection"] = name
        self.state["collections"][name] = {"records": 0, "requests": 0, "done": False}
        self.state["message"] = f"выгрузка: {COLLECTION_RU.get(name, name)}"
        self._write()

    def collection_update(self, name: str, records: int, requests: int) -> None:
        entry = self.state["collections"].setdefault(name, {"records": 0, "requests": 0, "done": False})
        entry.update(records=records, requests=requests)
        self.state["message"] = f"выгрузка: {COLLECTION_RU.get(name, name)} — {records} записей, {requests} запросов"
        self._write()
        now = time.monotonic()
        if now - self._last_echo >= self.echo_every_s:
            self._last_echo = now
            self._print(f"  {name}: {records} записей, {requests} запросов …")

    def collection_done(self, name: str, records: int, requests: int) -> None:
        self.state["collections"][name] = {"records": records, "requests": requests, "done": True}
        self.state["collection"] = None
        self._write()
        self._print(f"  {name}: {records} записей, {requests} запросов ✓")

    # -- stages and endings -------------------------------------------------------------------
    def stage(self, stage: str, message: str) -> None:
        self.state["stage"] = stage
        self.state["collection"] = None
        self.say(message)

    def build_step(
        self, message: str, *, step: str, count: int | None = None, part: tuple[int, int] | None = None
    ) -> None:
        """One build step started (``step`` of :data:`BUILD_STEPS`): ``count`` = rows it handles,
        ``part`` = (done, of) within the step (files read)."""
        self.state["stage"] = "publish" if step in PUBLISH_STEPS else "build"
        self.state["collection"] = None
        self.state["step"] = {
            "key": step,
            "index": BUILD_STEPS.index(step) + 1,
            "total": len(BUILD_STEPS),
            "count": count,
            "part": list(part) if part else None,
        }
        self.say(message)

    def finish(self, state: str, stage: str, message: str, snapshot_id: str | None = None) -> None:
        self.state.update(state=state, stage=stage, message=message, collection=None)
        if snapshot_id is not None:
            self.state["snapshot_id"] = snapshot_id
        self._write()

    def fail(self, kind: str, message: str) -> None:
        self.state.update(state="failed", message=message, collection=None, error={"kind": kind, "message": message})
        self._write()
