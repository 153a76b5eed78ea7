"""Two versions of the metric layer side by side: one cold pass of each tab's metric set in a fresh
process, alternating old and new, so both see the same load on the machine.

    git worktree add /tmp/before <old commit>
    .venv/bin/python bench/head_to_head.py --old-code /tmp/before --old-data OLD_DATA_DIR \
        --new-data NEW_DATA_DIR [--repeat 7]

Each data folder holds a snapshot of the same raw export built by its own code (``python -m etl
build`` of that version, or ``bench/dump_metrics.py`` with ``--work``). A pass runs every metric
of a tab with no breakdown and with each of its city/manager breakdowns, over October 2026 and
the year to 2026-10-31 (``--metrics``: each metric of the list apart instead), after one warm-up call on an empty period (thread pool, settings); imports
are done before timing. "Cold": a fresh process, so no in-process cache of either version holds
anything; the parquet files are in the OS page cache. Prints the median per tab and period and
the new/old ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

PERIODS = {"month": (date(2026, 10, 1), date(2026, 10, 31)), "year": (date(2025, 11, 1), date(2026, 10, 31))}
TABS = {
    "funnels": [
        "funnel.cohort", "funnel.flow", "deals.status_as_of", "deals.created", "bookings.count",
        "consultations.attendance", "conversion.attended_to_contract", "deals.averages",
    ],
    "time": [
        "time.stage_to_stage", "time.creation_to_contract", "time.rebooking", "time.phone_to_consultation",
        "time.no_answer_to_close", "time.request_to_won", "time.to_first_touch", "bookings.before_contract",
    ],
    "touches": [
        "touches.time_to_first", "touches.per_deal", "touches.before_contract", "touches.before_lost",
        "touches.no_show_to_lost", "touches.negative_status", "touches.interval", "calls.by_manager",
        "tasks.by_manager", "tasks.day_gaps", "managers.leaderboard",
    ],
}  # fmt: skip


def one_pass(code: str, data: str, groups: dict[str, list[str]]) -> dict[str, float]:
    """Run inside the child: ``code`` first on the path, so its ``etl`` and ``report`` load."""
    sys.path.insert(0, code)
    try:
        from etl.snapshot.store import open_current
    except ImportError:  # the layout before etl/ was split into sub-packages
        from etl.snapshot import open_current
    from report.metrics.filters import Filters
    from report.metrics.registry import all_metrics, get

    all_metrics()
    snap = open_current(Path(data) / "snapshots")
    get("deals.created").fn(snap, Filters(date(1990, 1, 1), date(1990, 1, 1)), ())
    out = {}
    for period, (start, end) in PERIODS.items():
        for tab, metric_ids in groups.items():
            filters = Filters(start, end)
            t0 = time.perf_counter()
            for metric_id in metric_ids:
                m = get(metric_id)
                for by in [(), *((b,) for b in m.breakdowns if b in ("city", "manager"))]:
                    m.fn(snap, filters, by)
            out[f"{tab}|{period}"] = (time.perf_counter() - t0) * 1000
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old-code", required=True)
    ap.add_argument("--old-data", required=True)
    ap.add_argument("--new-code", default=str(Path(__file__).resolve().parents[1]))
    ap.add_argument("--new-data", required=True)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--metrics", default="", help="comma-separated metric ids, each timed apart (default: the tabs)")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    groups = {m: [m] for m in args.metrics.split(",")} if args.metrics else TABS
    if args.child:
        print(json.dumps(one_pass(*args.child, groups)))
        return 0
    runs: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
    sides = {"old": (args.old_code, args.old_data), "new": (args.new_code, args.new_data)}
    for _ in range(args.repeat):
        for name, (code, data) in sides.items():
            cmd = [sys.executable, __file__, "--old-code", "-", "--old-data", "-", "--new-data", "-"]
            cmd += ["--metrics", args.metrics] if args.metrics else []
            done = subprocess.run([*cmd, "--child", code, data], capture_output=True, text=True, cwd=code)
            if done.returncode:
                print(done.stderr[-2000:], file=sys.stderr)
                return 1
            runs[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    for key in runs["old"][0]:
        old = statistics.median(r[key] for r in runs["old"])
        new = statistics.median(r[key] for r in runs["new"])
        print(f"{key:34s} old {old:7.0f} ms  new {new:7.0f} ms  new/old {new / old:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
