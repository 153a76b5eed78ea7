"""33 cities (fixture_cities.py): every city chart draws them all or says «из 33» and draws them
all once asked; the office tab leaves the contact centre's managers out until «Показать КЦ»."""

from __future__ import annotations

import pytest
from helpers import click, drawn_groups, panel_selector, table_rows, url_contains, wait_until

from report import ids

PERIOD = "from=2026-01-01&to=2026-06-30"

# panel → groups it has: 33 cities; the status chart also has the contact centre as its own group
CITY_PANELS = {
    "funnel-city": 33,
    "status-city": 34,
    "created": 33,
    "bookings": 33,
    "attendance-city": 33,
    "att-contract": 33,
}


def _note(dash_duo, panel_id: str) -> str:
    found = dash_duo.driver.find_elements("css selector", panel_selector("rows-note", panel_id))
    return found[0].text if found else ""


@pytest.mark.parametrize("panel_id", list(CITY_PANELS))
def test_every_city_chart_draws_all_cities_or_says_of_how_many_and_draws_them_on_request(
    dash_duo, cities_app, panel_id
):
    total = CITY_PANELS[panel_id]
    dash_duo.start_server(cities_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/funnels?{PERIOD}")
    groups = wait_until(dash_duo, lambda d: drawn_groups(dash_duo, panel_id), f"the {panel_id} chart")
    if len(groups) < total:
        assert _note(dash_duo, panel_id) == f"Показаны {len(groups)} из {total}"
        click(dash_duo, panel_selector("show-all", panel_id))
        wait_until(
            dash_duo, lambda d: len(drawn_groups(dash_duo, panel_id) or []) == total, f"all {total} groups drawn"
        )
        assert _note(dash_duo, panel_id) == f"Показаны все {total}"
    else:
        assert len(groups) == total and _note(dash_duo, panel_id) == ""
    assert dash_duo.get_logs() == []


def test_office_tab_hides_contact_centre_managers_until_asked(dash_duo, cities_app):
    dash_duo.start_server(cities_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/touches-office?{PERIOD}")
    # calls by manager, office deals: Менеджер 1 made one call; the operator's three are left out
    rows = table_rows(dash_duo, "calls-manager")
    assert [r[0] for r in rows] == ["Менеджер 1"]
    assert not any("(КЦ)" in cell for row in rows for cell in row)
    click(dash_duo, f"#{ids.CC}")
    url_contains(dash_duo, "cc=1")
    wait_until(
        dash_duo,
        lambda d: sorted(r[0] for r in table_rows(dash_duo, "calls-manager")) == ["Менеджер 1", "Оператор (КЦ)"],
        "the operator's row once «Показать КЦ» is on",
    )
    assert dash_duo.get_logs() == []
