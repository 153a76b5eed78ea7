"""Benchmark of the pull client against the emulator at amoCRM's real 7 requests/s.

    .venv/bin/python bench/pull.py [--minutes 2] [--scaled-deals 3000] [--deals-per-year 100000]

A full pull of a one-year account (100k deals) is ~20k requests, about 50 minutes at 7/s, so the
benchmark measures it in three bounded parts:

1. sustained rate: the first ``--minutes`` of a full pull of the one-year account (requests/s from
   the emulator's own log, 429s, the most requests seen in any 1-second window);
2. requests vs the minimum: a *complete* full pull of a scaled-down account (``--scaled-deals`` a
   year), against Σ ceil(records / page size) per collection;
3. incremental: the one-year account's raw export as of its end, then a pull after the emulator's
   clock advanced one day: requests vs Σ ceil(changed records / page size).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etl.amo_client import AmoClient, Cancelled, StaticToken  # noqa: E402
from etl.emulator import iter_log_times, sliding_window_max, start_emulator  # noqa: E402
from etl.pull import SPECS, pull  # noqa: E402
from etl.synth import generate_account, write_raw_export  # noqa: E402

RATE = 7.0
PAGE = 250


def page_of(name: str) -> int:
    return next(s.limit_cap for s in SPECS if s.name == name) if name in {s.name for s in SPECS} else PAGE


def minimum_requests(counts: dict[str, int]) -> int:
    """One request per page of each collection (at least one), plus account and pipelines."""
    total = 0
    for name, n in counts.items():
        total += max(1, -(-n // min(PAGE, page_of(name))))
    return total


def view_counts(view: dict, since: int | None = None) -> dict[str, int]:
    """Records per pulled collection (leads and the trash pass apart), optionally changed since."""

    def n(records: list, field: str) -> int:
        if since is None:
            return len(records)
        return sum(1 for r in records if (r.get(field) or 0) >= since)

    return {
        "account": 1,
        "users": len(view["users"]),
        "pipelines": 1,
        "lead_fields": len(view["lead_fields"]),
        "leads": n(view["leads"], "updated_at"),
        "leads_deleted": n(view["deleted_leads"], "updated_at"),
        "contacts": n(view["contacts"], "updated_at"),
        "events": n(view["events"], "created_at"),
        "lead_notes": n(view["lead_notes"], "updated_at"),
        "contact_notes": n(view["contact_notes"], "updated_at"),
        "tasks": n(view["tasks"], "updated_at"),
    }


def window_stats(emu) -> tuple[float, int, int, float]:
    """(requests/s, 429s, most in any 1 s, shortest span of 8 consecutive requests) from the log."""
    log = emu.request_log()
    times = sorted(iter_log_times(log))
    rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    span8 = min((times[i + 7] - times[i] for i in range(len(times) - 7)), default=float("nan"))
    return rate, sum(1 for e in log if e.status == 429), sliding_window_max(times), span8


def client_for(emu, cancel: threading.Event | None = None) -> AmoClient:
    return AmoClient(emu.url, StaticToken(emu.token), rate_limit_per_s=RATE, cancel=cancel)


def bounded_full_pull(view: dict, minutes: float, workdir: Path) -> None:
    print(f"\n[1] full pull of the one-year account for {minutes:g} min at {RATE:g}/s")
    with start_emulator(view, rate_limit_per_s=RATE) as emu:
        cancel = threading.Event()
        timer = threading.Timer(minutes * 60, cancel.set)
        timer.start()
        t0 = time.monotonic()
        try:
            with client_for(emu, cancel) as client:
                pull(workdir / "bounded", client)
            print("    (finished before the time limit)")
        except Cancelled:
            pass
        finally:
            timer.cancel()
        elapsed = time.monotonic() - t0
        rate, n429, worst, span8 = window_stats(emu)
        total = minimum_requests(view_counts(emu.view()))
    print(f"    requests: {len(emu.request_log())} in {elapsed:.0f} s")
    print(f"    sustained: {rate:.2f} req/s = {rate / RATE:.3f} × {RATE:g}; 429s: {n429}; most in any 1 s: {worst}")
    print(f"    shortest span of 8 consecutive requests: {span8 * 1000:.0f} ms (must stay > 1000)")
    print(f"    whole account: ≥ {total} requests → ≥ {total / rate / 60:.0f} min at this rate")


def complete_scaled_pull(deals: int, end, workdir: Path) -> None:
    print(f"\n[2] complete full pull of a scaled account ({deals} deals/year) at {RATE:g}/s")
    account = generate_account(seed=1, deals_per_year=deals, years=1.0, end=end)
    with start_emulator(account, rate_limit_per_s=RATE) as emu:
        counts = view_counts(emu.view())
        t0 = time.monotonic()
        with client_for(emu) as client:
            result = pull(workdir / "scaled", client)
        elapsed = time.monotonic() - t0
        rate, n429, worst, span8 = window_stats(emu)
    minimum = minimum_requests(counts)
    print(f"    records: {sum(counts.values())} ({', '.join(f'{k} {v}' for k, v in counts.items())})")
    print(f"    requests: {result.requests} vs minimum {minimum} (×{result.requests / minimum:.3f}) in {elapsed:.0f} s")
    print(f"    sustained: {rate:.2f} req/s = {rate / RATE:.3f} × {RATE:g}; 429s: {n429}; most in any 1 s: {worst}")
    print(f"    shortest span of 8 consecutive requests: {span8 * 1000:.0f} ms")


def incremental_after_a_day(account, base: dict, workdir: Path) -> None:
    print("\n[3] incremental pull of the one-year account after one emulated day")
    raw = workdir / "incremental"
    t0 = time.monotonic()
    write_raw_export(raw, base, source="emulator", pulled_at=account.end)
    print(f"    raw export as of the end written ({time.monotonic() - t0:.0f} s)")
    since = int(account.end.timestamp()) - 300
    with start_emulator(account, rate_limit_per_s=RATE, clock=account.end + timedelta(days=1)) as emu:
        changed = view_counts(emu.view(), since)
        changed.update(users=len(base["users"]), lead_fields=len(base["lead_fields"]))
        t1 = time.monotonic()
        with client_for(emu) as client:
            result = pull(raw, client)
        elapsed = time.monotonic() - t1
        rate, n429, worst, _ = window_stats(emu)
    minimum = minimum_requests(changed)
    print(f"    changed records since the cursor − 300 s: {', '.join(f'{k} {v}' for k, v in changed.items())}")
    pulled = {k: v.records for k, v in result.collections.items()}
    print(f"    fetched: {', '.join(f'{k} {v}' for k, v in pulled.items())}")
    print(
        f"    requests: {result.requests} vs minimum {minimum} in {elapsed:.0f} s; 429s: {n429}; most in 1 s: {worst}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=2.0, help="length of the bounded one-year full pull")
    ap.add_argument("--scaled-deals", type=int, default=3000, help="deals/year of the completely pulled account")
    ap.add_argument("--deals-per-year", type=int, default=100_000, help="size of the one-year account")
    args = ap.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-pull-"))
    try:
        t0 = time.monotonic()
        account = generate_account(seed=1, deals_per_year=args.deals_per_year, years=1.0)
        base = account.as_of(account.end)
        print(
            f"one-year account: {args.deals_per_year} deals/year generated and shaped in {time.monotonic() - t0:.0f} s"
        )
        bounded_full_pull(base, args.minutes, workdir)
        complete_scaled_pull(args.scaled_deals, account.end, workdir)
        incremental_after_a_day(account, base, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
