"""Every row, or says so: a city chart draws every city of the fixture, its table follows the
chart's order, and no «показаны N из M» note appears when nothing is left out."""

from __future__ import annotations

from helpers import panel_selector, table_rows, trace_names, wait_until

WAIT = 30


def test_a_city_chart_shows_every_city_and_its_table_lists_them_in_the_charts_order(dash_duo, report_app):
    dash_duo.start_server(report_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/funnels?from=2026-01-01&to=2026-06-30")
    names = wait_until(dash_duo, lambda d: trace_names(dash_duo, "created"), "the deals-created chart")
    # Deals created by city in the fixture: Москва 4 (#1 #2 #6 #7), Казань 3 (#3 #4 #8), Новосибирск 1 (#5).
    assert names == ["Москва", "Казань", "Новосибирск"]
    cities = list(dict.fromkeys(row[0] for row in table_rows(dash_duo, "created")))
    assert cities == names
    assert dash_duo.driver.find_elements("css selector", panel_selector("rows-note", "created")) == []
    assert dash_duo.get_logs() == []
