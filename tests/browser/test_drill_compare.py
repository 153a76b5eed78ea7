"""Drill-down and comparison in a real browser, on the hand-made snapshot (fixture_snapshot.py).

Each test clicks or switches as a user would, waits for what they would see, and ends with no
console errors.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fixture_snapshot import build_tables, manifest
from helpers import GRID_ROWS_JS, choose, click, panel_selector, url_contains, wait_until
from selenium.webdriver.common.action_chains import ActionChains

from etl.config import load_config
from report import ids
from report.app import create_app
from tests.builders.snapshot import snapshot_from_tables

WAIT = 30
MOSCOW = quote("Москва")


def drill_rows(dash_duo, n: int) -> list[list[str]]:
    """The rows of the open deal list, as shown, once it has ``n`` (a previous list may linger)."""

    def rows(driver):
        shown = driver.execute_script(GRID_ROWS_JS, ids.DRILL_GRID, False)
        return shown if shown and len(shown) == n else None

    return wait_until(dash_duo, rows, f"{n} rows in the deal list")


def test_clicking_a_funnel_count_lists_exactly_those_deals(dash_duo, report_app):
    dash_duo.start_server(report_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/funnels?city={MOSCOW}")
    dash_duo.wait_for_text_to_equal("#kpi-leads", "4", timeout=WAIT)
    # The cohort funnel's «Записан на консультацию» row: 3 Moscow deals reached it (#1 #2 #6).
    cell = f"{panel_selector('table', 'funnel-cohort')} .ag-center-cols-container .ag-row[row-index='2'] [col-id='reached']"
    wait_until(dash_duo, lambda d: dash_duo.find_element(cell).text == "3", "the booked count 3")
    click(dash_duo, cell)
    dash_duo.wait_for_contains_text(f"#{ids.DRILL_TITLE}", "сделок: 3", timeout=WAIT)
    title = dash_duo.find_element(f"#{ids.DRILL_TITLE}").text
    assert title == "Воронка когорты · Дошли · Записан на консультацию — сделок: 3"
    dash_duo.wait_for_contains_text(f"#{ids.DRILL_BODY}", "01.01.2026 – 30.06.2026 · Москва", timeout=WAIT)
    rows = drill_rows(dash_duo, 3)  # the row count equals the number clicked
    # In the order they entered the count (creation): #1 (02.03), #2 (05.03), #6 (25.05, contact centre).
    assert [r[0] for r in rows] == ["1", "2", "6"]
    # #1 is won now; #6 came through the contact centre's operator.
    assert rows[0][:5] == ["1", "Москва", "Иванов Иван", "Офис", "Успешно реализовано"]
    assert rows[2][:4] == ["6", "Москва", "Оператор КЦ", "Контакт-центр"]
    link = wait_until(dash_duo, lambda d: d.find_elements("css selector", f"#{ids.DRILL_GRID} a"), "a deal link")[0]
    assert link.get_attribute("href") == "https://fixture.amocrm.ru/leads/detail/1"
    assert link.get_attribute("target") == "_blank"
    assert link.text == "1"

    # The chart drills too: close the window, click the funnel's «Лид» bar → Moscow's 4 leads.
    click(dash_duo, f"#{ids.DRILL_MODAL} .btn-close")
    wait_until(
        dash_duo, lambda d: not d.find_elements("css selector", f"#{ids.DRILL_MODAL}.show"), "the window to close"
    )
    bars = f"{panel_selector('graph', 'funnel-cohort')} .funnellayer .point path"
    bar = wait_until(dash_duo, lambda d: d.find_elements("css selector", bars), "the funnel's bars")[0]
    ActionChains(dash_duo.driver).move_to_element(bar).click().perform()
    dash_duo.wait_for_text_to_equal(f"#{ids.DRILL_TITLE}", "Воронка когорты · Дошли · Лид — сделок: 4", timeout=WAIT)
    assert [r[0] for r in drill_rows(dash_duo, 4)] == ["1", "2", "6", "7"]
    assert dash_duo.get_logs() == []


@pytest.fixture
def demo_app(tmp_path):
    """The same account as the demo's manifest names it (``emulator``: no amoCRM to link to)."""
    sid = "20260630T090000Z-demo0001"
    meta = manifest(sid)
    meta["source"] = {**meta["source"], "subdomain": "emulator"}
    snapshot_from_tables(tmp_path / "snapshots" / sid, build_tables(), meta, publish=True)
    return create_app(load_config(), tmp_path)


def test_on_the_demo_a_deal_id_opens_the_reports_own_deal_card(dash_duo, demo_app):
    dash_duo.start_server(demo_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/funnels?city={MOSCOW}")
    cell = f"{panel_selector('table', 'funnel-cohort')} .ag-center-cols-container .ag-row[row-index='2'] [col-id='reached']"
    wait_until(dash_duo, lambda d: dash_duo.find_element(cell).text == "3", "the booked count 3")
    click(dash_duo, cell)
    dash_duo.wait_for_contains_text(f"#{ids.DRILL_TITLE}", "сделок: 3", timeout=WAIT)
    link = wait_until(dash_duo, lambda d: d.find_elements("css selector", f"#{ids.DRILL_GRID} a"), "a deal link")[0]
    assert link.get_attribute("href") == f"{dash_duo.server_url}/deal/1" and link.text == "1"
    report_tab = dash_duo.driver.current_window_handle
    link.click()  # a new tab, as for amoCRM
    wait_until(dash_duo, lambda d: len(d.window_handles) == 2 or None, "the deal's tab")
    dash_duo.driver.switch_to.window([h for h in dash_duo.driver.window_handles if h != report_tab][0])
    # #1 is won now: the card says so, with its id
    dash_duo.wait_for_contains_text("#deal-card h1", "Сделка 1", timeout=WAIT)
    assert "Успешно реализовано" in dash_duo.find_element("#deal-card").text
    dash_duo.driver.close()
    dash_duo.driver.switch_to.window(report_tab)
    assert dash_duo.get_logs() == []


def test_compare_with_previous_period_shows_the_delta_and_survives_reopening(dash_duo, report_app):
    dash_duo.start_server(report_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/funnels")
    dash_duo.wait_for_text_to_equal("#kpi-leads", "8", timeout=WAIT)
    choose(dash_duo, ids.COMPARE, "с прошлым периодом")
    url_contains(dash_duo, "/funnels?compare=previous")
    # This year = 01.01–30.06.2026 (181 days); the previous period is the 181 days before it,
    # 04.07–31.12.2025, whose only lead is #10 (20.12.2025): 8 against 1 = +7, +700 %.
    dash_duo.wait_for_text_to_equal("#kpi-leads-delta", "+7 (+700,0 %)", timeout=WAIT)
    assert "text-success" in dash_duo.find_element("#kpi-leads-delta").find_element("xpath", "..").get_attribute(
        "class"
    )
    # Contracts: 2 against none (#10 never got one): +2, no percentage of nothing.
    dash_duo.wait_for_text_to_equal("#kpi-contracts-delta", "+2", timeout=WAIT)
    url = dash_duo.driver.current_url
    assert url == f"{dash_duo.server_url}/funnels?compare=previous"

    dash_duo.wait_for_page(url=url)  # reopening the link restores the comparison
    dash_duo.wait_for_text_to_equal(f"#{ids.COMPARE}-value", "с прошлым периодом", timeout=WAIT)
    dash_duo.wait_for_text_to_equal("#kpi-leads-delta", "+7 (+700,0 %)", timeout=WAIT)
    assert dash_duo.get_logs() == []
