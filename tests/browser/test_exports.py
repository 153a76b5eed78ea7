"""Exports in a real browser: the CSV for Excel, the XLSX's absolute link, «Скопировать ссылку»."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path
from urllib.parse import quote

from helpers import button_selector, click, table_rows, wait_until

from report import ids

WAIT = 30
MOSCOW = quote("Москва")


def _downloaded(path: Path) -> Path:
    deadline = time.monotonic() + WAIT
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    return path


def test_excel_csv_has_semicolons_and_decimal_commas_and_the_xlsx_link_is_absolute(dash_duo, report_app, tmp_path):
    dash_duo.start_server(report_app)
    dash_duo.driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/funnels?city={MOSCOW}")
    dash_duo.wait_for_text_to_equal("#kpi-leads", "4", timeout=WAIT)
    table_rows(dash_duo, "funnel-cohort")
    click(dash_duo, button_selector("funnel-cohort", "excel_csv"))
    text = _downloaded(tmp_path / "funnel_cohort_2026-01-01_2026-06-30_excel.csv").read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("Этап;Дошли;")
    # Moscow cohort: contract 1 of 4 leads = 0,25 of the lead, 1 of 1 attended = 1
    contract = next(line.split(";") for line in lines if line.startswith("Заключён договор;"))
    assert contract[1] == "1" and "0,25" in contract

    click(dash_duo, button_selector("funnel-cohort", "xlsx"))
    book = _downloaded(tmp_path / "funnel_cohort_2026-01-01_2026-06-30.xlsx")
    with zipfile.ZipFile(book) as z:
        strings = z.read("xl/sharedStrings.xml").decode()
    assert f"{dash_duo.server_url}/funnels?city={MOSCOW}" in strings  # absolute: the request's host
    assert dash_duo.get_logs() == []


def test_copy_link_puts_the_pages_url_where_it_can_be_copied(dash_duo, report_app):
    dash_duo.start_server(report_app)
    url = f"{dash_duo.server_url}/funnels?grain=week"
    dash_duo.wait_for_page(url=url)
    dash_duo.wait_for_text_to_equal("#kpi-leads", "8", timeout=WAIT)
    click(dash_duo, f"#{ids.COPY_LINK}")
    # headless Chrome may refuse the clipboard: the URL is then shown in a selected field; either
    # way the field holds it
    wait_until(
        dash_duo,
        lambda d: d.find_element("id", ids.COPY_LINK_TEXT).get_attribute("value") == url,
        "the page's URL in the copy-link field",
    )
    copied = dash_duo.find_element(f"#{ids.COPY_LINK_STATUS}").text
    field_shown = dash_duo.find_element(f"#{ids.COPY_LINK_TEXT}").is_displayed()
    assert copied == "Ссылка скопирована" or field_shown
    assert dash_duo.get_logs() == []
