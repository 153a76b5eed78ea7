"""The refresh job: one ``python -m etl refresh`` at a time per data folder, run by a tiny supervisor.

Why a supervisor process (``report/admin/supervisor.py``) and not the web worker itself:

* the web process has run polars, and polars in a forked child hangs (STYLE.md), so the refresh is a
  fresh interpreter started with ``subprocess.Popen`` (fork + exec), never ``multiprocessing``;
* the lock must outlive the web worker that pressed the button.  The worker takes
  ``flock(<data>/refresh/lock)`` and hands the very same open file to the supervisor (``pass_fds``),
  which hands it on to the refresh child; the lock is released only when both have exited, whatever
  happens to the web worker.  A crashed job leaves no stale lock: the kernel drops it;
* someone must write the audit line and the final state when the child ends, crashes or is killed
  after a cancel, even if no web worker is watching.

Files in ``<data>/refresh/``: ``lock``; ``current.json`` (the running refresh: id, supervisor pid,
who) exists only while one runs; ``<id>.json`` the progress file the refresh command rewrites;
``<id>.log`` its terminal output; ``<id>.cancel`` a cancel request; ``last.json`` the last result;
``audit.jsonl`` one line per finished refresh.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from report import backend
from report.admin.files import (  # noqa: F401  (re-exported)
    REFRESH_DIR,
    RefreshPaths,
    append_audit,
    read_audit,
    read_json,
    utc_now,
    write_json,
)
from report.admin.progress import (  # noqa: F401  (re-exported: jobs.percent, jobs.outcome…)
    EXPECTED_COLLECTIONS,
    audit_record,
    outcome,
    parse_time,
    percent,
    public_progress,
    records_pulled,
    requests_made,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CANCEL_TIMEOUT_S = 15.0
#: Variables the refresh child must not inherit: it needs amoCRM's, not the report's secrets.
CHILD_ENV_DROP = (
    "REPORT_ADMIN_PASSWORD",
    "REPORT_ADMIN_PASSWORD_HASH",
    "REPORT_VIEWER_KEY",
    "REPORT_SECRET_KEY",
)
RESULTS = ("succeeded", "failed", "cancelled")


@dataclass(frozen=True)
class StartResult:
    refresh_id: str
    state: str
    joined: bool

    def as_dict(self) -> dict[str, Any]:
        return {"refresh_id": self.refresh_id, "state": self.state, "joined": self.joined}


class RefreshError(RuntimeError):
    """The refresh could not be started (the message is safe to show).

    ``errno`` is set when the data folder refused a write (ENOSPC, EROFS, EACCES …), so the HTTP
    API can answer 507 for a full disk.
    """

    def __init__(self, message: str, errno_: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno_


def disk_error_text(exc: OSError) -> str:
    """A full disk, a read-only folder or a permission problem in words (Russian, as the UI)."""
    where = f" ({exc.filename})" if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return f"нет места на диске в папке данных{where}"
    if exc.errno == errno.EROFS:
        return f"папка данных доступна только для чтения{where}"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"нет прав на запись в папку данных{where}"
    return f"ошибка записи в папку данных{where}: {exc.strerror or exc}"


def lock_of(paths: RefreshPaths, environ: Mapping[str, str] | None = None) -> backend.RefreshLock:
    """The refresh lock: ``flock`` on this host, or Redis for several hosts (``REPORT_REDIS_URL``)."""
    return backend.refresh_lock(paths.lock, environ)


@contextlib.contextmanager
def _lock_if_free(paths: RefreshPaths, environ: Mapping[str, str] | None = None) -> Iterator[bool]:
    """Hold the refresh lock for the block when nobody runs a refresh; yields whether we got it."""
    with backend.holding(lock_of(paths, environ)) as free:
        yield free


def refresh_running(paths: RefreshPaths, environ: Mapping[str, str] | None = None) -> bool:
    """Is a refresh holding the lock right now (any worker, any process; any host with Redis)?"""
    return lock_of(paths, environ).held()


def new_refresh_id() -> str:
    """Sortable and unique: UTC time plus randomness."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def child_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The refresh's environment: ours (amoCRM settings included) minus the report's own secrets."""
    env = {k: v for k, v in environ.items() if k not in CHILD_ENV_DROP}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


# ---------------------------------------------------------------------------------------------
# Start, join, cancel, status
# ---------------------------------------------------------------------------------------------


def _reap_stale(paths: RefreshPaths) -> None:
    """Called with the lock held: a current.json left by a supervisor killed with SIGKILL (or a reboot).

    Nobody holds the lock, so nothing of that run is alive; record it as failed so the audit has it.
    """
    cur = read_json(paths.current)
    if cur is None:
        if paths.current.exists():
            paths.current.unlink(missing_ok=True)
        return
    rid = str(cur.get("refresh_id") or "")
    progress = (read_json(paths.progress(rid)) if rid else None) or {}
    error = {"kind": "internal", "message": "обновление прервано: процесс обновления остановился, не записав итог"}
    record = audit_record(cur, progress, "failed", error, None, finished_at=utc_now())
    append_audit(paths, record)
    write_json(paths.last, record)
    if rid and progress.get("state") in (None, "running"):
        write_json(paths.progress(rid), {**progress, "refresh_id": rid, "state": "failed", "error": error})
    paths.current.unlink(missing_ok=True)


def start_or_join(
    data_dir: Path,
    *,
    who: str,
    via: str,
    config_path: str | None = None,
    environ: Mapping[str, str] | None = None,
    full: bool = False,
    cancel_timeout_s: float = DEFAULT_CANCEL_TIMEOUT_S,
    join_wait_s: float = 5.0,
    force: bool = False,
) -> StartResult:
    """Start a refresh, or join the one already running (on this host, or on any with Redis).

    A data folder that refuses writes (full disk, read-only, permissions) raises
    :class:`RefreshError` with the reason in words and its ``errno``; the attempt is written to the
    audit log when the log itself can still be written, else said on stderr.  ``force`` publishes
    even what the publish guard would hold back (a joined refresh keeps its own setting).
    """
    paths = RefreshPaths.of(Path(data_dir).resolve())  # the children run in the repository folder
    config_path = str(Path(config_path).resolve()) if config_path else None
    env = os.environ if environ is None else environ
    lock = lock_of(paths, env)
    deadline = time.monotonic() + join_wait_s
    while True:
        try:
            paths.root.mkdir(parents=True, exist_ok=True)
            handle = lock.try_acquire()
        except OSError as exc:
            raise _start_failed(paths, who, via, exc) from exc
        if handle is not None:
            try:
                return _start_locked(paths, lock, handle, who, via, config_path, env, full, cancel_timeout_s, force)
            except (OSError, RefreshError) as exc:
                if isinstance(lock, backend.RedisLock):  # no supervisor took the token over
                    lock.release_token(handle)
                if isinstance(exc, RefreshError):
                    raise
                raise _start_failed(paths, who, via, exc) from exc
            finally:
                lock.release(handle)
        cur = read_json(paths.current)
        if cur and cur.get("refresh_id") and _maybe_alive(cur):
            return StartResult(str(cur["refresh_id"]), "running", True)
        # Locked but current.json not readable yet (a start in progress elsewhere, or a status check
        # that holds the lock for a moment): look again shortly.
        if time.monotonic() > deadline:
            raise RefreshError("обновление уже выполняется, но его состояние не читается; повторите позже")
        time.sleep(0.05)


def _start_failed(paths: RefreshPaths, who: str, via: str, exc: OSError) -> RefreshError:
    """Record a start that the data folder refused, and say why (no traceback, no temp file)."""
    message = disk_error_text(exc)
    now = utc_now()
    cur = {"refresh_id": new_refresh_id(), "who": who, "via": via, "started_at": now}
    record = audit_record(cur, {}, "failed", {"kind": "disk", "message": message}, None, finished_at=now)
    try:
        append_audit(paths, record)
    except OSError as audit_exc:
        print(f"refresh: the audit log could not be written either: {disk_error_text(audit_exc)}", file=sys.stderr)
    with contextlib.suppress(OSError):
        paths.current.unlink(missing_ok=True)
    return RefreshError(f"не удалось начать обновление: {message}", exc.errno)


def _start_locked(
    paths: RefreshPaths,
    lock: backend.RefreshLock,
    handle: Any,
    who: str,
    via: str,
    config_path: str | None,
    environ: Mapping[str, str] | None,
    full: bool,
    cancel_timeout_s: float,
    force: bool = False,
) -> StartResult:
    _reap_stale(paths)
    rid = new_refresh_id()
    started = utc_now()
    # current.json is written before the supervisor exists, so that it can only ever be removed by
    # the supervisor (when done) and a joiner never sees a running refresh without it.
    cur = {"refresh_id": rid, "pid": None, "host": socket.gethostname(), "who": who, "via": via, "started_at": started}
    write_json(paths.current, cur)
    write_json(
        paths.progress(rid),
        {"refresh_id": rid, "state": "running", "stage": "pull", "collection": None, "collections": {},
         "message": "запуск обновления", "error": None, "snapshot_id": None, "started_at": started,
         "updated_at": started},
    )  # fmt: skip
    lock_args, pass_fds = lock.supervisor_args(handle)
    cmd = [
        sys.executable, "-m", "report.admin.supervisor",
        "--data-dir", str(paths.root.parent), "--refresh-id", rid, *lock_args,
        "--who", who, "--via", via, "--started-at", started, "--cancel-timeout", str(cancel_timeout_s),
    ]  # fmt: skip
    if config_path:
        cmd += ["--config", str(config_path)]
    if full:
        cmd.append("--full")
    if force:
        cmd.append("--force")
    try:
        with open(paths.log(rid), "ab") as log:
            proc = subprocess.Popen(
                cmd,
                pass_fds=pass_fds,
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=child_env(os.environ if environ is None else environ),
                cwd=REPO_ROOT,
            )
    except OSError as exc:
        if exc.filename is not None or exc.errno in (errno.ENOSPC, errno.EROFS):
            raise  # the data folder refused the log file: reported by start_or_join
        paths.current.unlink(missing_ok=True)
        raise RefreshError(f"не удалось запустить обновление: {exc.strerror}") from exc
    # Reap the supervisor when it ends so it does not linger as a zombie of the web worker.
    threading.Thread(target=proc.wait, name=f"refresh-reaper-{rid}", daemon=True).start()
    return StartResult(rid, "running", False)


def _pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _maybe_alive(cur: Mapping[str, Any]) -> bool:
    """False only when current.json names processes that are all gone (a stale file being reaped)."""
    if cur.get("pid") is None:
        return True  # the supervisor is being started right now
    if cur.get("host", socket.gethostname()) != socket.gethostname():
        return True  # another host's processes: the (Redis) lock says whether it runs
    return _pid_alive(cur.get("pid")) or _pid_alive(cur.get("child_pid"))


def cancel(data_dir: Path, environ: Mapping[str, str] | None = None) -> str | None:
    """Ask the running refresh to stop; its id, or None when none runs.

    The request is a file the supervisor polls, plus SIGTERM to the supervisor to wake it; the
    supervisor sends SIGTERM to the refresh's process group and SIGKILL after its timeout.
    """
    paths = RefreshPaths.of(data_dir)
    cur = read_json(paths.current)
    if not cur or not cur.get("refresh_id") or not refresh_running(paths, environ):
        return None
    rid = str(cur["refresh_id"])
    paths.cancel(rid).touch()  # the supervisor polls it, on whichever host it runs
    pid = cur.get("pid")
    if isinstance(pid, int) and pid > 0 and cur.get("host", socket.gethostname()) == socket.gethostname():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    return rid


def status(
    data_dir: Path, snapshots_dir: Path | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """What runs now (with its progress) and how the last refresh ended; safe to show an admin."""
    paths = RefreshPaths.of(data_dir)
    running = None
    cur = read_json(paths.current)
    if cur is not None or paths.current.exists():
        with _lock_if_free(paths, environ) as free:
            if free:
                _reap_stale(paths)
                cur = None
    if cur is not None and cur.get("refresh_id"):
        rid = str(cur["refresh_id"])
        progress = read_json(paths.progress(rid)) or {}
        running = {
            **public_progress(progress),
            "refresh_id": rid,
            "who": cur.get("who"),
            "via": cur.get("via"),
            "started_at": cur.get("started_at"),
            "state": "running",
            "cancelling": paths.cancel(rid).exists(),
            "percent": percent(progress),
        }
    out: dict[str, Any] = {"running": running is not None, "refresh": running, "last": read_json(paths.last)}
    if snapshots_dir is not None:
        from etl.snapshot.store import current_id  # light: no polars work at import of this function

        out["current_snapshot_id"] = current_id(Path(snapshots_dir))
    return out


def result_of(refresh_id: str, data_dir: Path) -> dict[str, Any] | None:
    """The audit record of a finished refresh (None while it runs or if unknown)."""
    paths = RefreshPaths.of(data_dir)
    last = read_json(paths.last)
    if last and last.get("refresh_id") == refresh_id:
        return last
    for rec in reversed(read_audit(paths)):
        if rec.get("refresh_id") == refresh_id:
            return rec
    return None
