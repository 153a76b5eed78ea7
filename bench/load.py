"""Load on the report: connection resets (issue 13), and throughput and latency under viewers.

``python bench/load.py http://127.0.0.1:8050 --clients 40 --seconds 30``: resets (below).

``python bench/load.py sweep --data-dir DIR --locust .venv-load/bin/locust [--users 10 20 40]``:
for each user count, a fresh ``python -m report serve --workers 2`` on 127.0.0.1 (gunicorn, an
empty metric cache) and locust viewers (bench/locustfile.py) for ``--seconds``; prints
throughput, p50/p95 per kind of request, errors and each worker's peak RSS (see :func:`sweep`).

Each client holds one HTTP/1.1 connection, as a browser or a reverse proxy does, and requests the
report's pages and Dash endpoints with an idle pause between them drawn from 0 to ``--max-pause``
seconds: pauses around the server's keep-alive timeout are where a server closing an idle socket
races a client sending on it.  A reset (``ConnectionResetError``, ``RemoteDisconnected``,
``BrokenPipeError``) is counted and the client reconnects, as a browser would retry.  Bounded in
time; prints one JSON line.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

PATHS = ("/funnels", "/_dash-layout", "/_dash-dependencies", "/assets/bootstrap.min.css", "/time-between-statuses")
RESETS = (ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError, ConnectionAbortedError)


def _client(host: str, port: int, until: float, max_pause: float, seed: int, out: dict) -> None:
    rng = random.Random(seed)
    conn = http.client.HTTPConnection(host, port, timeout=30)
    while time.monotonic() < until:
        path = rng.choice(PATHS)
        started = time.monotonic()
        try:
            conn.request("GET", path, headers={"Connection": "keep-alive"})
            resp = conn.getresponse()
            resp.read()
            ok = resp.status == 200
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
                out["server_closes"] += 1
        except RESETS:
            out["resets"] += 1
            conn.close()
            continue
        except OSError:
            out["other_errors"] += 1
            conn.close()
            continue
        out["latencies"].append(time.monotonic() - started)
        out["ok" if ok else "not_200"] += 1
        time.sleep(rng.uniform(0, max_pause))
    conn.close()


def run(url: str, clients: int, seconds: float, max_pause: float) -> dict:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    until = time.monotonic() + seconds
    results = [
        {"ok": 0, "not_200": 0, "resets": 0, "other_errors": 0, "server_closes": 0, "latencies": []}
        for _ in range(clients)
    ]
    threads = [
        threading.Thread(target=_client, args=(host, port, until, max_pause, i, results[i]), daemon=True)
        for i in range(clients)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=seconds + 60)
    latencies = sorted(x for r in results for x in r["latencies"])
    total = {k: sum(r[k] for r in results) for k in ("ok", "not_200", "resets", "other_errors", "server_closes")}
    total["clients"] = clients
    total["seconds"] = seconds
    if latencies:
        total["p50_ms"] = round(1000 * statistics.median(latencies))
        total["p95_ms"] = round(1000 * latencies[int(0.95 * (len(latencies) - 1))])
    return total


# --- sweep: gunicorn + locust ------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(data: Path, workers: int, port: int, log: Path) -> subprocess.Popen:
    """``python -m report serve`` (it execs gunicorn: this process becomes its master)."""
    cmd = [sys.executable, "-m", "report", "serve", "--data-dir", str(data), "--port", str(port)]
    cmd += ["--workers", str(workers)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.returncode}); see {log}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("GET", "/funnels")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError(f"the server did not answer in 180 s; see {log}")


def _rss_sampler(master: int, stop: threading.Event, peaks: dict[int, float]) -> None:
    """Each gunicorn worker's peak RSS (MiB), sampled every 0.5 s."""
    import psutil

    while not stop.is_set():
        try:
            for child in psutil.Process(master).children():
                rss = child.memory_info().rss / 2**20
                peaks[child.pid] = max(peaks.get(child.pid, 0.0), rss)
        except psutil.Error:
            pass
        stop.wait(0.5)


def _stats(prefix: Path) -> dict[str, dict[str, float]]:
    """locust's ``<prefix>_stats.csv``: per request name (and ``Aggregated``) the count,
    failures, p50, p95 (ms) and requests/s."""
    out = {}
    with open(f"{prefix}_stats.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out[row["Name"]] = {
                "n": int(row["Request Count"]),
                "fail": int(row["Failure Count"]),
                "p50": float(row["50%"] or 0),
                "p95": float(row["95%"] or 0),
                "rps": float(row["Requests/s"] or 0),
            }
    return out


def sweep(
    data: Path, users: list[int], seconds: int, workers: int, locust: list[str], work: Path
) -> list[dict[str, object]]:
    """For each user count: a fresh server over a copy-free view of ``data`` (its snapshots
    folder linked into an empty data folder: a cold metric cache, nothing written into
    ``data``), locust for ``seconds`` (users arrive over 5 s), each worker's peak RSS."""
    sys.path.insert(0, str(REPO))
    from etl.config import load_config

    snapshots = load_config().snapshots_dir
    results = []
    for n in users:
        run = work / f"u{n}"
        shutil.rmtree(run, ignore_errors=True)
        (run / "data").mkdir(parents=True)
        (run / "data" / snapshots).symlink_to((data / snapshots).resolve(), target_is_directory=True)
        port = _free_port()
        server = _serve(run / "data", workers, port, run / "server.log")
        peaks: dict[int, float] = {}
        stop = threading.Event()
        sampler = threading.Thread(target=_rss_sampler, args=(server.pid, stop, peaks), daemon=True)
        sampler.start()
        try:
            cmd = [*locust, "-f", str(REPO / "bench" / "locustfile.py"), "--headless", "--only-summary"]
            cmd += ["-u", str(n), "-r", str(max(1, n // 5)), "-t", f"{seconds}s", "--host", f"http://127.0.0.1:{port}"]
            cmd += ["--csv", str(run / "locust"), "--loglevel", "WARNING"]
            with open(run / "locust.log", "wb") as log:
                subprocess.run(cmd, cwd=REPO, check=False, stdout=log, stderr=subprocess.STDOUT)
        finally:
            stop.set()
            sampler.join()
            server.terminate()
            server.wait(timeout=60)
        stats = _stats(run / "locust")
        results.append({"users": n, "stats": stats, "rss_mib": sorted(round(v) for v in peaks.values())})
    return results


def report(results: list[dict[str, object]], seconds: int, workers: int) -> str:
    """The sweep as a markdown table."""
    lines = [
        f"gunicorn {workers} workers (gthread), {seconds} s per run; ms = p50 / p95",
        "| users | requests/s | views/s | view ms | page ms | panel ms | sync ms | failures | peak RSS per worker (MiB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        st = r["stats"]
        agg, view = st.get("Aggregated", {}), st.get("view", {})

        def ms(name: str, st: dict = st) -> str:
            d = st.get(name, {})
            return f"{d.get('p50', 0):.0f} / {d.get('p95', 0):.0f}"

        requests = agg.get("n", 0) - view.get("n", 0)  # "view" is a time, not a request
        lines.append(
            f"| {r['users']} | {agg.get('rps', 0) - view.get('rps', 0):.1f} | {view.get('rps', 0):.1f} | {ms('view')} | "
            f"{ms('page')} | {ms('panel')} | {ms('sync')} | {agg.get('fail', 0)} of {requests} | "
            f"{', '.join(map(str, r['rss_mib']))} |"
        )
    return "\n".join(lines)


def sweep_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python bench/load.py sweep", description="gunicorn + locust viewers")
    parser.add_argument("--data-dir", type=Path, required=True, help="a data folder with a published snapshot")
    parser.add_argument("--users", type=int, nargs="+", default=[10, 20, 40])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--locust", default=None, help="the locust command (default: python -m locust)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "report-load-sweep")
    parser.add_argument(
        "--scroll",
        type=float,
        default=1.0,
        help="share of views after which the viewer scrolls through every panel (else the first screen's only)",
    )
    args = parser.parse_args(argv)
    os.environ["REPORT_LOAD_SCROLL"] = str(args.scroll)  # read by bench/locustfile.py
    print(f"viewers scroll through every panel after {args.scroll:.0%} of their views")
    locust = [args.locust] if args.locust else [sys.executable, "-m", "locust"]
    results = sweep(args.data_dir, args.users, args.seconds, args.workers, locust, args.work)
    print(report(results, args.seconds, args.workers))
    (args.work / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


def main() -> None:
    if sys.argv[1:2] == ["sweep"]:
        sys.exit(sweep_main(sys.argv[2:]))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--max-pause", type=float, default=3.0)
    args = parser.parse_args()
    print(json.dumps(run(args.url, args.clients, args.seconds, args.max_pause)))


if __name__ == "__main__":
    main()
