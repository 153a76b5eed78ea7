"""Benchmark: the incremental build after one day of activity against a full build of the same export.

    .venv/bin/python bench/incremental.py [--years 1] [--deals-per-year 100000] [--seed 7] [--repeat 3]

Once per account (cached in bench/out/incr-<tag>/): the synthetic account's raw export as of the
day before its end (``raw``), and "the day": every line of the export as of its end that the
day-before export lacks (new events and notes, new versions of leads, contacts and tasks), the
lines a pull would append.  Then, each in a fresh child process (peak memory is the build's own):
- ``full``: ``build_snapshot(full=True)`` of day-before + day, into an empty data folder;
- ``incremental``: the data folder of a build of the day-before export (parsed parts + snapshot),
  the day appended to the raw files, ``build_snapshot`` (the refresh's default path).
It prints the best of ``--repeat`` runs of each, the ratio incremental/full (target ≤ 0.2), peak
RSS, and checks that both builds wrote byte-equal tables.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import build as build_bench  # bench/build.py: the child-process runner

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
END = datetime(2026, 11, 1, tzinfo=UTC)

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from etl.config import load_config
from etl.transform.build import build_snapshot
mode, raw, data = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
t0 = time.perf_counter()
folder = build_snapshot(raw, load_config(), data, force=True, full=mode == "full")
took = time.perf_counter() - t0
manifest = json.loads((folder / "manifest.json").read_text())
print(json.dumps({{"seconds": took, "folder": str(folder), "built_by": manifest["built_by"],
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def run_child(mode: str, raw: Path, data: Path) -> dict:
    return build_bench.run_child(mode, raw, data, CHILD)


def ensure_day(work: Path, years: float, deals_per_year: int, seed: int) -> dict[str, int]:
    """``work/raw`` (export the day before END), ``work/day/*.jsonl`` (the day's new lines);
    returns the raw files' sizes the day before."""
    sizes_file = work / "sizes.json"
    if sizes_file.exists():
        return json.loads(sizes_file.read_text())
    sys.path.insert(0, str(ROOT))
    from etl.simulated.synth import generate_account

    t0 = time.perf_counter()
    account = generate_account(seed=seed, deals_per_year=deals_per_year, years=years, end=END)
    before, after = work / "raw", work / "raw-end"
    account.export(before, END - timedelta(days=1), pulled_at=END - timedelta(days=1))
    account.export(after, END, pulled_at=END)
    (work / "day").mkdir(parents=True, exist_ok=True)
    for path in sorted(before.glob("*.jsonl")):
        with path.open("rb") as fh:
            seen = {hash(line) for line in fh}
        with (after / path.name).open("rb") as fin, (work / "day" / path.name).open("wb") as fout:
            fout.writelines(line for line in fin if hash(line) not in seen)
    shutil.copy(after / "export.json", work / "day" / "export.json")
    shutil.copy(before / "export.json", before / "export-before.json")
    shutil.rmtree(after)
    sizes = {p.name: p.stat().st_size for p in before.glob("*.jsonl")}
    sizes_file.write_text(json.dumps(sizes))
    print(f"  generated {work.name} in {time.perf_counter() - t0:.0f} s", flush=True)
    return sizes


def set_day(work: Path, sizes: dict[str, int], *, appended: bool) -> None:
    """The raw files as the day before (cut back), or with the day's lines appended."""
    raw = work / "raw"
    for name, size in sizes.items():
        os.truncate(raw / name, size)
        if appended:
            with (raw / name).open("ab") as fout:
                fout.write((work / "day" / name).read_bytes())
    shutil.copy(
        work / ("day" if appended else "raw") / ("export.json" if appended else "export-before.json"),
        raw / "export.json",
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--years", type=float, default=1)
    parser.add_argument("--deals-per-year", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = OUT / f"incr-{args.years:g}y-{args.deals_per_year}-s{args.seed}"
    sizes = ensure_day(work, args.years, args.deals_per_year, args.seed)
    raw, base = work / "raw", work / "data-day-before"
    set_day(work, sizes, appended=False)  # the day before, built by this code
    shutil.rmtree(base, ignore_errors=True)
    run_child("full", raw, base)
    day_lines = sum(p.read_bytes().count(b"\n") for p in (work / "day").glob("*.jsonl"))
    results: dict[str, list[dict]] = {"full": [], "incremental": []}
    for _ in range(args.repeat):
        set_day(work, sizes, appended=False)
        run = work / "data-run"
        shutil.rmtree(run, ignore_errors=True)
        shutil.copytree(base, run, symlinks=True)
        set_day(work, sizes, appended=True)
        results["incremental"].append(run_child("incremental", raw, run))
        fresh = work / "data-full"
        shutil.rmtree(fresh, ignore_errors=True)
        results["full"].append(run_child("full", raw, fresh))
    inc, full = (min(results[k], key=lambda r: r["seconds"]) for k in ("incremental", "full"))
    assert all(r["built_by"] == "incremental" for r in results["incremental"]), results["incremental"]
    a, b = Path(results["incremental"][-1]["folder"]), Path(results["full"][-1]["folder"])
    same = all((a / p.name).read_bytes() == p.read_bytes() for p in b.glob("*.parquet"))
    print(
        f"{args.years:g} year(s), {args.deals_per_year} deals/year, one day = {day_lines} raw lines | "
        f"full {full['seconds']:.2f} s (peak {full['peak_mb']:.0f} MiB) | incremental {inc['seconds']:.2f} s "
        f"(peak {inc['peak_mb']:.0f} MiB) | ratio {inc['seconds'] / full['seconds']:.2f} | "
        f"tables byte-equal: {same}",
        flush=True,
    )


if __name__ == "__main__":
    main()
