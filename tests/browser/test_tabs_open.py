"""Each tab opens at its own URL, in Russian, with the snapshot's "data as of" and row counts."""

from __future__ import annotations

import pytest

from report import ids

#: Generous: a loaded 2-core CI machine can take several seconds to draw a tab's first render.
WAIT = 30

TABS = [
    ("/funnels", "Воронки"),
    ("/time-between-statuses", "Время между статусами"),
    ("/touches-all", "Касания: все воронки"),
    ("/touches-office", "Касания: офис"),
]


@pytest.mark.parametrize(("path", "title"), TABS)
def test_each_tab_opens_at_its_url(dash_duo, report_app, path, title):
    dash_duo.start_server(report_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + path)
    # The active tab is the one the URL names (dbc marks the active nav link).
    dash_duo.wait_for_text_to_equal(f"#{ids.TABS} .nav-link.active", title, timeout=WAIT)
    # The fixture was pulled at 30.06.2026 12:00 Moscow time.
    dash_duo.wait_for_contains_text(f"#{ids.DATA_AS_OF}", "Данные на 30.06.2026 12:00", timeout=WAIT)
    # The fixture is months old (stale after 26 h in config.yaml): the header warns.
    dash_duo.wait_for_contains_text(f"#{ids.STALE_WARNING}", "Данные устарели", timeout=WAIT)
    # Quality panel: one unattributed call (#512); the deleted deal #9 is a fact, not a problem.
    dash_duo.wait_for_contains_text(f"#{ids.QUALITY}", "Качество данных · замечаний: 1", timeout=WAIT)
    assert dash_duo.get_logs() == []
