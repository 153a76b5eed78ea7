"""The synthetic demo accounts the benches run on: generated and built once under a work folder,
reused on later runs."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from etl.snapshot.store import Snapshot, open_current

#: The accounts end here (the synthetic generator's "now").
END = datetime(2026, 11, 1, tzinfo=UTC)


def ensure_snapshot(work: Path, years: int, deals_per_year: int, seed: int) -> Snapshot:
    """Generate the raw export and build the snapshot once (``work/raw-<tag>``,
    ``work/data-<tag>``); reuse them on later runs."""
    from etl.config import load_config
    from etl.transform.build import build_snapshot

    tag = f"{years}y-{deals_per_year}-s{seed}"
    raw = work / f"raw-{tag}"
    data = work / f"data-{tag}"
    config = load_config()
    snaps = data / config.snapshots_dir
    if (snaps / "CURRENT").exists():
        return open_current(snaps)
    if not (raw / "export.json").exists():
        from etl.simulated.synth import generate_account

        t0 = time.perf_counter()
        account = generate_account(seed=seed, deals_per_year=deals_per_year, years=years, end=END)
        # = write_raw_export(raw, account.as_of(END)), streamed: the five-year view held whole
        # took 18.5 GiB and was killed for memory.
        account.export(raw, END, pulled_at=END)
        print(f"  generated {raw} in {time.perf_counter() - t0:.0f} s", flush=True)
    t0 = time.perf_counter()
    build_snapshot(raw, config, data)
    print(f"  built snapshot in {time.perf_counter() - t0:.0f} s", flush=True)
    return open_current(snaps)
