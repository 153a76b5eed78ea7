"""The synthetic demo account: the generator's entry point and ``python -m etl demo``.

A deterministic, realistic sales business for the demo and the emulator, built by the modules of
this package (see ``docs/demo-account.md``): :mod:`~etl.simulated.params` (behaviour parameters),
:mod:`~etl.simulated.cast` (users, pipelines, fields), the business timeline (arrivals, journeys,
status_changes, clients, touches, tasks, event_log, orchestrated by :mod:`~etl.simulated.generate`),
the API-shaped views (:mod:`~etl.simulated.account`, lead_view, activity_view) and the raw export
writer (:mod:`~etl.simulated.raw_export`).  Other code imports the names below from here.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from etl.simulated.account import SynthAccount
from etl.simulated.generate import generate_account
from etl.simulated.params import SynthParams
from etl.simulated.raw_export import RAW_FILES, write_raw_export
from etl.simulated.timekit import iso, to_ts

__all__ = ["RAW_FILES", "SynthAccount", "SynthParams", "generate_account", "main", "write_raw_export"]


def _parse_end(value: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--end must be a date YYYY-MM-DD, got {value!r}") from exc


def main(argv: list[str]) -> int:
    """``python -m etl demo --out DIR [--seed N] [--deals-per-year N] [--years N] [--end YYYY-MM-DD]``."""
    ap = argparse.ArgumentParser(
        prog="python -m etl demo", description="Write the synthetic demo account as a raw export."
    )
    ap.add_argument("--out", required=True, type=Path, help="raw export folder to (re)write")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--deals-per-year", type=int, default=100_000)
    ap.add_argument("--years", type=float, default=1.0)
    ap.add_argument("--end", type=_parse_end, default=None, help="UTC date the export is pulled at (default: now)")
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.deals_per_year < 0 or args.years <= 0:
        print("demo: --deals-per-year must be >= 0 and --years > 0", file=sys.stderr)
        return 2
    end = args.end or datetime.now(UTC).replace(second=0, microsecond=0)

    def say(msg: str) -> None:
        print(f"demo: {msg}", file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    say(
        f"simulating {args.deals_per_year} deals/year × {args.years:g} years up to {iso(to_ts(end))} (seed {args.seed}) …"
    )
    try:
        account = generate_account(seed=args.seed, deals_per_year=args.deals_per_year, years=args.years, end=end)
    except Exception as exc:  # a config problem (cities) or bad parameters: say what, no traceback
        say(f"error: {exc}")
        return 1
    counts = account.counts
    say(f"simulated {counts['deals']} deals, {counts['events']} events, {counts['notes']} notes, {counts['tasks']} tasks "
        f"({time.perf_counter() - t0:.1f} s)")  # fmt: skip
    say(f"writing {args.out} as of {iso(to_ts(end))} …")
    extra = {
        "demo": {"seed": args.seed, "deals_per_year": args.deals_per_year, "years": args.years, "end": iso(to_ts(end))}
    }
    try:
        account.export(args.out, end, source="emulator", pulled_at=end, extra=extra, progress=say)
    except FileExistsError as exc:
        say(f"error: {exc}")
        return 1
    except OSError as exc:
        say(f"error: cannot write {args.out}: {exc.strerror or exc}")
        return 1
    say(f"done in {time.perf_counter() - t0:.1f} s")
    return 0
