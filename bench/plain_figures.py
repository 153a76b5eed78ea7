"""Do two versions of report/figures draw the same charts, and how long do they take? (issue 10)

    # 1. the inputs: every figure call of the figure and panel tests, every panel of every tab
    .venv/bin/python bench/plain_figures.py capture --data-dir DIR --out /tmp/inputs.pkl
    # 2. in each version's tree (the script is read from one place, the code from the cwd):
    cd OLD_TREE && .venv/bin/python NEW_TREE/bench/plain_figures.py dump /tmp/inputs.pkl /tmp/old.pkl
    cd NEW_TREE && .venv/bin/python bench/plain_figures.py dump /tmp/inputs.pkl /tmp/new.pkl
    # 3. what differs
    .venv/bin/python bench/plain_figures.py compare /tmp/old.pkl /tmp/new.pkl
    # and what the browser gets: every panel's answer in each tree, compared as parsed JSON
    cd OLD_TREE && .venv/bin/python NEW_TREE/bench/plain_figures.py answers --data-dir DIR --out /tmp/old-answers.pkl
    ...; .venv/bin/python bench/plain_figures.py compare /tmp/old-answers.pkl /tmp/new-answers.pkl

``capture`` runs the tests in tests/report/figures and tests/report/views/test_panels.py with each
public figure function wrapped to keep its arguments, then opens every tab in several views
(grains, languages, comparisons, the funnel type, business hours, the contact centre) through
Flask's test client (as bench/profile_page.py, panels drawn afresh) keeping what each panel's
``figure_of`` got. ``dump`` draws all of it again in the current tree (each panel also with all its
groups and with each column it can rank by), as ``go.Figure(fig.to_dict()).to_plotly_json()``
(plotly validates a plain figure on the way), and times ``figure_of`` over the tabs' panels alone
and with the JSON encoding Dash then does (best of 5). ``answers`` keeps each panel's whole
answer (chart, table, notes) in the same views. ``compare`` lists every figure or answer that
differs.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import pickle
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.getcwd())  # the tree under test is the current directory

FUNCS = (
    "bars",
    "histogram_bars",
    "rate_bars",
    "duration_over_time",
    "duration_ranges",
    "funnel",
    "reconciliation_bars",
    "status_bars",
    "heatmap",
    "attendance_over_time",
    "lines_over_time",
    "stacked_over_time",
    "empty_figure",
)


def views_of(tab: str) -> list[Any]:
    """The views of a tab the capture opens: grains, languages, comparisons, partial buckets and
    the tab's own switches."""
    from report.urlstate import ViewState

    states = [
        ViewState(tab=tab, grain="month"),
        ViewState(tab=tab, grain="week", lang="en", period="last_quarter"),
        ViewState(tab=tab, grain="day", period="this_month", compare="previous"),
        ViewState(tab=tab, grain="month", lang="en", compare="year"),
    ]
    extra = {"funnels": {"funnel": "flow"}, "time": {"hours": "business"}, "touches_office": {"cc": True}}
    if tab in extra:
        states.append(ViewState(tab=tab, grain="week", **extra[tab]))
    return states


def every_panel_answer(data_dir: Path) -> dict[tuple[str, str], Any]:
    """Each panel's answer (parsed JSON) in every view of every tab, drawn afresh (as
    bench/profile_page.py: the tab's request, then one request per panel)."""
    from bench import dash_calls
    from etl.config import load_config
    from report import views
    from report.server import build_app
    from report.urlstate import TAB_PATHS

    config = load_config()
    app = build_app(config, data_dir)
    views.kept_render = lambda key: None  # draw every panel afresh
    client = app.server.test_client()
    deps = client.get("/_dash-dependencies").get_json()
    sync, page = dash_calls.find(deps, dash_calls.SYNC), dash_calls.find(deps, dash_calls.PAGE)
    slot = dash_calls.find(deps, dash_calls.PANEL)
    answers = {}
    for tab in TAB_PATHS:
        for state in views_of(tab):
            answer = client.post("/_dash-update-component", json=dash_calls.open_link(sync, state, config.locale))
            resp = client.post("/_dash-update-component", json=dash_calls.page(page, answer.get_json()))
            for request in dash_calls.panels(slot, resp.get_json()):
                reply = client.post("/_dash-update-component", json=request)
                assert reply.status_code == 200
                answers[(str(state), request["outputs"]["id"]["panel"])] = reply.get_json()
    return answers


def capture(data_dir: Path, out: Path) -> None:
    import pytest

    from report import figures
    from report.figures import base

    calls: list[tuple] = []

    def keeping(name: str, fn: Any) -> Any:
        @functools.wraps(fn)  # keeps the signature tests/report/figures/validated.py looks at
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls.append(("call", name, args, kwargs, base._ALL_ROWS.get()))
            return fn(*args, **kwargs)

        return wrapper

    originals = {name: getattr(figures, name) for name in FUNCS}
    for name, fn in originals.items():
        setattr(figures, name, keeping(name, fn))
    code = pytest.main(["-q", "-p", "no:cacheprovider", "tests/report/figures", "tests/report/views/test_panels.py"])
    assert code == 0, "the tests failed"
    for name, fn in originals.items():
        setattr(figures, name, fn)

    from report.views import panels

    figure_of = panels.figure_of

    def keep_panel(panel, state, df, every=False, partial=frozenset(), rank=None):  # noqa: ANN001, ANN202
        calls.append(("panel", panel.id, state, df, partial))
        return figure_of(panel, state, df, every, partial, rank)

    panels.figure_of = keep_panel
    every_panel_answer(data_dir)
    panels.figure_of = figure_of
    out.write_bytes(pickle.dumps(calls))
    kinds = [c[0] for c in calls]
    print(f"captured {kinds.count('call')} figure calls of the tests, {kinds.count('panel')} panels of the tabs")


def as_plotly(fig: Any) -> tuple[str, str]:
    """The figure as plotly.py validates and serialises it (a plain figure through ``go.Figure``),
    and as the browser gets it (plotly.py's JSON of a ``go.Figure``, a plain figure's own dict):
    plotly.py expands some values on validation (a named colour scale into its stops), which
    the first cannot see."""
    import plotly.graph_objects as go
    from plotly.utils import PlotlyJSONEncoder

    sent = fig.to_plotly_json() if isinstance(fig, go.Figure) else fig.to_dict()
    return tuple(
        json.dumps(f, cls=PlotlyJSONEncoder, sort_keys=True) for f in (go.Figure(fig.to_dict()).to_plotly_json(), sent)
    )


def dump(inputs: Path, out: Path) -> None:
    import plotly.graph_objects as go
    from plotly.io.json import to_json_plotly

    from report import figures
    from report.views import find_panel
    from report.views.panels import figure_of

    calls = pickle.loads(inputs.read_bytes())
    drawn: dict[str, str] = {}
    tab_panels = []
    for i, call in enumerate(calls):
        if call[0] == "call":
            _, name, args, kwargs, every = call
            with figures.all_rows() if every else _nothing():
                drawn[f"{i} {name}"] = as_plotly(getattr(figures, name)(*args, **kwargs))
            continue
        _, panel_id, state, df, partial = call
        panel = find_panel(panel_id, state)
        tab_panels.append((panel, state, df, partial))
        for every in (False, True):
            for rank in panel.ranks or (None,):
                key = f"{i} {panel_id} {state} every={every} rank={rank}"
                drawn[key] = as_plotly(figure_of(panel, state, df, every, partial, rank))

    def sent(fig: Any) -> Any:  # what dcc.Graph gets
        return fig if isinstance(fig, go.Figure) else fig.to_dict()

    build, encode = [], []
    for _ in range(5):
        t0 = time.perf_counter()
        figs = [figure_of(p, s, df, False, partial) for p, s, df, partial in tab_panels]
        t1 = time.perf_counter()
        size = sum(len(to_json_plotly(sent(f))) for f in figs)
        t2 = time.perf_counter()
        build.append(t1 - t0)
        encode.append(t2 - t1)
    print(
        f"{len(drawn)} figures drawn; figure_of over the {len(tab_panels)} tab panels: "
        f"{min(build) * 1000:.0f} ms, their JSON ({size / 1024:.0f} KB) {min(encode) * 1000:.0f} ms (best of 5)"
    )
    out.write_bytes(pickle.dumps(drawn))


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def first_difference(a: Any, b: Any, path: str = "") -> str | None:
    if type(a) is not type(b):
        return f"{path}: {a!r} vs {b!r}"
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{path}.{key}: only in {'new' if key in b else 'old'}"
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} vs {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if a == b else f"{path}: {a!r} vs {b!r}"


def compare(old: Path, new: Path) -> int:
    before, after = pickle.loads(old.read_bytes()), pickle.loads(new.read_bytes())
    assert before.keys() == after.keys(), "not the same inputs"
    if not isinstance(next(iter(before.values())), tuple):  # two `answers` files
        differ = [k for k in before if before[k] != after[k]]
        for key in differ[:10]:
            print(f"DIFFERS {key}\n  {first_difference(before[key], after[key])}")
        print(f"panel answers: {len(before) - len(differ)} of {len(before)} equal as JSON, {len(differ)} differ")
        return 1 if differ else 0
    status = 0
    for i, what in enumerate(("validated by plotly.py", "as sent to the browser")):
        differ = [k for k in before if before[k][i] != after[k][i]]
        for key in differ[:10]:
            print(f"DIFFERS {key}\n  {first_difference(json.loads(before[key][i]), json.loads(after[key][i]))}")
        print(f"{what}: {len(before) - len(differ)} of {len(before)} figures identical, {len(differ)} differ")
        status |= bool(differ)
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("capture")
    p.add_argument("--data-dir", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("dump")
    p.add_argument("inputs", type=Path)
    p.add_argument("out", type=Path)
    p = sub.add_parser("answers")
    p.add_argument("--data-dir", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("compare")
    p.add_argument("old", type=Path)
    p.add_argument("new", type=Path)
    args = parser.parse_args(argv)
    if args.cmd == "capture":
        capture(args.data_dir, args.out)
    elif args.cmd == "answers":
        args.out.write_bytes(pickle.dumps(every_panel_answer(args.data_dir)))
    elif args.cmd == "dump":
        dump(args.inputs, args.out)
    else:
        return compare(args.old, args.new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
