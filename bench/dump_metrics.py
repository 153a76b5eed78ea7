"""Dump every metric's answer to JSON, to show that a refactor or a speed-up changed no number.

    .venv/bin/python bench/dump_metrics.py --out /tmp/before.json
    ... change the code ...
    .venv/bin/python bench/dump_metrics.py --out /tmp/after.json --compare /tmp/before.json

The account is the one-year demo account (``etl`` synthetic generator, seed 7, 100 000 deals a
year, ending 2026-11-01), generated and built once under ``--work`` and reused. Each registered
metric is run for three periods (October 2026, the third quarter of 2026, the year to
2026-10-31) × three filters (none, the city with most deals, the manager with most deals), with
no breakdown and with each breakdown it supports, one at a time. Metrics that depend on the
wall clock (``quality.panel``) are left out. ``--compare`` exits 1 and lists the first
differences when a table of the earlier dump is missing or differs; tables only the new code has
(new metrics) are counted apart.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

END = datetime(2026, 11, 1, tzinfo=UTC)
PERIODS = {
    "month": (date(2026, 10, 1), date(2026, 10, 31)),
    "quarter": (date(2026, 7, 1), date(2026, 9, 30)),
    "year": (date(2025, 11, 1), date(2026, 10, 31)),
}
SKIP = {"quality.panel"}


def open_account(work: Path):
    """The one-year demo snapshot under ``work`` (generated and built on the first run)."""
    from bench.accounts import ensure_snapshot

    return ensure_snapshot(work, 1, 100_000, 7)


def _plain(value: object) -> object:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def table_json(df: pl.DataFrame) -> list[dict[str, object]]:
    return [{k: _plain(v) for k, v in row.items()} for row in df.iter_rows(named=True)]


def filter_choices(snap) -> dict[str, dict[str, object]]:
    deals = snap.scan("deals").filter(~pl.col("is_deleted"))
    city = deals.group_by("city").len().sort(["len", "city"], descending=True).collect()["city"][0]
    user = deals.group_by("user_id").len().sort(["len", "user_id"], descending=True).collect()["user_id"][0]
    return {"none": {}, "city": {"cities": (city,)}, "manager": {"managers": (int(user),)}}


def dump(snap) -> dict[str, object]:
    from report.metrics.filters import Filters
    from report.metrics.registry import all_metrics

    out: dict[str, object] = {}
    for metric_id, metric in sorted(all_metrics().items()):
        if metric_id in SKIP:
            continue
        for period, (start, end) in PERIODS.items():
            for name, extra in filter_choices(snap).items():
                filters = Filters(start, end, **extra)
                for by in [(), *((b,) for b in metric.breakdowns)]:
                    key = f"{metric_id}|{period}|{name}|{','.join(by)}"
                    out[key] = table_json(metric.fn(snap, filters, by))
    return out


def compare(before: dict, after: dict) -> tuple[list[str], list[str]]:
    """(problems, new keys): a table missing or different after is a problem; a table that only
    the new code has (a new metric or breakdown) is listed apart, since it has nothing to equal."""
    problems = [f"missing after: {k}" for k in before if k not in after]
    problems += [f"differs: {k}" for k in before if k in after and before[k] != after[k]]
    return problems, [k for k in after if k not in before]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default=str(REPO / "bench" / "out"), help="where the account is kept")
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--compare", help="an earlier dump: exit 1 when they differ")
    args = parser.parse_args(argv)
    snap = open_account(Path(args.work))
    t0 = time.perf_counter()
    result = dump(snap)
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, sort_keys=True, indent=0), encoding="utf-8")
    print(f"{len(result)} tables in {time.perf_counter() - t0:.0f} s → {args.out}")
    if args.compare:
        problems, new = compare(json.loads(Path(args.compare).read_text(encoding="utf-8")), result)
        for line in problems[:40]:
            print(line)
        metrics = sorted({k.split("|")[0] for k in new})
        print(f"{len(new)} new tables ({', '.join(metrics) or 'none'})")
        print("equal" if not problems else f"{len(problems)} differences")
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
