"""Benchmark: ``etl build`` against the floor of polars merely reading the same JSONL files.

    .venv/bin/python bench/build.py [--years 1 5] [--deals-per-year 100000] [--repeat 3]

For each size it generates the synthetic account once (cached in bench/out/raw-<N>y/), then
times, each in a fresh child process (so peak memory is that step's own):
- ``floor``: polars reading every JSONL file of the export (the build's own column selection,
  ``etl.extract.rawio``) and nothing else;
- ``build``: the whole build, read + transform + parquet write + atomic publish, in full
  (``build_snapshot(full=True)``: every file parsed, the parsed parts written; bench/incremental.py
  measures the build after a pull).
It prints the best of ``--repeat`` runs, the ratio build/floor (target ≤ 2) and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

from etl import allocator  # noqa: E402  (no polars: the children set it before loading polars)

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
mode, raw, data = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
t0 = time.perf_counter()
if mode == "floor":
    from etl.extract import rawio
    rows = 0
    for name, schema in rawio.SCHEMAS.items():
        rows += rawio.read_jsonl(raw / name, schema).height
elif mode == "floor-infer":
    import polars as pl
    rows = 0
    for name in __import__("etl.extract.rawio", fromlist=["SCHEMAS"]).SCHEMAS:
        rows += pl.read_ndjson(raw / name, infer_schema_length=None).height
else:
    from etl.transform.build import build_snapshot
    from etl.config import load_config
    folder = build_snapshot(raw, load_config(), data, full=True)  # not through the parsed parts of the last run
    rows = sum(json.loads((folder / "manifest.json").read_text())["row_counts"].values())
took = time.perf_counter() - t0
print(json.dumps({{"seconds": took, "rows": rows, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def ensure_raw(years: float, deals_per_year: int) -> Path:
    raw = OUT / f"raw-{deals_per_year}-{years:g}y"
    if (raw / "leads.jsonl").exists():
        return raw
    from datetime import UTC, datetime

    sys.path.insert(0, str(ROOT))
    from etl.simulated.synth import generate_account

    t0 = time.perf_counter()
    end = datetime(2026, 11, 30, tzinfo=UTC)
    account = generate_account(seed=1, deals_per_year=deals_per_year, years=years, end=end)
    account.export(raw, account.end, pulled_at=account.end)  # = write_raw_export(as_of(end)), streamed
    print(f"  generated {raw.name} in {time.perf_counter() - t0:.1f} s", flush=True)
    return raw


def run_child(mode: str, raw: Path, data: Path, child: str = CHILD) -> dict:
    """Run ``child`` (a script printing one JSON line last) in a fresh process; its answer."""
    proc = subprocess.run(
        [sys.executable, "-c", child.format(root=str(ROOT)), mode, str(raw), str(data)],
        capture_output=True,
        text=True,
        check=False,
        env={**allocator.ENV, **os.environ},  # as ``python -m etl`` runs (etl/allocator.py)
    )
    if proc.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--years", type=float, nargs="+", default=[1, 5])
    parser.add_argument("--deals-per-year", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for years in args.years:
        raw = ensure_raw(years, args.deals_per_year)
        size_mb = sum(p.stat().st_size for p in raw.iterdir()) / 2**20
        lines = sum(p.read_bytes().count(b"\n") for p in raw.glob("*.jsonl"))
        results: dict[str, dict] = {}
        for mode in ("floor", "build"):
            runs = [run_child(mode, raw, OUT / f"data-{years:g}y") for _ in range(args.repeat)]
            results[mode] = min(runs, key=lambda r: r["seconds"])
        f, b = results["floor"], results["build"]
        print(
            f"{years:g} year(s), {args.deals_per_year} deals/year: raw {size_mb:.0f} MiB, {lines} records | "
            f"floor {f['seconds']:.2f} s (peak {f['peak_mb']:.0f} MiB) | build {b['seconds']:.2f} s "
            f"(peak {b['peak_mb']:.0f} MiB, {b['rows']} snapshot rows) | ratio {b['seconds'] / f['seconds']:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
