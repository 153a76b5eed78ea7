"""The report in a real browser on the hand-made snapshot (fixture_snapshot.py has the numbers).

Each test opens a URL, waits for what a user would see, and ends with no console errors.
"""

from __future__ import annotations

import csv
import io
import time
import zipfile
from urllib.parse import quote

from helpers import button_selector, choose, click, table_rows, url_contains, url_is, wait_until

from report import ids

#: Generous: a loaded 2-core CI machine can take several seconds to draw a tab's first render.
WAIT = 30

MOSCOW = quote("Москва")


def test_funnels_deep_link_restores_filters_and_shows_their_numbers(dash_duo, report_app):
    dash_duo.start_server(report_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/funnels?grain=week&city={MOSCOW}")
    dash_duo.wait_for_text_to_equal(f"#{ids.CITIES}-value", "Москва", timeout=WAIT)
    dash_duo.wait_for_text_to_equal(f"#{ids.GRAIN}-value", "Неделя", timeout=WAIT)
    # Moscow deals created in 2026: #1 #2 #6 #7 = 4 leads; #1 is the only contract → 25 %.
    dash_duo.wait_for_text_to_equal("#kpi-leads", "4", timeout=WAIT)
    dash_duo.wait_for_text_to_equal("#kpi-contracts", "1", timeout=WAIT)
    dash_duo.wait_for_text_to_equal("#kpi-conv-lead-contract", "25,0 %", timeout=WAIT)
    rows = table_rows(dash_duo, "funnel-cohort")
    assert [r[:2] for r in rows[:5]] == [
        ["Лид", "4"],
        ["Номер получен", "3"],  # #1 #2 #6
        ["Записан на консультацию", "3"],
        ["Пришёл на первичку", "1"],
        ["Заключён договор", "1"],
    ]
    assert dash_duo.get_logs() == []


def test_time_deep_link_with_custom_dates(dash_duo, report_app):
    dash_duo.start_server(report_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/time-between-statuses?from=2026-03-01&to=2026-04-30")
    dash_duo.wait_for_text_to_equal(f"#{ids.PERIOD}-value", "Свои даты", timeout=WAIT)
    wait_until(
        dash_duo,
        lambda d: d.find_element("id", ids.DATE_RANGE).get_attribute("value") == "01.03.2026",
        "the start date 01.03.2026",
    )
    # Contracts reached in March–April: #1 after 5 days, #3 after 4 days → median 4.5 days.
    dash_duo.wait_for_text_to_equal("#kpi-median-c2c", "4 д 12 ч", timeout=WAIT)
    assert dash_duo.get_logs() == []


def test_touches_deep_link_with_a_manager(dash_duo, report_app):
    dash_duo.start_server(report_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/touches-all?manager=2")
    dash_duo.wait_for_text_to_equal(f"#{ids.MANAGERS}-value", "Петрова Анна (Казань)", timeout=WAIT)
    # Петрова's deals of 2026: #3 #4 #8; calls 506 507 508 511, of which 506 and 511 answered.
    dash_duo.wait_for_text_to_equal("#kpi-deals", "3", timeout=WAIT)
    dash_duo.wait_for_text_to_equal("#kpi-calls", "4", timeout=WAIT)
    dash_duo.wait_for_text_to_equal("#kpi-answered-share", "50,0 %", timeout=WAIT)
    assert dash_duo.get_logs() == []


def test_office_tab_is_office_only_and_shows_office_load(dash_duo, report_app):
    dash_duo.start_server(report_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/touches-office?city={quote('Казань')}")
    dash_duo.wait_for_text_to_equal(f"#{ids.TABS} .nav-link.active", "Касания: офис", timeout=WAIT)
    wait_until(dash_duo, lambda d: table_rows(dash_duo, "office-load"), "the office load table")
    # Казань: deals #3 #4 #8, calls 506 507 508 511, tasks 703 704, one manager (Петрова).
    assert table_rows(dash_duo, "office-load")[0][:5] == ["Казань", "3", "4", "2", "1"]
    # The pipeline class is fixed on this tab, so its selector is hidden.
    assert not dash_duo.find_element(f"#{ids.CHANNEL}").is_displayed()
    assert dash_duo.get_logs() == []


def test_changing_a_filter_updates_url_and_numbers_and_back_restores(dash_duo, report_app):
    dash_duo.start_server(report_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/funnels")
    dash_duo.wait_for_text_to_equal("#kpi-leads", "8", timeout=WAIT)  # #1–#8
    choose(dash_duo, ids.CITIES, "Москва")
    url_contains(dash_duo, f"/funnels?city={MOSCOW}")
    dash_duo.wait_for_text_to_equal("#kpi-leads", "4", timeout=WAIT)
    # Switching tabs keeps the filter bar and its values; the URL names the new tab.
    dash_duo.find_element("#tab-time").click()
    url_contains(dash_duo, f"/time-between-statuses?city={MOSCOW}")
    dash_duo.wait_for_text_to_equal(f"#{ids.CITIES}-value", "Москва", timeout=WAIT)
    dash_duo.driver.back()
    url_is(dash_duo, f"{dash_duo.server_url}/funnels?city={MOSCOW}")
    dash_duo.wait_for_text_to_equal(f"#{ids.TABS} .nav-link.active", "Воронки", timeout=WAIT)
    dash_duo.wait_for_text_to_equal("#kpi-leads", "4", timeout=WAIT)
    dash_duo.driver.back()
    url_is(dash_duo, f"{dash_duo.server_url}/funnels")
    dash_duo.wait_for_text_to_equal("#kpi-leads", "8", timeout=WAIT)
    dash_duo.wait_for_text_to_equal(
        f"#{ids.CITIES}-value", "Все города", timeout=WAIT
    )  # the placeholder: no city chosen
    assert dash_duo.get_logs() == []


def test_csv_download_returns_the_rows_shown(dash_duo, report_app, tmp_path):
    dash_duo.start_server(report_app)
    dash_duo.driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/funnels?city={MOSCOW}")
    dash_duo.wait_for_text_to_equal("#kpi-leads", "4", timeout=WAIT)
    shown = table_rows(dash_duo, "funnel-cohort")
    click(dash_duo, button_selector("funnel-cohort", "csv"))
    target = tmp_path / "funnel_cohort_2026-01-01_2026-06-30.csv"
    deadline = time.monotonic() + WAIT
    while not target.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    records = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert len(records) == len(shown) == 11  # five funnel stages + won, not_booked, no_answer, no_show, lost, other
    assert [r["stage"] for r in records[:5]] == ["lead", "phone", "booked", "attended", "contract"]
    assert [r["reached"] for r in records[:5]] == [row[1] for row in shown[:5]] == ["4", "3", "3", "1", "1"]
    assert records[4]["conv_lead"] == "0.25"  # plain fractions in the file, "25,0 %" on screen

    # XLSX: the same rows (a header + 11), a sheet with the filters, Russian number formats.
    click(dash_duo, button_selector("funnel-cohort", "xlsx"))
    book = tmp_path / "funnel_cohort_2026-01-01_2026-06-30.xlsx"
    deadline = time.monotonic() + WAIT
    while not book.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    with zipfile.ZipFile(book) as z:
        workbook = z.read("xl/workbook.xml").decode()
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        strings = z.read("xl/sharedStrings.xml").decode()
        styles = z.read("xl/styles.xml").decode()
    assert 'name="Данные"' in workbook and 'name="Фильтры"' in workbook
    assert sheet.count("<row ") == 12
    assert "Москва" in strings and "Воронка когорты" in strings and "Заключён договор" in strings
    assert 'formatCode="0.0%"' in styles
    assert dash_duo.get_logs() == []


def test_lang_en_switches_the_language(dash_duo, report_app):
    dash_duo.start_server(report_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/funnels?lang=en")
    dash_duo.wait_for_text_to_equal(f"#{ids.TABS} .nav-link.active", "Funnels", timeout=WAIT)
    dash_duo.wait_for_contains_text(f"#{ids.DATA_AS_OF}", "Data as of 30 Jun 2026 12:00", timeout=WAIT)
    dash_duo.wait_for_text_to_equal("#kpi-conv-lead-contract", "25.0%", timeout=WAIT)
    dash_duo.wait_for_text_to_equal(f"#{ids.PERIOD}-value", "This year", timeout=WAIT)
    assert table_rows(dash_duo, "funnel-cohort")[1][:2] == ["Phone collected", "6"]
    assert dash_duo.get_logs() == []


def test_a_malformed_link_opens_with_a_notice(dash_duo, report_app):
    dash_duo.start_server(report_app)
    url = f"{dash_duo.server_url}/funnels?city={quote('Атлантида')}&city={MOSCOW}&from=2026-13-01&to=2026-02-01"
    dash_duo.wait_for_page(url=url)
    dash_duo.wait_for_contains_text(
        f"#{ids.NOTICES}", "Город «Атлантида» не найден в данных и не применён.", timeout=WAIT
    )
    dash_duo.wait_for_contains_text(f"#{ids.NOTICES}", "Дата начала «2026-13-01» не распознана", timeout=WAIT)
    # The rest of the link still applies: Moscow, this year.
    dash_duo.wait_for_text_to_equal(f"#{ids.CITIES}-value", "Москва", timeout=WAIT)
    dash_duo.wait_for_text_to_equal("#kpi-leads", "4", timeout=WAIT)
    assert dash_duo.get_logs() == []
