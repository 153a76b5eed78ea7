"""Shared pytest setup: headless Debian Chromium for dash[testing] browser tests.

dash[testing] pins selenium 4.2, which cannot download a driver; we point it at Debian's
``chromium`` and ``chromedriver`` (installed by ``.ci/run``).  Run pytest with ``--headless``.
"""

from __future__ import annotations

import os
import shutil


def pytest_setup_options():
    from selenium.webdriver.chrome.options import Options

    options = Options()
    binary = os.environ.get("CHROMIUM_BINARY") or shutil.which("chromium") or "/usr/bin/chromium"
    options.binary_location = binary
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    return options
