"""``python -m report.admin refresh|status|cancel|hash-password``: the admin's command line.

``refresh`` goes through the same lock, supervisor and audit log as the web button (who = "cli"),
so a cron job and an admin in the browser never run two refreshes at once.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import time

from report.admin import jobs
from report.admin.texts import result_text, stage_text


def _data_dir(value: str | None):
    from etl.config import data_dir

    return data_dir(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m report.admin", description="Refresh the report's data.")
    sub = parser.add_subparsers(dest="command", required=True)
    ref = sub.add_parser("refresh", help="start a refresh (or join the running one) and wait for its end")
    ref.add_argument("--data-dir", help="data folder (default: $REPORT_DATA_DIR or ./data)")
    ref.add_argument("--config", help="config file (default: the repository's config.yaml)")
    ref.add_argument("--full", action="store_true", help="ignore cursors and pull everything again")
    ref.add_argument("--force", action="store_true", help="publish even if the publish guard would refuse")
    ref.add_argument("--no-wait", action="store_true", help="start and return at once")
    for name, help_ in (("status", "print the refresh status as JSON"), ("cancel", "cancel the running refresh")):
        p = sub.add_parser(name, help=help_)
        p.add_argument("--data-dir")
    sub.add_parser("hash-password", help="print a REPORT_ADMIN_PASSWORD_HASH for a password read from the terminal")
    args = parser.parse_args(argv)

    if args.command == "hash-password":
        from werkzeug.security import generate_password_hash

        password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
        if not password:
            print("empty password refused", file=sys.stderr)
            return 2
        print(generate_password_hash(password))
        return 0
    data = _data_dir(args.data_dir)
    if args.command == "status":
        print(json.dumps(jobs.status(data), ensure_ascii=False, indent=1))
        return 0
    if args.command == "cancel":
        rid = jobs.cancel(data)
        print(f"cancelling {rid}" if rid else "no refresh is running")
        return 0 if rid else 1
    try:
        started = jobs.start_or_join(
            data, who="cli", via="cli", config_path=args.config, full=args.full, force=args.force
        )
    except jobs.RefreshError as exc:
        print(f"refresh: {exc}", file=sys.stderr)
        return 1
    print(("joined " if started.joined else "started ") + started.refresh_id, flush=True)
    if args.no_wait:
        return 0
    last_line = ""
    while True:
        st = jobs.status(data)
        run = st.get("refresh")
        if st["running"] and run and run.get("refresh_id") == started.refresh_id:
            line = f"{run.get('percent', 0):>3} %  {stage_text(run, 'ru')}"
            if line != last_line:
                print(line, flush=True)
                last_line = line
            time.sleep(1.0)
            continue
        record = jobs.result_of(started.refresh_id, data)
        if record is None and st["running"]:
            time.sleep(1.0)
            continue
        if record is None:
            print("refresh: finished, result unknown", file=sys.stderr)
            return 1
        print(result_text(record, "ru"), flush=True)
        return 0 if record.get("result") == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
