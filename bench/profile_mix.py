"""Where a server's CPU goes over a mix of cold views, as the locust viewers make them.

    .venv/bin/python bench/profile_mix.py --data-dir DIR [--views 40] [--seed 1] [--top 45]

Through Flask's test client, in one process, over an empty data folder that links to ``DIR``'s
snapshots (an empty metric and render cache, nothing written into ``DIR``): the funnels tab is
opened once, then ``--views`` actions as bench/locustfile.py draws them (a quarter open another
tab, the rest change one or two cities, a manager, the grain, the period or the pipeline class),
each followed by the tab's request and every panel's, under cProfile. Prints ms per view, the
functions with the most cumulative time, and the process's peak RSS and what it keeps
(report.metrics.kept).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import dash_calls  # noqa: E402
from report import ids, urlstate  # noqa: E402
from report.urlstate import ViewState  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--views", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--top", type=int, default=45)
    args = parser.parse_args(argv)
    os.environ["REPORT_WARM_UP"] = "0"

    from etl.config import load_config
    from report.metrics import kept
    from report.server import build_app

    config = load_config()
    data = Path(tempfile.mkdtemp(prefix="profile-mix-"))
    (data / config.snapshots_dir).symlink_to((args.data_dir / config.snapshots_dir).resolve(), target_is_directory=True)
    client = build_app(config, data).server.test_client()
    deps = client.get("/_dash-dependencies").get_json()
    layout = client.get("/_dash-layout").get_json()
    sync, page, panel = (dash_calls.find(deps, m) for m in (dash_calls.SYNC, dash_calls.PAGE, dash_calls.PANEL))
    cities, managers = dash_calls.options_in(layout, ids.CITIES), dash_calls.options_in(layout, ids.MANAGERS)
    rng = random.Random(args.seed)

    def post(payload: dict):
        return client.post("/_dash-update-component", json=payload)

    def view(answer) -> None:
        shells = post(dash_calls.page(page, answer.get_json()))
        for request in dash_calls.panels(panel, shells.get_json()):
            post(request)

    state = ViewState(tab="funnels")
    answer = post(dash_calls.open_link(sync, state, "ru"))
    today = date.fromisoformat(answer.get_json()["response"][ids.DATE_RANGE]["end_date"])
    view(answer)
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    for _ in range(args.views):
        if rng.random() < 0.25:
            state = ViewState(tab=rng.choice([t for t in urlstate.TAB_PATHS if t != state.tab]))
            answer = post(dash_calls.open_link(sync, state, "ru"))
        else:
            shown = state
            state = dash_calls.changed_filter(rng, shown, cities, managers)
            answer = post(dash_calls.change_filters(sync, state, shown, "ru", today))
        view(answer)
    profile.disable()
    elapsed = time.perf_counter() - started
    print(f"{args.views} views in {elapsed:.1f} s = {elapsed / args.views * 1000:.0f} ms per view (under cProfile)")
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(args.top)
    print(out.getvalue())
    kept_mib = sum(df.estimated_size() for df in kept._REMEMBERED.values()) / 2**20
    columns_mib = sum(s.estimated_size() for s in kept._COLUMNS.values()) / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MiB; kept: columns {columns_mib:.0f} MiB, period reads {kept_mib:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
