"""Each metric of each tab (``bench.metrics.TAB_CALLS``) timed alone, cold: median of 5 runs, each
after ``report.metrics.kept.forget()`` (the decoded tables kept, the period reads forgotten).

    .venv/bin/python bench/metric_times.py --work WORK --years 1 --years 5
    .venv/bin/python bench/metric_times.py --work WORK --years 5 --only touches.negative_status

Same accounts (``bench.accounts.ensure_snapshot``, seed 1, 100 000 deals a year) and periods (the
last full month, the last 365 days) as ``bench/metrics.py``; a metric the two touch tabs share is
timed once per channel filter.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.accounts import END, ensure_snapshot  # noqa: E402
from bench.metrics import TAB_CALLS, tab_filters  # noqa: E402
from report.metrics import kept  # noqa: E402
from report.metrics.filters import Filters  # noqa: E402
from report.metrics.registry import get  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--years", type=int, action="append", help="account sizes in years (default: 1 and 5)")
    ap.add_argument("--only", action="append", help="metric ids to time (default: all)")
    args = ap.parse_args(argv)
    last = date(END.year, END.month, 1) - timedelta(days=1)
    periods = {
        "month": Filters(last.replace(day=1), last, grain="day"),
        "year": Filters(last - timedelta(days=364), last, grain="month"),
    }
    for years in args.years or [1, 5]:
        snap = ensure_snapshot(args.work, years, 100_000, 1)
        for pname, f in periods.items():
            seen = set()
            for tab, calls in TAB_CALLS.items():
                ff = tab_filters(tab, f)
                for mid, by in calls:
                    if (mid, by, ff.channel) in seen or (args.only and mid not in args.only):
                        continue
                    seen.add((mid, by, ff.channel))
                    get(mid).fn(snap, ff, by)  # the tables it reads decoded
                    times = []
                    for _ in range(5):
                        kept.forget()
                        t0 = time.perf_counter()
                        get(mid).fn(snap, ff, by)
                        times.append(time.perf_counter() - t0)
                    ms = statistics.median(times) * 1000
                    print(f"{years}y {pname:5} {tab:15} {mid:38} {','.join(by):8} {ms:7.1f} ms", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
