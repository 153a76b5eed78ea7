"""Every drillable grid cell lists exactly as many deals as it shows, on the hand-made snapshot.

For each panel in ``drilldown.CLICKS`` (both funnel types, every tab), each row of its metric's
table and each count column: the click read by ``from_cell`` and listed by ``deal_page`` gives the
number in the cell (an empty cell, e.g. «Дошли» of a side stage, lists nothing). The totals row
lists the panel's whole total.
"""

from __future__ import annotations

from datetime import date

import pytest

from etl.snapshot.store import open_current
from report.metrics.drill import DRILLS, deal_page
from report.metrics.registry import get
from report.urlstate import FUNNEL_TYPES, TAB_PATHS, ViewState
from report.views import tab_panels
from report.views.drilldown import CLICKS, from_cell
from report.views.grid import records
from tests.browser.fixture_snapshot import publish_fixture

TODAY = date(2026, 6, 30)  # the fixture's data date: "this year" = 01.01–30.06.2026


@pytest.fixture(scope="module")
def snap(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fixture")
    publish_fixture(folder)
    return open_current(folder / "snapshots")


def drillable():
    seen = {}
    for tab in TAB_PATHS:
        for funnel in FUNNEL_TYPES:
            state = ViewState(tab=tab, funnel=funnel)
            for panel in tab_panels(state):
                if panel.id in CLICKS:
                    seen[(panel.id, panel.metric_id(state), tab)] = (panel, state)
    return list(seen.values())


@pytest.mark.parametrize(("panel", "state"), drillable(), ids=lambda v: getattr(v, "id", getattr(v, "funnel", "")))
def test_each_count_lists_as_many_deals_as_it_shows(snap, panel, state):
    metric_id = panel.metric_id(state)
    filters = state.filters(TODAY)
    df = get(metric_id).fn(snap, filters, panel.by)
    counts = [c for c in DRILLS[metric_id].columns if c in df.columns]
    assert counts, panel.id
    checked = 0
    for record, row in zip(records(df, "ru", state.grain), df.iter_rows(named=True), strict=True):
        for col in counts:
            request = from_cell(metric_id, panel.by, {"colId": col, "rowId": record["__key"]})
            assert request is not None, (panel.id, col, record["__key"])
            _, total = deal_page(
                snap, filters, metric_id, column=request.column, stage=request.stage, status=request.status,
                group=request.group, limit=0,
            )  # fmt: skip
            assert total == (row[col] or 0), (panel.id, col, row)
            checked += row[col] or 0
    assert checked > 0, panel.id  # the fixture has deals behind some number of every panel
    if panel.by and panel.totals:
        whole = get(metric_id).fn(snap, filters, ())
        request = from_cell(metric_id, panel.by, {"colId": counts[0], "rowId": "{}"})
        assert deal_page(snap, filters, metric_id, column=request.column, limit=0)[1] == whole[counts[0]][0]
