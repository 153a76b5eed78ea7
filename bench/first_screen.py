"""How long a filter change takes to show in a real browser: the first screen and the last panel.

    .venv/bin/python bench/first_screen.py --data-dir DIR [--tab touches-all] [--rounds 2]

Serves ``DIR``'s snapshot with ``python -m report serve --workers 2`` (gunicorn, as in
production) on a free loopback port, over an empty data folder that links to ``DIR``'s snapshots
(an empty metric cache, nothing written into ``DIR``) and with the warm-up off, so the first
round of changes is computed cold. Headless Chromium (1440×900) opens the tab over this year,
waits for every panel, then makes the filter changes of :data:`CHANGES` through the filter bar,
one after the other, as a user does (open the dropdown, click the option). Round 2 makes the
same changes again: every view has been seen once, so it measures the kept rendered panels.

Times are taken inside the page (``performance.now()``): from the option's click to

- *KPIs*: the tab's new KPI cards in the document (the answer of the tab's request, drawn; the
  panels' cards with their titles and placeholders come in the same answer);
- *first screen*: no placeholder left in the window (1440×900 from the top: the KPI cards and
  the first row of panels, drawn);
- *all panels*: the last panel's placeholder replaced by its chart and table, the page scrolled
  down a window every 100 ms from the first screen on (panels are drawn as they come into
  view, assets/lazyPanels.js), as a reader going straight to the bottom.

So the driver's polling adds nothing to the figures. Prints one line per change and the
median and worst of each round. The browser and the server share this machine's cores, so the
figures hold both's work; ``--pin`` puts the server on the last core and the browser on the
others, as if each had its own machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.load import _free_port, _serve  # noqa: E402
from report import ids  # noqa: E402
from report.i18n import t  # noqa: E402

#: (dropdown, option key in report/i18n.py): a period or grain each time, every view new in the
#: first round (the tab opens on this year by month, which no change comes back to); the last
#: state differs from the first change's, so a second round makes the same changes again.
CHANGES = (
    (ids.GRAIN, "g_week"),
    (ids.PERIOD, "p_last_quarter"),
    (ids.GRAIN, "g_day"),
    (ids.PERIOD, "p_this_month"),
    (ids.GRAIN, "g_month"),
    (ids.PERIOD, "p_last_year"),
    (ids.GRAIN, "g_quarter"),
    (ids.PERIOD, "p_this_year"),
)

#: Installed before each click: records when the new KPI row appears and when no placeholder
#: is left after it, in ``window.__fs``.
WATCH = """
const old = document.getElementById(arguments[0]);
if (old) { old.dataset.old = '1'; }
window.__fs = {t0: null, first: null, view: null, all: null};
const inView = (el) => el.getBoundingClientRect().top < window.innerHeight;
const check = () => {
  const fs = window.__fs;
  if (fs.t0 === null) { return; }
  if (fs.first === null) {
    const row = document.getElementById(arguments[0]);
    if (row && !row.dataset.old) { fs.first = performance.now() - fs.t0; }
  }
  if (fs.first !== null && fs.view === null && ![...document.querySelectorAll('.panel-placeholder')].some(inView)) {
    fs.view = performance.now() - fs.t0;
    // then read on: a window further down every 100 ms until the last panel is drawn
    window.__fsScroll = setInterval(() => window.scrollBy(0, window.innerHeight), 100);
  }
  if (fs.first !== null && fs.all === null && !document.querySelector('.panel-placeholder')) {
    fs.all = performance.now() - fs.t0;
    window.__fsObserver.disconnect();
    clearInterval(window.__fsScroll);
    window.scrollTo(0, 0);
  }
};
if (window.__fsObserver) { window.__fsObserver.disconnect(); }
window.__fsObserver = new MutationObserver(check);
window.__fsObserver.observe(document.body, {childList: true, subtree: true});
"""
CLICK = "window.__fs.t0 = performance.now(); arguments[0].click();"


def _driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1440,900",
    ):
        opts.add_argument(flag)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=opts)


def _wait(drv, condition, what: str, timeout: float = 120):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(drv, timeout, poll_frequency=0.05).until(condition, message=f"timed out waiting for {what}")


def _settled(drv) -> bool:
    """The tab drawn to its bottom (scrolling down to draw the panels out of view), then back on top."""
    script = "window.scrollBy(0, window.innerHeight); return !!document.getElementById(arguments[0])"
    drawn = drv.execute_script(script + " && !document.querySelector('.panel-placeholder')", ids.KPIS)
    if drawn:
        drv.execute_script("window.scrollTo(0, 0)")
    return bool(drawn)


def change(drv, dropdown: str, label: str) -> tuple[float, float, float]:
    """Choose ``label`` in ``dropdown``; (KPIs, first screen, all panels) in ms."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    drv.find_element(By.ID, dropdown).click()
    xpath = f"//*[@role='option'][.//span[normalize-space(text())='{label}']]"
    option = _wait(drv, lambda d: d.find_elements(By.XPATH, xpath), f"option {label!r}")[0]
    drv.execute_script(WATCH, ids.KPIS)
    drv.execute_script(CLICK, option)
    done = _wait(drv, lambda d: d.execute_script("const f = window.__fs; return f.all !== null && f;"), "the panels")
    drv.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    return float(done["first"]), float(done["view"]), float(done["all"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="a data folder with a published snapshot")
    parser.add_argument("--tab", default="touches-all", help="the tab's path (funnels, touches-all, …)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--pin", action="store_true", help="the server on the last core, the browser on the others (Linux)"
    )
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "report-first-screen")
    args = parser.parse_args(argv)

    from etl.config import load_config

    snapshots = load_config().snapshots_dir
    shutil.rmtree(args.work, ignore_errors=True)
    (args.work / "data").mkdir(parents=True)
    (args.work / "data" / snapshots).symlink_to((args.data_dir / snapshots).resolve(), target_is_directory=True)
    os.environ["REPORT_WARM_UP"] = "0"
    port = _free_port()
    cores = os.sched_getaffinity(0)
    if args.pin:  # the server on the last core, the browser on the others (as on its own machine)
        os.sched_setaffinity(0, {max(cores)})
    server = _serve(args.work / "data", args.workers, port, args.work / "server.log")
    if args.pin:
        os.sched_setaffinity(0, cores - {max(cores)})
    drv = _driver()
    try:
        drv.get(f"http://127.0.0.1:{port}/{args.tab}?period=this_year")
        _wait(drv, _settled, "the tab to open")
        time.sleep(1)
        for r in range(1, args.rounds + 1):
            times: dict[str, list[float]] = {"KPIs": [], "first screen": [], "all panels": []}
            for dropdown, key in CHANGES:
                label = t(key, "ru")
                for name, ms in zip(times, change(drv, dropdown, label), strict=True):
                    times[name].append(ms)
                line = ", ".join(f"{name} {values[-1]:.0f} ms" for name, values in times.items())
                print(f"round {r}: {dropdown} → {label}: {line}")
            summary = "; ".join(
                f"{name} median {statistics.median(v):.0f} / worst {max(v):.0f} ms" for name, v in times.items()
            )
            print(f"round {r} ({'cold' if r == 1 else 'seen before'}): {summary}")
    finally:
        drv.quit()
        server.terminate()
        server.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
