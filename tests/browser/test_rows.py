"""Every row, or says so: a city chart draws every city of the fixture, its table follows the
chart's order, and no «показаны N из M» note appears when nothing is left out."""

from __future__ import annotations

from helpers import click, grid_rows, panel_selector, table_rows, trace_names, wait_until

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


def test_the_grid_sorts_by_a_column_and_has_a_totals_row_from_the_metric(dash_duo, report_app):
    dash_duo.start_server(report_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/funnels?from=2026-01-01&to=2026-06-30")
    # Deals created, city × month: Москва март 2 (#1 #2), май 1 (#6), июнь 1 (#7); Казань апрель 2
    # (#3 #4), июнь 1 (#8); Новосибирск май 1 (#5). Total 8 (#9 is deleted, #10 is of 2025).
    rows = table_rows(dash_duo, "created", footer=True)
    assert [r[0] for r in rows] == ["Москва"] * 3 + ["Казань"] * 2 + ["Новосибирск", "Итого"]
    assert rows[-1][-1] == "8"  # the by=() call of deals.created, not a sum in the page
    header = f"{panel_selector('table', 'created')} .ag-header-cell[col-id='deals'] .ag-header-cell-label"
    click(dash_duo, header)  # ascending
    wait_until(
        dash_duo,
        lambda d: [r[-1] for r in grid_rows(dash_duo, "created") or []] == ["1", "1", "1", "1", "2", "2"],
        "the rows sorted by deals, fewest first",
    )
    biggest = grid_rows(dash_duo, "created")[-2:]
    assert {r[0] for r in biggest} == {"Москва", "Казань"}
    assert dash_duo.get_logs() == []


def test_the_page_fetches_nothing_from_another_host(dash_duo, report_app):
    dash_duo.start_server(report_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/funnels")
    table_rows(dash_duo, "funnel-cohort")  # the grid's lazily loaded script has arrived
    urls = dash_duo.driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert urls and all(u.startswith(dash_duo.server_url) for u in urls), [
        u for u in urls if not u.startswith(dash_duo.server_url)
    ]
    assert dash_duo.get_logs() == []
