"""Benchmark: server-side latency of a filter change in the report, per tab, on a one-year account.

    .venv/bin/python bench/ui.py [--data-dir DIR] [--deals-per-year 100000] [--repeat 5] [--cached]

A filter change in the browser costs two requests: the URL ⇄ filters callback and the tab's page
callback (one round of metric calls, figures, tables). This script sends exactly those requests
through Flask's test client, as the browser would, and times them together. Every change picks a
filter combination not seen before, so the metric cache (when ``--cached`` configures it) misses:
the figures are "cold" (parquet already in the OS page cache, as on a running server).
``--cached`` also times the same changes a second time, served from the metric cache.

Without ``--data-dir`` it generates the synthetic account (``etl.simulated.synth``) and builds it
(``etl.transform.build``) once under bench/out/ui-<N>/, reusing it on later runs.
Target (issue 5): each tab ≤ 300 ms cold at one year.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import dash_calls  # noqa: E402
from etl.config import load_config  # noqa: E402
from report import urlstate  # noqa: E402
from report.urlstate import ViewState  # noqa: E402

OUT = REPO / "bench" / "out"


def ensure_data(deals_per_year: int) -> Path:
    """A data dir with a published one-year snapshot (generated and built once, then reused)."""
    data = OUT / f"ui-{deals_per_year}"
    if (data / "snapshots" / "CURRENT").exists():
        return data
    from etl.simulated.synth import generate_account, write_raw_export
    from etl.transform.build import build_snapshot

    raw = OUT / f"ui-raw-{deals_per_year}"
    end = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    t0 = time.perf_counter()
    account = generate_account(seed=7, deals_per_year=deals_per_year, years=1, end=end)
    write_raw_export(raw, account.as_of(account.end), pulled_at=account.end)
    build_snapshot(raw, load_config(), data)
    print(f"generated and built the account in {time.perf_counter() - t0:.0f} s → {data}")
    return data


def _post(client, payload: dict) -> dict:
    resp = client.post("/_dash-update-component", json=payload)
    if resp.status_code == 204:
        return {}
    if resp.status_code != 200:
        raise RuntimeError(f"callback answered {resp.status_code}: {resp.get_data(as_text=True)[:500]}")
    return resp.get_json()


def filter_change(deps: list[dict], client, state: ViewState, prev: ViewState, default_lang: str, today) -> float:
    """The requests of one filter change (URL sync, the tab, each panel: bench/dash_calls.py), one
    after the other; seconds. A browser sends the panels' requests at once, so on a server with
    free threads this is an upper bound."""
    sync, page = dash_calls.find(deps, dash_calls.SYNC), dash_calls.find(deps, dash_calls.PAGE)
    panel = dash_calls.find(deps, dash_calls.PANEL)
    t0 = time.perf_counter()
    out = _post(client, dash_calls.change_filters(sync, state, prev, default_lang, today))
    shells = _post(client, dash_calls.page(page, out))
    for request in dash_calls.panels(panel, shells):
        _post(client, request)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--deals-per-year", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5, help="filter changes per tab")
    parser.add_argument("--cached", action="store_true", help="configure the metric cache and time hits too")
    args = parser.parse_args(argv)

    data = Path(args.data_dir) if args.data_dir else ensure_data(args.deals_per_year)
    config = load_config()
    tmp = None
    if args.cached:
        from report.cache import configure_cache

        tmp = tempfile.TemporaryDirectory()
        configure_cache(Path(tmp.name) / "cache", 512 * 1024 * 1024)

    from report.app import create_app

    app = create_app(config, data, metric_cache=False)  # the cache, if any, is the one set up above
    client = app.server.test_client()
    assert client.get("/funnels").status_code == 200
    deps = client.get("/_dash-dependencies").get_json()
    info = app.server.config["REPORT_SOURCE"].get()
    deals = info.snap.row_counts.get("deals")
    print(f"snapshot {info.snap.id}: {deals} deals, data as of {info.snap.data_as_of:%Y-%m-%d}; today = {info.today}")
    cities = [c for c in info.cities]
    import polars as pl

    busy = info.snap.scan("deals").group_by("city").len().sort("len", descending=True).collect()["city"].drop_nulls()
    cities = [c for c in busy.to_list() if c in set(cities)]
    managers = info.users.filter(pl.col("city").is_not_null())["user_id"].to_list()

    # Warm-up: imports, parquet metadata, the OS page cache (a running server is in this state).
    for tab in urlstate.TAB_PATHS:
        filter_change(deps, client, ViewState(tab=tab), ViewState(tab=tab, grain="day"), config.locale, info.today)

    results: dict[str, dict[str, list[float]]] = {}
    variants = [
        ("all cities, this year", lambda i: {}),
        ("one city", lambda i: {"cities": (cities[i % len(cities)],)}),
        ("grain week, two cities", lambda i: {"grain": "week", "cities": tuple(cities[i % 5 : i % 5 + 2])}),
        ("one manager", lambda i: {"managers": (managers[i % len(managers)],)}),
        ("last quarter, office", lambda i: {"period": "last_quarter", "channel": "office", "cities": (cities[i + 7],)}),
    ]
    for tab in urlstate.TAB_PATHS:
        results[tab] = {}
        for name, make in variants:
            times, hits = [], []
            for i in range(args.repeat):
                state = ViewState(tab=tab, **make(i + (1 if name != "all cities, this year" else 0)))
                prev = ViewState(tab=tab, grain="day")
                if name == "all cities, this year" and args.cached:
                    from report.cache import configure_cache  # a fresh cache so this one misses too

                    configure_cache(Path(tmp.name) / f"cache-{tab}-{i}", 512 * 1024 * 1024)
                times.append(filter_change(deps, client, state, prev, config.locale, info.today))
                if args.cached:
                    hits.append(filter_change(deps, client, state, prev, config.locale, info.today))
            results[tab][name] = times
            line = f"{tab:15s} {name:26s} cold median {statistics.median(times) * 1000:6.0f} ms  max {max(times) * 1000:6.0f} ms"
            if hits:
                line += f"   cached median {statistics.median(hits) * 1000:5.0f} ms"
            print(line, flush=True)
    worst = max(max(v) for tab in results.values() for v in tab.values())
    medians = {tab: statistics.median([t for v in r.values() for t in v]) * 1000 for tab, r in results.items()}
    print("per-tab median over all changes (ms):", json.dumps({k: round(v) for k, v in medians.items()}))
    print(f"worst single change: {worst * 1000:.0f} ms (target ≤ 300 ms cold)")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
