"""``python -m report.admin.supervisor``: runs one ``python -m etl refresh`` and records how it ended.

Started by :func:`report.admin.jobs.start_or_join` in its own session, holding the refresh lock
(the descriptor ``--lock-fd``, inherited).  It imports nothing heavy (no polars, no dash): it only
waits, forwards a cancel, and writes the audit line.  See ``jobs.py`` for why it exists.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from report import backend
from report.admin import jobs
from report.admin.auth import redact


def _env_secrets() -> tuple[str, ...]:
    """amoCRM credentials this process passes on: never to be written into the audit or shown."""
    return tuple(v for k, v in os.environ.items() if k.startswith("AMOCRM_") and ("TOKEN" in k or "SECRET" in k))


def refresh_command(
    data_dir: Path, progress_file: Path, refresh_id: str, config: str | None, full: bool, force: bool = False
) -> list[str]:
    cmd = [sys.executable, "-m", "etl", "refresh", "--data-dir", str(data_dir)]
    cmd += ["--progress-file", str(progress_file), "--refresh-id", refresh_id]
    if config:
        cmd += ["--config", config]
    if full:
        cmd.append("--full")
    if force:
        cmd.append("--force")
    return cmd


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def supervise(
    data_dir: Path,
    refresh_id: str,
    lock_fd: int | None,
    who: str,
    via: str,
    started_at: str,
    config: str | None,
    full: bool,
    cancel_timeout_s: float,
    force: bool = False,
) -> dict:
    """Run the refresh to its end (or cancel it), then write the audit line, last.json, and tidy up."""
    paths = jobs.RefreshPaths.of(data_dir)
    cancel_flag = {"set": False}

    def on_term(signum: int, frame: object) -> None:
        cancel_flag["set"] = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    cur = {
        "refresh_id": refresh_id,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "who": who,
        "via": via,
        "started_at": started_at,
    }
    jobs.write_json(paths.current, cur)

    progress_file = paths.progress(refresh_id)
    exit_code: int | None
    cancel_sent_at: float | None = None
    killed = False
    with open(paths.log(refresh_id), "ab") as log:
        try:
            child = subprocess.Popen(
                refresh_command(data_dir, progress_file, refresh_id, config, full, force),
                pass_fds=() if lock_fd is None else (lock_fd,),  # the child holds a flock too
                start_new_session=True,  # its own process group, so a cancel reaches its children too
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        except OSError as exc:
            child = None
            exit_code = None
            start_error = {"kind": "internal", "message": f"не удалось запустить python -m etl refresh: {exc.strerror}"}
        else:
            start_error = None
            jobs.write_json(paths.current, {**cur, "child_pid": child.pid})
            while True:
                try:
                    exit_code = child.wait(timeout=0.2)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if cancel_sent_at is None and (cancel_flag["set"] or paths.cancel(refresh_id).exists()):
                    cancel_flag["set"] = True
                    _killpg(child.pid, signal.SIGTERM)
                    cancel_sent_at = time.monotonic()
                elif cancel_sent_at is not None and not killed and time.monotonic() - cancel_sent_at > cancel_timeout_s:
                    _killpg(child.pid, signal.SIGKILL)
                    killed = True
            _killpg(child.pid, signal.SIGKILL)  # stray grandchildren, if any, must not outlive the run

    progress = jobs.read_json(progress_file) or {}
    if start_error is not None:
        result, error = "failed", start_error
    else:
        result, error = jobs.outcome(exit_code, progress, cancel_flag["set"])
    if error is not None:
        error = {**error, "message": redact(str(error.get("message", "")), _env_secrets())}
    finished = jobs.utc_now()
    if progress.get("state") != result:  # killed or crashed before it could say so itself
        fix = {**progress, "refresh_id": refresh_id, "state": result, "updated_at": finished}
        if error is not None:
            fix["error"] = error
        jobs.write_json(progress_file, fix)
    record = jobs.audit_record(cur, progress, result, error, exit_code, finished)
    jobs.append_audit(paths, record)
    jobs.write_json(paths.last, record)
    paths.cancel(refresh_id).unlink(missing_ok=True)
    paths.current.unlink(missing_ok=True)  # still under the lock: a new start can only come after this
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m report.admin.supervisor")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--refresh-id", required=True)
    parser.add_argument("--lock-fd", type=int, help="the inherited flock descriptor (one host)")
    parser.add_argument("--lock-token", help="the Redis lock's token (several hosts): renewed while running")
    parser.add_argument("--who", required=True)
    parser.add_argument("--via", required=True)
    parser.add_argument("--started-at", required=True)
    parser.add_argument("--config")
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--cancel-timeout", type=float, default=jobs.DEFAULT_CANCEL_TIMEOUT_S)
    args = parser.parse_args(argv)
    keeper: contextlib.AbstractContextManager = contextlib.nullcontext()
    if args.lock_token:
        url = backend.redis_url()
        if url is None:
            parser.error("--lock-token needs REPORT_REDIS_URL")
        keeper = backend.LockKeeper(backend.RedisLock(url), args.lock_token)
    with keeper:
        try:
            record = supervise(
                Path(args.data_dir),
                args.refresh_id,
                args.lock_fd,
                args.who,
                args.via,
                args.started_at,
                args.config,
                args.full,
                args.cancel_timeout,
                args.force,
            )
        except OSError as exc:  # the data folder refused the audit line or last.json: say so in the log
            print(
                f"refresh {args.refresh_id}: could not record the result: {jobs.disk_error_text(exc)}", file=sys.stderr
            )
            return 1
    return 0 if record["result"] == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
