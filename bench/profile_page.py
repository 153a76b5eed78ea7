"""Where a tab's page callback spends its time: metric calls vs views, figures and JSON.

    .venv/bin/python bench/profile_page.py --data-dir DIR [--tab touches_all] [--grain day] [--top 25] [--no-render-cache]

Through Flask's test client (as bench/ui.py): the page is opened once to warm up (imports, the
decoded tables, the metric cache for that view), then opened again under cProfile: a page
served with every metric cached, so what is left is what the views cost (``--no-render-cache``;
else the panels come rendered from the cache too). A page is the tab's request (KPI cards, empty
cards) and one request per panel, sent here one after the other. Prints the answers' size, the
time, and the functions of this repository with the most cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import dash_calls  # noqa: E402
from etl.config import load_config  # noqa: E402
from report.urlstate import TAB_PATHS, ViewState  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--tab", default="touches_all", choices=list(TAB_PATHS))
    parser.add_argument("--grain", default="day", choices=["day", "week", "month"])
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--no-render-cache", action="store_true", help="the second open draws the panels again (metrics cached)"
    )
    args = parser.parse_args(argv)

    from report.server import build_app

    config = load_config()
    app = build_app(config, args.data_dir)
    client = app.server.test_client()
    deps = client.get("/_dash-dependencies").get_json()
    sync, page = dash_calls.find(deps, dash_calls.SYNC), dash_calls.find(deps, dash_calls.PAGE)
    panel = dash_calls.find(deps, dash_calls.PANEL)
    state = ViewState(tab=args.tab, grain=args.grain)

    def open_page() -> tuple[float, int, int]:
        """Seconds, bytes of the tab's answer (KPIs, empty cards), bytes of the panels' answers."""
        answer = client.post("/_dash-update-component", json=dash_calls.open_link(sync, state, config.locale))
        t0 = time.perf_counter()
        resp = client.post("/_dash-update-component", json=dash_calls.page(page, answer.get_json()))
        panels = [
            client.post("/_dash-update-component", json=request)
            for request in dash_calls.panels(panel, resp.get_json())
        ]
        return time.perf_counter() - t0, len(resp.data), sum(len(p.data) for p in panels)

    first, size, panel_size = open_page()
    if args.no_render_cache:
        from report import cache

        cache.kept_render = lambda key: None  # type: ignore[assignment]
        import report.views

        report.views.kept_render = cache.kept_render  # type: ignore[attr-defined]
    profile = cProfile.Profile()
    profile.enable()
    again, _, _ = open_page()
    profile.disable()
    print(f"{args.tab}, grain {args.grain}: tab answer {size / 1024:.0f} KB + panels {panel_size / 1024:.0f} KB; "
          f"first open {first * 1000:.0f} ms, again (metrics cached{'' if args.no_render_cache else ', panels cached'}, "
          f"under cProfile) {again * 1000:.0f} ms")  # fmt: skip
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(str(REPO) + r"/(report|bench)", args.top)
    print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
