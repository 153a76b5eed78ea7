"""Benchmark of the pull client against the emulator at amoCRM's real 7 requests/s.

    .venv/bin/python bench/pull.py [--minutes 2] [--scaled-deals 3000] [--deals-per-year 100000]

The emulator runs as its own process (``python -m etl emulator``), like the real amoCRM is
remote; its request log (``GET /_emulator/log``) is what the figures come from.  A full pull of a
one-year account (100k deals) is ~20k requests, about 50 minutes at 7/s, so it is measured in
three bounded parts:

1. sustained rate: the first ``--minutes`` of a full pull of the one-year account (requests/s,
   429s, the most requests seen in any 1-second window);
2. requests vs the minimum: a *complete* full pull of a scaled-down account (``--scaled-deals`` a
   year), against Σ ceil(records / page size) per collection;
3. incremental: the one-year account's raw export as of its end, then a pull after the emulator's
   clock advanced one day: requests vs Σ ceil(fetched records / page size).

``--count DEALS`` instead counts the requests of one complete full pull of a ``DEALS``-a-year
account, by collection, with the emulator and the client unthrottled (1 000/s): what a pull asks
for, not how fast (at amoCRM's 7/s the time is requests / 7 s).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from etl.extract.amo_client import AmoClient, Cancelled, StaticToken  # noqa: E402
from etl.extract.pull import SPECS, pull  # noqa: E402
from etl.simulated.emulator import sliding_window_max  # noqa: E402
from etl.simulated.synth import generate_account, write_raw_export  # noqa: E402

RATE = 7.0
CAP = {s.name: s.limit_cap for s in SPECS}


class Emulator:
    """``python -m etl emulator`` in a child process, on a free port, with a known token."""

    def __init__(self, *args: str) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.token = "bench-" + secrets.token_hex(8)
        cmd = [sys.executable, "-m", "etl", "emulator", *args, "--port", str(port), "--token", self.token]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"emulator exited: {self.proc.stderr.read()}")
            try:
                self.state = requests.get(self.url + "/_emulator/state", timeout=5).json()
                return
            except requests.RequestException:
                time.sleep(0.5)
        raise RuntimeError("emulator did not start in 300 s")

    def log(self, since: int = 0) -> list[dict]:
        return requests.get(self.url + "/_emulator/log", params={"since": since}, timeout=60).json()["requests"]

    def advance(self, seconds: float) -> None:
        requests.post(self.url + "/_emulator/advance", json={"seconds": seconds}, timeout=600).raise_for_status()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def minimum_requests(counts: dict[str, int]) -> int:
    """One request per page of each collection (at least one per collection)."""
    return sum(max(1, -(-n // CAP.get(name, 250))) for name, n in counts.items())


def stats(log: list[dict]) -> str:
    times = sorted(e["mono"] for e in log)
    rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    span8 = min((times[i + 7] - times[i] for i in range(len(times) - 7)), default=float("nan"))
    n429 = sum(1 for e in log if e["status"] == 429)
    return (
        f"sustained {rate:.2f} req/s = {rate / RATE:.3f} × {RATE:g}; 429s: {n429}; "
        f"most in any 1 s: {sliding_window_max(times)}; shortest span of 8 requests: {span8 * 1000:.0f} ms"
    )


def client_for(emu: Emulator, cancel: threading.Event | None = None) -> AmoClient:
    return AmoClient(emu.url, StaticToken(emu.token), rate_limit_per_s=RATE, cancel=cancel)


def view_counts(counts: dict[str, int]) -> dict[str, int]:
    """/_emulator/state counts → the pull's collections (the trash pass apart)."""
    out = {"account": 1, "pipelines": 1, **{k: v for k, v in counts.items() if k not in ("pipelines", "deleted_leads")}}
    out["leads_deleted"] = counts.get("deleted_leads", 0)
    return out


def count_requests(deals_per_year: int, work: Path) -> None:
    """``--count``: one complete full pull, unthrottled; requests and records per collection."""
    emu = Emulator("--demo", "--deals-per-year", str(deals_per_year), "--rate-limit", "1000", "--data-dir", str(work))
    try:
        t0 = time.monotonic()
        with AmoClient(emu.url, StaticToken(emu.token), rate_limit_per_s=1000.0) as client:
            result = pull(work / "raw", client)
        print(f"full pull of a {deals_per_year}-deals/year account, unthrottled, {time.monotonic() - t0:.0f} s")
        for name, col in result.collections.items():
            print(f"    {name:<14}{col.records:>10} records {col.requests:>7} requests")
        fetched = {k: v.records for k, v in result.collections.items()}
        print(
            f"    total {result.requests} requests vs minimum {minimum_requests(fetched)}; "
            f"at {RATE:g}/s: {result.requests / RATE / 60:.1f} min"
        )
    finally:
        emu.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, metavar="DEALS", help="only count a full pull's requests (see above)")
    ap.add_argument("--minutes", type=float, default=2.0, help="length of the bounded one-year full pull")
    ap.add_argument("--scaled-deals", type=int, default=3000, help="deals/year of the completely pulled account")
    ap.add_argument("--deals-per-year", type=int, default=100_000, help="size of the one-year account")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-pull-"))
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    if args.count:
        try:
            count_requests(args.count, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return 0
    try:
        t0 = time.monotonic()
        account = generate_account(seed=1, deals_per_year=args.deals_per_year, years=1.0)
        end = account.end.isoformat().replace("+00:00", "Z")
        demo = {"seed": 1, "deals_per_year": args.deals_per_year, "years": 1.0, "end": end}
        write_raw_export(work / "home" / "raw", account.as_of(account.end), pulled_at=account.end, extra={"demo": demo})
        del account
        print(f"one-year account ({args.deals_per_year} deals/year) and its raw export: {time.monotonic() - t0:.0f} s")

        emu = Emulator("--demo", "--data-dir", str(work / "home"))
        try:
            counts = view_counts(emu.state["counts"])
            minimum = minimum_requests(counts)
            print(f"\n[1] full pull of the one-year account, first {args.minutes:g} min, at {RATE:g}/s")
            print(f"    account: {', '.join(f'{k} {v}' for k, v in counts.items())}")
            cancel = threading.Event()
            timer = threading.Timer(args.minutes * 60, cancel.set)
            timer.start()
            try:
                with client_for(emu, cancel) as client:
                    pull(work / "bounded", client)
            except Cancelled:
                pass
            finally:
                timer.cancel()
            log = emu.log()
            print(f"    {len(log)} requests; {stats(log)}")
            rate = (len(log) - 1) / (log[-1]["mono"] - log[0]["mono"])
            print(f"    whole account: minimum {minimum} requests → {minimum / rate / 60:.0f} min at this rate")

            print("\n[3] incremental pull of the one-year account after one emulated day")
            t1 = time.monotonic()
            emu.advance(86400)
            print(f"    clock advanced one day ({time.monotonic() - t1:.0f} s to build the new view)")
            shutil.copytree(work / "home" / "raw", work / "incremental")
            since = len(emu.log())
            t2 = time.monotonic()
            with client_for(emu) as client:
                result = pull(work / "incremental", client)
            log = emu.log(since)
            fetched = {k: v.records for k, v in result.collections.items()}
            print(f"    fetched: {', '.join(f'{k} {v}' for k, v in fetched.items())}")
            print(
                f"    requests: {result.requests} vs minimum {minimum_requests(fetched)} "
                f"in {time.monotonic() - t2:.0f} s; {stats(log)}"
            )
        finally:
            emu.stop()

        print(f"\n[2] complete full pull of a scaled account ({args.scaled_deals} deals/year) at {RATE:g}/s")
        emu = Emulator("--demo", "--deals-per-year", str(args.scaled_deals), "--data-dir", str(work / "nothing"))
        try:
            counts = view_counts(emu.state["counts"])
            t3 = time.monotonic()
            with client_for(emu) as client:
                result = pull(work / "scaled", client)
            log = emu.log()
            minimum = minimum_requests(counts)
            print(f"    account: {', '.join(f'{k} {v}' for k, v in counts.items())}")
            print(
                f"    requests: {result.requests} vs minimum {minimum} (×{result.requests / minimum:.3f}) "
                f"in {time.monotonic() - t3:.0f} s"
            )
            print(f"    {stats(log)}")
        finally:
            emu.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
