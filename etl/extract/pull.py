"""``python -m etl pull``: read an amoCRM account (or the emulator) into a raw export (DATA.md §1).

This module is the command line; the work is done by :mod:`etl.extract.collect` (the pull),
:mod:`etl.extract.specs` (what is read and how), :mod:`etl.extract.staging` (nothing reaches the
raw export until every collection is complete) and :mod:`etl.extract.connect` (the account or the
demo emulator).  Their public names are re-exported here, where callers have always found them.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from etl.extract.amo_client import AmoError, Cancelled
from etl.extract.collect import CollectionResult, PullProgress, PullResult, _exclusive, pull
from etl.extract.connect import AUTH_CODE_ENV, Connection, connect, demo_clock, make_client, pull_configured
from etl.extract.specs import COLLECTIONS, DELETED, EVENT_TYPES, NOTE_TYPES, SPECS, Spec
from etl.extract.staging import read_export_json, write_json_atomic

__all__ = [
    "AUTH_CODE_ENV",
    "COLLECTIONS",
    "DELETED",
    "EVENT_TYPES",
    "NOTE_TYPES",
    "SPECS",
    "CollectionResult",
    "Connection",
    "PullProgress",
    "PullResult",
    "Spec",
    "_exclusive",
    "connect",
    "demo_clock",
    "main",
    "make_client",
    "pull",
    "pull_configured",
    "read_export_json",
    "write_json_atomic",
]


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
        result = pull_configured(config, conn, raw_dir, cancel, progress, full=args.full)
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
