"""Memory and start time of the emulator serving an account: peak RSS when ready, after a full pull.

    .venv/bin/python bench/emulator.py [--deals-per-year 100000] [--raw DIR] [--advance S] [--no-pull]

Starts ``python -m etl emulator`` (the demo account, default 100 000 deals a year, seed 1; or
``--raw DIR``) as its own process, unthrottled, and reads its ``/proc/PID/status``:

- *ready*: seconds until ``/_emulator/state`` answers, ``VmRSS`` (now) and ``VmHWM`` (the peak so far);
- *after pull*: the same after one complete full pull by the real client (``etl.extract.pull``,
  written to a temp folder that is removed afterwards): every collection, every page;
- *after advance* (``--advance S``): after ``POST /_emulator/advance`` by S seconds (the new view built).

The pull runs in this process, so the client's memory is not counted.
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
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from etl.extract.amo_client import AmoClient, StaticToken  # noqa: E402
from etl.extract.pull import pull  # noqa: E402


def memory(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in GB (10^9 bytes)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) * 1024 / 1e9
    return fields["VmRSS"], fields["VmHWM"]


def start(args: list[str], token: str) -> tuple[subprocess.Popen, str, float]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    cmd = [
        sys.executable,
        "-m",
        "etl",
        "emulator",
        *args,
        "--port",
        str(port),
        "--token",
        token,
        "--rate-limit",
        "100000",
    ]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"emulator exited: {proc.stderr.read()}")
        try:
            requests.get(url + "/_emulator/state", timeout=600).raise_for_status()
            return proc, url, time.monotonic() - t0
        except requests.RequestException:
            time.sleep(0.25)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--deals-per-year", type=int, default=100_000)
    ap.add_argument("--raw", help="serve this raw export folder instead of the demo account (read only)")
    ap.add_argument("--advance", type=float, default=0, metavar="S", help="then advance the clock by S seconds")
    ap.add_argument("--no-pull", action="store_true", help="measure the start only")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-emulator-"))
    token = "bench-" + secrets.token_hex(8)
    source = ["--raw", args.raw] if args.raw else ["--demo", "--deals-per-year", str(args.deals_per_year)]
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; serving {' '.join(source)}")
    proc, url, started = start([*source, "--data-dir", str(work / "nothing")], token)
    try:
        rss, hwm = memory(proc.pid)
        print(f"ready after {started:.0f} s: RSS {rss:.2f} GB, peak {hwm:.2f} GB", flush=True)
        if not args.no_pull:
            t0 = time.monotonic()
            with AmoClient(url, StaticToken(token), rate_limit_per_s=100000.0) as client:
                result = pull(work / "raw", client)
            shutil.rmtree(work / "raw", ignore_errors=True)
            records = sum(col.records for col in result.collections.values())
            rss, hwm = memory(proc.pid)
            print(
                f"full pull ({result.requests} requests, {records} records) in {time.monotonic() - t0:.0f} s: "
                f"RSS {rss:.2f} GB, peak {hwm:.2f} GB",
                flush=True,
            )
        if args.advance:
            t0 = time.monotonic()
            requests.post(url + "/_emulator/advance", json={"seconds": args.advance}, timeout=1800).raise_for_status()
            rss, hwm = memory(proc.pid)
            print(f"advance {args.advance:g} s in {time.monotonic() - t0:.0f} s: RSS {rss:.2f} GB, peak {hwm:.2f} GB")
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
