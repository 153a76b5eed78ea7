"""deals.list: the deals behind a number are exactly as many as the number (every drillable
metric, every breakdown, every row and count column), with hand-checked rows."""

from __future__ import annotations

from datetime import date

import pytest
from metric_snapshots import MARCH, MARCH_USERS, TASKS, TOUCH_DEALS, TOUCHES

from report.metrics.drill import DRILLS, deal_list, deal_page
from report.metrics.filters import Filters
from report.metrics.registry import get
from report.metrics.shaping import MetricInputError

MARCH_2026 = Filters(date(2026, 3, 1), date(2026, 3, 31))
GROUPS = ("city", "manager", "channel", "bucket")


def _clicks(metric_id: str, df):
    """(column, stage, status, group, number) of every count cell of the metric's table."""
    drill = DRILLS[metric_id]
    for row in df.to_dicts():
        group = {k: row[k] for k in GROUPS if k in row}
        for column in drill.columns:
            yield column, row.get("stage"), row.get("status"), group, row[column]


@pytest.mark.parametrize("metric_id", list(DRILLS))
@pytest.mark.parametrize("filters", [MARCH_2026, Filters(date(2026, 2, 1), date(2026, 4, 30), grain="week")])
def test_row_count_equals_the_number_clicked(make_snapshot, metric_id, filters):
    snap = make_snapshot(MARCH + TOUCH_DEALS, TOUCHES, TASKS, MARCH_USERS)
    metric = get(metric_id)
    checked = 0
    for by in [(), *[(b,) for b in metric.breakdowns if b in GROUPS]]:
        table = metric.fn(snap, filters, by)
        for column, stage, status, group, number in _clicks(metric_id, table):
            rows = deal_list(snap, filters, metric_id, column=column, stage=stage, status=status, group=group)
            assert rows.height == (number or 0), (metric_id, by, column, stage, group)
            checked += number or 0
    assert checked > 0


def test_cohort_booked_in_moscow_by_hand(march):
    """March cohort, Москва, reached booked: #1 #2 #3 (#3 created straight into booked)."""
    rows = deal_list(march, MARCH_2026, "funnel.cohort", stage="booked", group={"city": "Москва"})
    assert rows["deal_id"].to_list() == [1, 2, 3]
    assert rows.columns == [
        "deal_id", "url", "city", "manager", "channel", "stage", "created_at", "stage_entered_at",
        "days_in_stage", "counted_at",
    ]  # fmt: skip
    first = rows.row(0, named=True)
    assert first["url"] == "https://test.amocrm.ru/leads/detail/1"
    assert first["manager"] == "Анна Петрова" and first["stage"] == "contract"
    # #1 entered contract 03-06 07:00 UTC; the snapshot is as of 04-01 00:00 UTC: 25 days 17 h
    assert first["days_in_stage"] == 25
    current = deal_list(march, MARCH_2026, "funnel.cohort", column="current", stage="lost")
    assert current["deal_id"].to_list() == [2, 4, 10]


def test_a_deal_booked_twice_is_listed_twice(march):
    rows = deal_list(march, MARCH_2026, "bookings.count", group={"manager": "Борис Иванов"})
    assert rows["deal_id"].to_list() == [2, 2]


def test_page_caps_rows_but_gives_the_total(march):
    rows, total = deal_page(march, MARCH_2026, "deals.created", limit=2)
    assert rows.height == 2 and total == 7  # #1 #2 #3 #4 #7 #9 #10 (#5 deleted, #6 February, #8 April)
    assert rows["deal_id"].to_list() == [1, 2]


def test_bad_requests_say_why(march):
    with pytest.raises(MetricInputError, match="counts no deals"):
        deal_list(march, MARCH_2026, "time.request_to_won")
    with pytest.raises(MetricInputError, match="needs a stage"):
        deal_list(march, MARCH_2026, "funnel.flow")
    with pytest.raises(MetricInputError, match="no count"):
        deal_list(march, MARCH_2026, "funnel.cohort", column="entries", stage="lead")


def test_a_real_account_links_to_amocrm_and_the_demo_to_the_reports_own_deal_card():
    """The demo has no deal pages in amoCRM (no emulator runs for it, and the emulator wants a
    bearer token): its deals link to the report's ``/deal/<id>``."""
    from types import SimpleNamespace

    import polars as pl

    from report.metrics.drill import deal_url

    def url(source: dict) -> object:
        snap = SimpleNamespace(manifest={"source": source})
        return pl.select(deal_url(snap, pl.lit(7))).item()  # type: ignore[arg-type]

    assert url({"subdomain": "clinic"}) == "https://clinic.amocrm.ru/leads/detail/7"
    assert url({"subdomain": "emulator"}) == "/deal/7"
    assert url({}) == "/deal/7"
