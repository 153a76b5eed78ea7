"""Viewers on keep-alive connections, to find connection resets (issue 13).

``python bench/load.py http://127.0.0.1:8050 --clients 40 --seconds 30``

Each client holds one HTTP/1.1 connection, as a browser or a reverse proxy does, and requests the
report's pages and Dash endpoints with an idle pause between them drawn from 0 to ``--max-pause``
seconds: pauses around the server's keep-alive timeout are where a server closing an idle socket
races a client sending on it.  A reset (``ConnectionResetError``, ``RemoteDisconnected``,
``BrokenPipeError``) is counted and the client reconnects, as a browser would retry.  Bounded in
time; prints one JSON line.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import threading
import time
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--max-pause", type=float, default=3.0)
    args = parser.parse_args()
    print(json.dumps(run(args.url, args.clients, args.seconds, args.max_pause)))


if __name__ == "__main__":
    main()
