"""Render a PNG of each tab with headless Chromium into docs/screenshots/.

    .venv/bin/python scripts/screenshots.py [--data-dir DIR] [--out docs/screenshots] [--width 1280]
        [--query "?grain=week"] [--phone]

Serves the report from ``--data-dir`` (default: $REPORT_DATA_DIR or ./data, which
``python -m report`` fills with the demo account) on a free loopback port, opens each tab and
saves its first screen (``<tab>-top.png``, 1280×800) and the whole page (``<tab>.png``).
``--phone`` also saves a 390-px-wide shot of the Funnels tab.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

TABS = {
    "funnels": "/funnels",
    "time-between-statuses": "/time-between-statuses",
    "touches-all": "/touches-all",
    "touches-office": "/touches-office",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def driver(width: int, height: int):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"):
        opts.add_argument(flag)
    opts.add_argument(f"--window-size={width},{height}")
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def set_size(drv, width: int, height: int) -> None:
    """The page's viewport at ``width``: headless Chromium will not make a window narrower than
    500 px, so phone widths are emulated (as a phone: touch, mobile viewport)."""
    drv.set_window_size(max(width, 500), height)
    if width < 500:
        drv.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True},
        )
    else:
        drv.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def wait_rendered(drv, timeout: float = 60.0) -> None:
    """Wait until the page has its panels, every panel in the window drawn (panels are drawn as
    they come into view: assets/lazyPanels.js) and no loading spinner (and plots are drawn)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ready = drv.execute_script(
            "return document.querySelectorAll('#page-content .card').length > 0 && "
            "![...document.querySelectorAll('.panel-placeholder')]"
            ".some(el => el.getBoundingClientRect().top < window.innerHeight) && "
            "!document.querySelector('._dash-loading, .dash-spinner, [data-dash-is-loading=\"true\"]');"
        )
        if ready:
            time.sleep(1.5)  # let plotly finish drawing
            return
        time.sleep(0.2)
    raise TimeoutError("page did not render")


def shoot(drv, url: str, path: Path, width: int) -> None:
    """Two PNGs: the first screen as a laptop shows it (``-top``), then the whole page."""
    set_size(drv, width, 800)
    drv.get(url)
    wait_rendered(drv)
    top = path.with_name(f"{path.stem}-top.png")
    drv.save_screenshot(str(top))
    print(f"saved {top} (first screen, {width}×800)")
    height = drv.execute_script("return document.documentElement.scrollHeight")
    set_size(drv, width, min(int(height) + 20, 16000))
    wait_rendered(drv)  # the whole page is in the window now: every panel is drawn
    drv.save_screenshot(str(path))
    print(f"saved {path} ({width}×{height})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=str(REPO / "docs" / "screenshots"))
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--query", default="")
    parser.add_argument("--phone", action="store_true")
    args = parser.parse_args(argv)

    from etl.config import data_dir, load_config
    from report.app import create_app

    config = load_config()
    app = create_app(config, data_dir(args.data_dir))
    port = free_port()
    threading.Thread(
        target=lambda: app.run(host="127.0.0.1", port=port, debug=False, use_reloader=False), daemon=True
    ).start()
    time.sleep(1.5)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    drv = driver(args.width, 800)
    try:
        for name, path in TABS.items():
            shoot(drv, f"http://127.0.0.1:{port}{path}{args.query}", out / f"{name}.png", args.width)
        if args.phone:
            shoot(drv, f"http://127.0.0.1:{port}/funnels{args.query}", out / "funnels-phone.png", 390)
    finally:
        drv.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
