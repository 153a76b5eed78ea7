"""At a phone's width (390 px): the page never scrolls sideways, and the chosen tab is in view."""

from __future__ import annotations

import pytest
from helpers import table_rows, wait_until

from report import ids

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}

ACTIVE_TAB_BOX = f"""
const a = document.querySelector('#{ids.TABS} .nav-link.active');
if (!a) {{ return null; }}
const r = a.getBoundingClientRect();
return [r.left, r.right, window.innerWidth];
"""


@pytest.mark.parametrize(("path", "panel"), [("/funnels", "funnel-cohort"), ("/touches-office", "calls-manager")])
def test_phone_width_has_no_sideways_scroll_and_the_active_tab_is_visible(dash_duo, report_app, path, panel):
    dash_duo.start_server(report_app)
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}{path}")
    table_rows(dash_duo, panel)  # the tab has rendered its panels
    assert dash_duo.driver.execute_script("return window.innerWidth") == 390
    # the last tab sits past the strip's right edge at 390 px until the strip is scrolled to it
    wait_until(
        dash_duo,
        lambda d: (box := d.execute_script(ACTIVE_TAB_BOX)) and box[0] >= 0 and box[1] <= box[2],
        "the active tab inside the viewport",
    )
    scroll_width, inner = dash_duo.driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner
    assert dash_duo.get_logs() == []
