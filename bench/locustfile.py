"""Viewers of the report for locust: they open tabs and change filters, as a browser would.

    locust -f bench/locustfile.py --headless -u 20 -r 20 -t 60s --host http://127.0.0.1:8050

(bench/load.py sweep starts the server and runs this for several user counts.)

Each user first loads the page (the HTML, ``/_dash-layout``, ``/_dash-dependencies``), then, with
a pause of 0.5–2 s between actions (someone reading a chart):

- *open a tab* (1 in 4): the tab's HTML and the callbacks of opening its link;
- *change a filter* (3 in 4): one or two cities, a manager, the grain, the period or the pipeline
  class on the current tab, then the callbacks a filter change sends (bench/dash_calls.py: URL ⇄
  filters, the tab (KPI cards, empty panel cards), then one per panel in view, six at a time as
  a browser sends them to one host: the first screen's, and every panel when the viewer
  scrolls through, see ``SCROLL``).

Cities and managers come from the layout's options, so every user picks among real ones,
and most changes are combinations the metric cache has not seen yet at the start of a run.
Requests are named ``html``, ``static``, ``sync``, ``page`` and ``panel`` in locust's statistics;
``view`` (not a request) is the time from the filter change to the last panel drawn.
"""

from __future__ import annotations

import os
import random
import sys
import time
from datetime import date
from pathlib import Path

from gevent.pool import Pool
from locust import FastHttpUser, between, task

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import dash_calls  # noqa: E402
from report import ids, urlstate  # noqa: E402
from report.urlstate import ViewState  # noqa: E402

LANG = "ru"
BROWSER_CONNECTIONS = 6  # requests a browser sends to one host at once (HTTP/1.1)
#: Panels a browser asks for at once after a filter change without scrolling: what a 1440×900
#: window and the quarter window ahead (assets/lazyPanels.js) hold of the cards while they are
#: placeholders — three rows of half-width cards (6 counted in Chromium on the touches tab).
FIRST_SCREEN = 6
#: The share of views after which the viewer scrolls through the whole tab ($REPORT_LOAD_SCROLL,
#: default 1: every panel of every view, the heaviest case; 0: nobody scrolls).
SCROLL = float(os.environ.get("REPORT_LOAD_SCROLL", "1"))


class Viewer(FastHttpUser):
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.client.get("/funnels", name="html")
        layout = self.client.get("/_dash-layout", name="static").json()
        deps = self.client.get("/_dash-dependencies", name="static").json()
        self.sync = dash_calls.find(deps, dash_calls.SYNC)
        self.page = dash_calls.find(deps, dash_calls.PAGE)
        self.panel = dash_calls.find(deps, dash_calls.PANEL)
        self.cities: list[str] = dash_calls.options_in(layout, ids.CITIES)
        self.managers: list[int] = dash_calls.options_in(layout, ids.MANAGERS)
        self.rng = random.Random()
        self.state = ViewState(tab="funnels")
        self.today = date.today()
        self._open(self.state)

    def _post(self, name: str, payload: dict) -> dict | None:
        with self.client.post("/_dash-update-component", json=payload, name=name, catch_response=True) as resp:
            if resp.status_code == 204:
                return {}
            if resp.status_code != 200:
                resp.failure(f"{resp.status_code}: {(resp.text or '')[:200]}")
                return None
            return resp.json()

    def _open(self, state: ViewState) -> dict | None:
        started = time.perf_counter()
        answer = self._post("sync", dash_calls.open_link(self.sync, state, LANG))
        if answer:
            end = answer["response"].get(ids.DATE_RANGE, {}).get("end_date")
            self.today = date.fromisoformat(end) if end else self.today
            self._view(answer, started)
        return answer

    def _view(self, sync_answer: dict, started: float) -> None:
        """The tab, then its panels in parallel; ``view``: from the change to the last panel
        asked for. Panels are drawn as they come into view (assets/lazyPanels.js): a viewer asks
        for the first screen's (:data:`FIRST_SCREEN`) and, with probability :data:`SCROLL`, scrolls
        on and asks for every other panel too."""
        shells = self._post("page", dash_calls.page(self.page, sync_answer))
        if not shells:
            return
        requests = dash_calls.panels(self.panel, shells)
        if self.rng.random() >= SCROLL:
            requests = requests[:FIRST_SCREEN]
        pool = Pool(BROWSER_CONNECTIONS)
        for request in requests:
            pool.spawn(self._post, "panel", request)
        pool.join()
        self.environment.events.request.fire(
            request_type="VIEW", name="view", response_time=(time.perf_counter() - started) * 1000,
            response_length=0, exception=None, context={},
        )  # fmt: skip

    @task(1)
    def open_tab(self) -> None:
        tab = self.rng.choice([t for t in urlstate.TAB_PATHS if t != self.state.tab])
        path, _ = urlstate.encode(ViewState(tab=tab), default_lang=LANG)
        self.client.get(path, name="html")
        self.state = ViewState(tab=tab)
        self._open(self.state)

    @task(3)
    def change_filter(self) -> None:
        shown = self.state
        state = dash_calls.changed_filter(self.rng, shown, self.cities, self.managers)
        started = time.perf_counter()
        answer = self._post("sync", dash_calls.change_filters(self.sync, state, shown, LANG, self.today))
        if answer:
            self._view(answer, started)
            self.state = state
