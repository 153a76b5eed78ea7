"""``python -m etl pull``: read an amoCRM account (or the emulator) into a raw export (DATA.md §1).

Every collection is downloaded into a staging folder first; only when *all* of them are complete
are the records appended to the raw JSONL files and the cursors moved in ``export.json`` (written
atomically).  A failure or a cancel therefore leaves the previous export exactly as it was, and
the next pull repeats the same window: nothing lost, nothing counted twice (build dedupes by id).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import secrets
import shutil
import signal
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import requests

from etl.extract.amo_client import (
    AmoClient,
    AmoError,
    Cancelled,
    StaticToken,
    exchange_code,
    lenient_int,
    oauth_settings_from_env,
    tokens_from_env,
)

#: One-time OAuth authorization code (first run only; the token file holds the pair afterwards).
AUTH_CODE_ENV = "AMOCRM_AUTH_CODE"

#: Events the build needs (DATA.md §1) plus call/SMS events; other types are not pulled.
EVENT_TYPES = (
    "lead_added",
    "lead_deleted",
    "lead_restored",
    "lead_status_changed",
    "entity_responsible_changed",
    "task_added",
    "task_completed",
    "task_deleted",
    "task_deadline_changed",
    "incoming_call",
    "outgoing_call",
    "incoming_sms",
    "outgoing_sms",
)
#: Note types that are touches (calls and SMS).
NOTE_TYPES = ("call_in", "call_out", "sms_in", "sms_out")


@dataclass(frozen=True)
class Spec:
    """How one collection is read: endpoint, ``_embedded`` key, paging mode and cursor field."""

    name: str
    path: str
    key: str
    mode: str  # "object" | "unpaged" | "all" | "keyset" | "offset"
    field: str | None = None
    params: tuple[tuple[str, str], ...] = ()
    limit_cap: int = 250


SPECS: tuple[Spec, ...] = (
    Spec("account", "/api/v4/account", "", "object", params=(("with", "datetime_settings"),)),
    Spec("users", "/api/v4/users", "users", "all"),
    Spec("pipelines", "/api/v4/leads/pipelines", "pipelines", "unpaged"),
    Spec("lead_fields", "/api/v4/leads/custom_fields", "custom_fields", "all"),
    Spec("leads", "/api/v4/leads", "leads", "keyset", "updated_at", (("with", "contacts"),)),
    Spec("contacts", "/api/v4/contacts", "contacts", "keyset", "updated_at", (("with", "leads"),)),
    Spec("events", "/api/v4/events", "events", "offset", "created_at", (("filter[type]", ",".join(EVENT_TYPES)),), 100),
    Spec(
        "lead_notes",
        "/api/v4/leads/notes",
        "notes",
        "keyset",
        "updated_at",
        tuple(("filter[note_type][]", t) for t in NOTE_TYPES),
    ),
    Spec(
        "contact_notes",
        "/api/v4/contacts/notes",
        "notes",
        "keyset",
        "updated_at",
        tuple(("filter[note_type][]", t) for t in NOTE_TYPES),
    ),
    Spec("tasks", "/api/v4/tasks", "tasks", "keyset", "updated_at"),
)
COLLECTIONS: tuple[str, ...] = tuple(s.name for s in SPECS)
DELETED = "leads_deleted"  # the with=only_deleted pass: its own cursor inside export.json's leads entry


class PullProgress(Protocol):
    """Where the pull reports what it is doing (terminal + progress file, see etl.progress)."""

    def collection_started(self, name: str) -> None: ...

    def collection_update(self, name: str, records: int, requests: int) -> None: ...

    def collection_done(self, name: str, records: int, requests: int) -> None: ...


@dataclass
class CollectionResult:
    records: int = 0
    requests: int = 0
    cursor: int | None = None


@dataclass
class PullResult:
    collections: dict[str, CollectionResult] = field(default_factory=dict)
    requests: int = 0
    retries: int = 0
    status_429: int = 0
    started_at: str = ""
    finished_at: str = ""
    seconds: float = 0.0


def _now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def read_export_json(raw_dir: Path) -> dict[str, Any]:
    path = raw_dir / "export.json"
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AmoError("data", f"{path}: не читается ({exc}) / export.json unreadable") from exc
    if not isinstance(value, dict):
        raise AmoError("data", f"{path}: ожидался объект JSON / expected a JSON object")
    return value


def write_json_atomic(path: Path, value: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(value, fh, ensure_ascii=False, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _latest_lines(path: Path) -> dict[str, str]:
    """id → canonical JSON of its latest line (small reference collections only)."""
    out: dict[str, str] = {}
    if not path.is_file():
        return out
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                with contextlib.suppress(ValueError):
                    rec = json.loads(line)
                    out[str(rec.get("id"))] = json.dumps(rec, sort_keys=True, ensure_ascii=False)
    return out


class _Staged:
    """One collection's staging file, deduplicating by id as it goes (events by string id)."""

    def __init__(self, path: Path, field: str | None, known: Any = None) -> None:
        self.path = path
        self.field = field
        self.fh = path.open("w", encoding="utf-8")
        # Records the previous pull already wrote inside the overlap window: not written twice.
        self.seen: dict[str, int] = {str(k): int(v) for k, v in known.items()} if isinstance(known, dict) else {}
        self.count = 0
        self.cursor: int | None = None

    def add(self, rec: dict[str, Any]) -> None:
        rid = str(rec.get("id"))
        ts = lenient_int(rec.get(self.field)) if self.field else None
        version = ts if ts is not None else -1
        if rid in self.seen and self.seen[rid] >= version:
            return  # a page boundary re-read, or a record seen twice while data moved
        self.seen[rid] = version
        self.fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        self.count += 1
        if ts is not None and (self.cursor is None or ts > self.cursor):
            self.cursor = ts

    def close(self) -> None:
        self.fh.close()


def _start(cursor: Any, overlap_s: int, full: bool) -> int | None:
    value = lenient_int(cursor)
    if full or value is None:
        return None
    return max(0, value - overlap_s)


def pull(
    raw_dir: Path,
    client: AmoClient,
    *,
    full: bool = False,
    overlap_s: int = 300,
    page_size: int = 250,
    progress: PullProgress | None = None,
    source: str = "",
    collections: tuple[str, ...] = COLLECTIONS,
) -> PullResult:
    """Pull every collection into ``raw_dir`` (append-only JSONL + export.json cursors).

    Raises :class:`AmoError` (what failed) or :class:`Cancelled`; in both cases the raw export
    is left as it was.
    """
    raw_dir = Path(raw_dir)
    raw_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(raw_dir):
        return _pull_locked(raw_dir, client, full, overlap_s, page_size, progress, source, collections)


@contextlib.contextmanager
def _exclusive(raw_dir: Path) -> Iterator[None]:
    """One pull per raw export at a time (a cron job and the admin button may overlap)."""
    fd = os.open(raw_dir / ".pull.lock", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise AmoError(
                "data", f"в {raw_dir} уже идёт другая выгрузка / another pull into this folder is running"
            ) from exc
        yield
    finally:
        os.close(fd)


def _pull_locked(
    raw_dir: Path,
    client: AmoClient,
    full: bool,
    overlap_s: int,
    page_size: int,
    progress: PullProgress | None,
    source: str,
    collections: tuple[str, ...],
) -> PullResult:
    export = read_export_json(raw_dir)
    old = export.get("collections") if isinstance(export.get("collections"), dict) else {}
    for stale in raw_dir.glob(".pull-*"):  # left by a pull that was killed (we hold the lock)
        shutil.rmtree(stale, ignore_errors=True)
    staging = raw_dir / f".pull-{os.getpid()}-{secrets.token_hex(3)}"
    staging.mkdir()
    result = PullResult(started_at=_now_iso())
    base = (client.stats.requests, client.stats.retries, client.stats.status_429)
    started = datetime.now(UTC)
    staged: dict[str, _Staged] = {}
    account: dict[str, Any] | None = None
    try:
        for spec in SPECS:
            if spec.name not in collections:
                continue
            if progress:
                progress.collection_started(spec.name)
            before = client.stats.requests
            res = CollectionResult()
            limit = min(page_size, spec.limit_cap)
            prev = old.get(spec.name) if isinstance(old.get(spec.name), dict) else {}

            def report(name: str = spec.name, r: CollectionResult = res, b: int = before) -> None:
                r.requests = client.stats.requests - b
                if progress:
                    progress.collection_update(name, r.records, r.requests)

            if spec.mode == "object":
                account = client.get(spec.path, list(spec.params)) or {}
                _check_same_account(raw_dir, account)
                res.records = 1
                report()
            else:
                st = _Staged(staging / f"{spec.name}.jsonl", spec.field, None if full else prev.get("overlap_ids"))
                staged[spec.name] = st
                try:
                    for rows in _walk(client, spec, limit, _start(prev.get("cursor"), overlap_s, full)):
                        for rec in rows:
                            st.add(rec)
                        res.records = st.count
                        report()
                except AmoError as exc:
                    # /users may be admin-only (AMOCRM.md): keep the users we have and go on.
                    if not (spec.name == "users" and exc.status == 403):
                        raise
                    st.close()
                    del staged[spec.name]
                    if progress and hasattr(progress, "say"):
                        progress.say("нет прав на список пользователей (403): оставлены прежние / users not readable")
                if spec.name == "leads":
                    deleted = _Staged(
                        staging / "leads_deleted.jsonl", "updated_at", None if full else prev.get("deleted_overlap_ids")
                    )
                    staged[DELETED] = deleted
                    start = _start(prev.get("deleted_cursor") or prev.get("cursor"), overlap_s, full)
                    walk = client.iter_keyset_pages(
                        spec.path, [("with", "only_deleted")], "leads", limit, "updated_at", start
                    )
                    for rows in walk:
                        for rec in rows:
                            deleted.add(rec)
                        res.records = st.count + deleted.count
                        report()
                    deleted.close()
                st.close()
                res.cursor = st.cursor
            res.requests = client.stats.requests - before
            result.collections[spec.name] = res
            if progress:
                progress.collection_done(spec.name, res.records, res.requests)
        # All collections complete: commit.  Cancels are ignored from here on (no half commits).
        _commit(raw_dir, staging, staged, account, export, source, overlap_s)
    except BaseException:
        for st in staged.values():
            with contextlib.suppress(Exception):
                st.close()
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    result.requests = client.stats.requests - base[0]
    result.retries = client.stats.retries - base[1]
    result.status_429 = client.stats.status_429 - base[2]
    result.finished_at = _now_iso()
    result.seconds = (datetime.now(UTC) - started).total_seconds()
    return result


def _walk(client: AmoClient, spec: Spec, limit: int, start: int | None) -> Iterator[list[dict[str, Any]]]:
    params = list(spec.params)
    if spec.mode == "unpaged":
        body = client.get(spec.path, params)
        rows = ((body or {}).get("_embedded") or {}).get(spec.key) or []
        if rows:
            yield rows
    elif spec.mode == "all":
        yield from client.iter_offset_pages(spec.path, params, spec.key, limit)
    elif spec.mode == "keyset":
        yield from client.iter_keyset_pages(spec.path, params, spec.key, limit, spec.field or "updated_at", start)
    else:  # offset paging with a from filter: events never change, so offsets are safe
        if start is not None:
            params.append((f"filter[{spec.field}][from]", str(start)))
        yield from client.iter_offset_pages(spec.path, params, spec.key, limit)


def _check_same_account(raw_dir: Path, account: dict[str, Any]) -> None:
    path = raw_dir / "account.json"
    if not path.is_file() or not account.get("id"):
        return
    with contextlib.suppress(OSError, ValueError):
        old_id = json.loads(path.read_text(encoding="utf-8")).get("id")
        if old_id and str(old_id) != str(account.get("id")):
            raise AmoError(
                "data",
                f"сырая выгрузка {raw_dir} принадлежит другому аккаунту ({old_id}, а не {account.get('id')}) / "
                "the raw export belongs to another account: use another --out folder",
            )


def _append(src: Path, dst: Path) -> int:
    """Append a staged file to a raw JSONL file; lines appended."""
    if not src.is_file() or src.stat().st_size == 0:
        dst.touch(exist_ok=True)
        return 0
    lines = 0
    with src.open("rb") as fin, dst.open("ab") as fout:
        for chunk in iter(lambda: fin.read(1 << 20), b""):
            fout.write(chunk)
            lines += chunk.count(b"\n")
        fout.flush()
        os.fsync(fout.fileno())
    return lines


def _tail(seen: dict[str, int], since: int) -> dict[str, int]:
    """id → version of the records the next pull's overlap window will read again."""
    return {k: v for k, v in seen.items() if v >= since}


def _count_lines(path: Path) -> int:
    if not path.is_file():
        return 0
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))


def _commit(
    raw_dir: Path,
    staging: Path,
    staged: dict[str, _Staged],
    account: dict[str, Any] | None,
    export: dict[str, Any],
    source: str,
    overlap_s: int,
) -> None:
    """Append every staged collection, then move all cursors with one atomic export.json write."""
    old = export.get("collections") if isinstance(export.get("collections"), dict) else {}
    new_collections: dict[str, Any] = {k: dict(v) for k, v in old.items() if isinstance(v, dict)}
    if account is not None:
        write_json_atomic(raw_dir / "account.json", account)
        new_collections["account"] = {"records": 1, "cursor": None}
    for name, st in staged.items():
        if name == DELETED:
            continue
        dst = raw_dir / f"{name}.jsonl"
        if st.field is None:  # reference collections: append only what changed
            latest = _latest_lines(dst)
            keep = staging / f"{name}.changed.jsonl"
            with st.path.open(encoding="utf-8") as fin, keep.open("w", encoding="utf-8") as fout:
                for line in fin:
                    rec = json.loads(line)
                    if latest.get(str(rec.get("id"))) != json.dumps(rec, sort_keys=True, ensure_ascii=False):
                        fout.write(line)
            _append(keep, dst)
        else:
            _append(st.path, dst)
        entry = new_collections.setdefault(name, {})
        cands = [c for c in (lenient_int(entry.get("cursor")), st.cursor) if c is not None]
        entry["cursor"] = max(cands) if cands else None
        if entry["cursor"] is not None:
            entry["overlap_ids"] = _tail(st.seen, entry["cursor"] - overlap_s)
        if name == "leads" and DELETED in staged:
            deleted = staged[DELETED]
            _append(deleted.path, dst)
            old_del = lenient_int(entry.get("deleted_cursor"))
            cands = [c for c in (old_del, deleted.cursor) if c is not None]
            entry["deleted_cursor"] = max(cands) if cands else None
            if entry["deleted_cursor"] is not None:
                entry["deleted_overlap_ids"] = _tail(deleted.seen, entry["deleted_cursor"] - overlap_s)
        entry["records"] = _count_lines(dst)
    new_export = {k: v for k, v in export.items() if k not in ("source", "pulled_at", "collections")}
    write_json_atomic(
        raw_dir / "export.json",
        {
            "source": source or export.get("source") or "",
            "pulled_at": _now_iso(),
            "collections": new_collections,
            **new_export,
        },
    )


# ---------------------------------------------------------------------------------------------
# Connecting: a real account, or the built-in emulator (demo mode)
# ---------------------------------------------------------------------------------------------


@dataclass
class Connection:
    base_url: str
    tokens: Any
    source: str
    demo: bool
    handle: Any = None  # the in-process emulator in demo mode

    def close(self) -> None:
        if self.handle is not None:
            self.handle.stop()
            self.handle = None


def demo_clock(account: Any, now: datetime | None = None) -> datetime:
    """Demo clock: wall time clamped to [end, end + horizon] of the synthetic account."""
    now = now or datetime.now(UTC)
    end = account.end
    horizon = timedelta(days=int(getattr(account, "horizon_days", 60) or 60))
    return min(max(now.replace(microsecond=0), end), end + horizon)


def connect(config: Any, raw_dir: Path, environ: dict[str, str] | None = None, say: Any = None) -> Connection:
    """Where to pull from: AMOCRM_BASE_URL / subdomain with env credentials, else the demo emulator.

    In demo mode the emulator runs in this process on a free port with a generated token and
    serves the same synthetic account as the demo raw export (its export.json "demo" entry);
    if there is no raw export yet, one is written first (as of the account's end), so that the
    pull that follows is incremental, as every later refresh is.
    """
    base_url = config.amocrm.base_url(environ)
    if base_url:
        env = os.environ if environ is None else environ
        settings = oauth_settings_from_env(config.amocrm, env)
        code = env.get(AUTH_CODE_ENV, "").strip()
        if settings is not None and code and not settings.token_file.exists():
            # First run of an OAuth integration: trade the authorization code for the token pair.
            with requests.Session() as session:
                exchange_code(session, base_url, settings, code, float(config.amocrm.timeout_s))
        tokens = tokens_from_env(config.amocrm, environ)
        return Connection(base_url, tokens, config.amocrm.subdomain or "", False)
    from etl.simulated.emulator import demo_account, demo_params, start_emulator

    params = demo_params(raw_dir)
    if say:
        say(f"демо-режим: генерация синтетического аккаунта ({params['deals_per_year']} сделок в год)")
    account = demo_account(params)
    if not (raw_dir / "export.json").is_file():
        _seed_demo_export(raw_dir, account, params)
    handle = start_emulator(account, clock=demo_clock(account), rate_limit_per_s=config.amocrm.rate_limit_per_s)
    return Connection(handle.url, StaticToken(handle.token), "emulator", True, handle)


def _seed_demo_export(raw_dir: Path, account: Any, params: dict[str, Any]) -> None:
    from etl.simulated.synth import write_raw_export

    end = account.end
    demo = {
        "seed": params["seed"],
        "deals_per_year": params["deals_per_year"],
        "years": params["years"],
        "end": end.isoformat().replace("+00:00", "Z"),
    }
    write_raw_export(raw_dir, account.as_of(end), source="emulator", pulled_at=end, extra={"demo": demo})


def make_client(config: Any, conn: Connection, cancel: threading.Event | None, on_request: Any = None) -> AmoClient:
    a = config.amocrm
    return AmoClient(
        conn.base_url,
        conn.tokens,
        rate_limit_per_s=a.rate_limit_per_s,
        timeout_s=a.timeout_s,
        max_retries=a.max_retries,
        cancel=cancel,
        on_request=on_request,
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m etl pull", description="Pull an amoCRM account (or the demo emulator) into a raw export."
    )
    parser.add_argument("--out", help="raw export folder (default: <data-dir>/raw)")
    parser.add_argument("--full", action="store_true", help="ignore cursors and read everything again")
    parser.add_argument("--config", help="config file (default: the repository's config.yaml)")
    parser.add_argument("--data-dir", help="data folder (default: $REPORT_DATA_DIR or ./data)")
    parser.add_argument("--progress-file", help="write machine-readable progress (JSON) here")
    args = parser.parse_args(argv)

    from etl.config import ConfigError, data_dir, load_config
    from etl.progress import Progress

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"pull: {exc}", file=sys.stderr)
        return 2
    raw_dir = Path(args.out) if args.out else data_dir(args.data_dir) / "raw"
    progress = Progress(Path(args.progress_file) if args.progress_file else None, echo=sys.stdout)
    cancel = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: cancel.set())
    conn = None
    try:
        conn = connect(config, raw_dir, say=progress.say)
        with make_client(config, conn, cancel) as client:
            result = pull(
                raw_dir,
                client,
                full=args.full,
                overlap_s=config.amocrm.overlap_seconds,
                page_size=config.amocrm.page_size,
                progress=progress,
                source=conn.source,
            )
        progress.finish("succeeded", "done", "выгрузка завершена")
        print(f"pull: {result.requests} запросов, 429: {result.status_429}, {result.seconds:.1f} с → {raw_dir}")
        return 0
    except Cancelled:
        progress.finish("cancelled", "pull", "выгрузка отменена, прежние данные не тронуты")
        print("pull: отменено / cancelled", file=sys.stderr)
        return 1
    except AmoError as exc:
        progress.fail(exc.kind, exc.message)
        print(f"pull: {exc.message}", file=sys.stderr)
        return 1
    finally:
        if conn is not None:
            conn.close()
