"""``python -m etl refresh``: pull + build + publish in one go (what the admin's button runs).

Demo mode (no subdomain, no AMOCRM_BASE_URL) pulls from the built-in emulator over real HTTP, so
the demo runs the production code path.  SIGTERM cancels: the pull stops between requests and
leaves the raw export and its cursors as they were; during the build the process exits before
publishing, so the current snapshot keeps serving.  Exit 0 success, 1 failure/cancel, 2 usage.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from etl.diskio import disk_message
from etl.extract.errors import AmoError, Cancelled
from etl.progress import Progress

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m etl refresh", description="Pull + build + publish.")
    parser.add_argument("--data-dir", help="data folder (default: $REPORT_DATA_DIR or ./data)")
    parser.add_argument("--config", help="config file (default: the repository's config.yaml)")
    parser.add_argument("--full", action="store_true", help="ignore cursors and pull everything again")
    parser.add_argument("--force", action="store_true", help="publish even if the publish guard would refuse")
    parser.add_argument("--progress-file", help="rewrite progress JSON here on every change")
    parser.add_argument("--refresh-id", help="id to report in the progress file (default: generated)")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code else EXIT_OK

    from etl.config import ConfigError, data_dir, load_config

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"refresh: {exc}", file=sys.stderr)
        return EXIT_USAGE
    ddir = data_dir(args.data_dir)
    raw_dir = ddir / "raw"
    try:
        progress = Progress(
            Path(args.progress_file) if args.progress_file else None, refresh_id=args.refresh_id, echo=sys.stdout
        )
    except OSError as exc:
        print(f"refresh: cannot write the progress file {args.progress_file}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    return run(config, ddir, raw_dir, progress, full=args.full, force=args.force)


def run(config: Any, ddir: Path, raw_dir: Path, progress: Progress, *, full: bool = False, force: bool = False) -> int:
    """The refresh itself; installs SIGTERM/SIGINT handlers (main thread only)."""
    from etl.extract.connect import connect, pull_configured
    from etl.snapshot.store import current_id

    cancel = threading.Event()
    snapshots_dir = ddir / config.snapshots_dir
    initial_snapshot = current_id(snapshots_dir)
    stage = {"name": "connect"}

    def on_signal(signum: int, frame: Any) -> None:
        cancel.set()
        if stage["name"] == "connect" or (stage["name"] == "build" and current_id(snapshots_dir) == initial_snapshot):
            # Connecting (generating the demo account) writes nothing that matters, and the build
            # cannot be interrupted half-way cleanly but publishes with an atomic rename: leaving
            # now keeps the current snapshot (a temp folder is pruned next time).
            where = "pull" if stage["name"] == "connect" else "build"
            progress.finish("cancelled", where, "обновление отменено, данные не изменены")
            print("refresh: отменено / cancelled", file=sys.stderr, flush=True)
            os._exit(EXIT_FAILED)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    conn = None
    try:
        progress.stage("pull", "подключение к amoCRM")
        conn = connect(config, raw_dir, say=progress.say)
        stage["name"] = "pull"
        if conn.demo:
            progress.say(f"демо-режим: встроенный эмулятор amoCRM на {conn.base_url}")
        result = pull_configured(config, conn, raw_dir, cancel, progress, full=full)
        conn.close()
        total = sum(c.records for c in result.collections.values())
        progress.say(f"выгружено {total} записей за {result.requests} запросов ({result.seconds:.0f} с)")
        if cancel.is_set():
            raise Cancelled()
        stage["name"] = "build"
        progress.stage("build", "сборка снимка")
        from etl.transform.build import BuildError, build_snapshot

        def build_progress(
            message: str, step: str | None = None, count: int | None = None, part: tuple[int, int] | None = None
        ) -> None:
            if step is None:
                progress.say(message)
            else:
                progress.build_step(message, step=step, count=count, part=part)

        try:
            folder = build_snapshot(raw_dir, config, ddir, build_progress, force=force, full=full)
        except BuildError as exc:
            prefix = "снимок не опубликован" if exc.kind == "guard" else "сборка снимка не удалась"
            raise AmoError(exc.kind, f"{prefix}: {exc}") from exc
        stage["name"] = "done"
        progress.finish("succeeded", "done", f"готово: снимок {folder.name}", snapshot_id=folder.name)
        print(f"refresh: опубликован снимок {folder.name}")
        return EXIT_OK
    except Cancelled:
        progress.finish(
            "cancelled", str(progress.state.get("stage") or "pull"), "обновление отменено, данные не изменены"
        )
        print("refresh: отменено / cancelled", file=sys.stderr)
        return EXIT_FAILED
    except AmoError as exc:
        progress.fail(exc.kind, exc.message)
        print(f"refresh: {exc.message}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:  # a local write refused outside pull and build (the demo account's export)
        message = f"запись на диск не удалась / write refused: {disk_message(exc)}"
        progress.fail("disk", message)
        print(f"refresh: {message}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # the admin gets a sentence, not a traceback
        message = f"внутренняя ошибка: {type(exc).__name__}: {exc} / internal error"
        progress.fail("internal", message)
        print(f"refresh: {message}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if conn is not None:
            conn.close()
