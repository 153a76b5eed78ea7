"""The KPI cards as metrics, on the hand-made accounts (metric_snapshots.py tells every deal's
story): each card's number worked out by hand, and the same number as the metric it names."""

from __future__ import annotations

from datetime import date

import pytest

from report.metrics.filters import Filters
from report.metrics.kpis import funnel_kpis, time_kpis, touch_kpis
from report.metrics.shaping import MetricInputError

MARCH_F = Filters(date(2026, 3, 1), date(2026, 3, 31))


def test_funnel_cards(march):
    """Cohort of March: 7 leads, 4 booked, 3 attended, 2 contracts (2/7). Entries in March: attended
    #1 #3 #10, no_show #2 → show rate 3/4. Contracts in March: #1 100 000 and #3 150 000.
    Stuck at the end of March: #6 only (29.5 days in phone, threshold 3; whenever created);
    #1 has 25.6 of contract's 30 days, #9 9.6 of not_booked's 14, #7 half an hour as a lead."""
    df = funnel_kpis(march, MARCH_F)
    assert df.columns == [
        "leads", "booked", "attended", "contracts", "conv_lead_contract", "show_rate", "mean_value", "stuck",
    ]  # fmt: skip
    row = df.row(0, named=True)
    assert row == pytest.approx(
        {
            "leads": 7,
            "booked": 4,
            "attended": 3,
            "contracts": 2,
            "conv_lead_contract": 2 / 7,
            "show_rate": 0.75,
            "mean_value": 125_000.0,
            "stuck": 1,
        }
    )


def test_funnel_cards_per_channel(march):
    """Contact centre: #1 (contract, 100 000) and #7 (phone only); office: #2 #3 #4 #9 #10, of which
    #3 made the contract (150 000); attended entries office #3 #10, no_show #2 → 2/3. The stuck #6
    is an office deal."""
    rows = {r["channel"]: r for r in funnel_kpis(march, MARCH_F, ("channel",)).to_dicts()}
    assert rows["contact_center"] == pytest.approx(
        {"channel": "contact_center", "leads": 2, "booked": 1, "attended": 1, "contracts": 1,
         "conv_lead_contract": 0.5, "show_rate": 1.0, "mean_value": 100_000.0, "stuck": 0}
    )  # fmt: skip
    assert rows["office"]["leads"] == 5 and rows["office"]["show_rate"] == pytest.approx(2 / 3)
    assert rows["office"]["mean_value"] == 150_000.0 and rows["office"]["stuck"] == 1


def test_funnel_cards_of_a_city_without_contracts(march):
    """Новосибирск has only #7 (created, reached phone after the period): counts are 0, the show
    rate and the mean value are empty (nothing to divide)."""
    row = {r["city"]: r for r in funnel_kpis(march, MARCH_F, ("city",)).to_dicts()}["Новосибирск"]
    assert (row["leads"], row["booked"], row["contracts"], row["conv_lead_contract"]) == (1, 0, 0, 0.0)
    assert row["show_rate"] is None and row["mean_value"] is None


def test_time_cards(march):
    """creation→contract: #1 5 d 9 h, #3 3 d 3 h (won implies contract) → median 4 d 6 h;
    request→won: #3 only; lead→phone of deals reaching phone in March: #3 0, #9 and #10 1 d,
    #2 26 h, #1 33 h, #6 36.5 h → median (24 h + 26 h) / 2 = 25 h. No touches: all 7 untouched.
    Bookings before contract: #1 one, #3 one (created into booked)."""
    row = time_kpis(march, MARCH_F).row(0, named=True)
    assert row == {
        "median_c2c_s": (129 + 75) / 2 * 3600,
        "median_won_s": 75 * 3600.0,
        "median_lead_phone_s": 25 * 3600.0,
        "median_first_touch_s": None,
        "untouched": 7,
        "mean_bookings_before": 1.0,
    }


def test_touch_cards(touch_account):
    """Deals of March: #21 #22 #23 #25 #26 (5; #24 deleted). First outgoing touch after creation:
    #22 1 min, #21 30 min, #26 2 h, #25 23 h → median 75 min; #23 untouched. Touches: #21 4, #22 2,
    #23 0, #25 3, #26 2 → 11 / 5. Calls: 11 (t8 is on a deleted deal), 8 answered. Overdue: K2, K3,
    K8. Tasks created in March: 10 by 3 managers."""
    row = touch_kpis(touch_account, MARCH_F).row(0, named=True)
    assert row == pytest.approx(
        {"deals": 5, "median_first_touch_s": 4500.0, "untouched": 1, "touches_per_deal": 2.2, "calls": 11,
         "answered_share": 8 / 11, "overdue": 3, "tasks_per_manager": 10 / 3}
    )  # fmt: skip


def test_touch_cards_per_manager(touch_account):
    """Анна (user 1): deals #21 #22 #26, her calls t1 t3 t4 t5 t6 t12 t13 (4 answered), tasks K1-K4,
    K7, K8 (K2, K3, K8 overdue). Вера (user 3): no deals, the unattributed call t7, tasks K9-K11:
    counts 0, means empty."""
    rows = {r["manager"]: r for r in touch_kpis(touch_account, MARCH_F, ("manager",)).to_dicts()}
    anna, vera = rows["Анна Петрова"], rows["Вера Смирнова"]
    assert (anna["deals"], anna["calls"], anna["overdue"], anna["tasks_per_manager"]) == (3, 7, 3, 6.0)
    assert anna["answered_share"] == pytest.approx(4 / 7)
    assert (vera["deals"], vera["untouched"], vera["touches_per_deal"], vera["calls"]) == (0, 0, None, 1)
    assert vera["tasks_per_manager"] == 3.0


def test_touch_cards_without_calls_or_tasks(touch_account):
    """A day with nothing: every count 0, the answered share and tasks per manager empty."""
    day = Filters(date(2026, 3, 25), date(2026, 3, 25))
    row = touch_kpis(touch_account, day).row(0, named=True)
    assert (row["deals"], row["calls"], row["overdue"]) == (0, 0, 0)
    assert row["answered_share"] is None and row["tasks_per_manager"] is None


def test_kpis_refuse_a_bucket_breakdown(march):
    with pytest.raises(MetricInputError):
        funnel_kpis(march, MARCH_F, ("bucket",))
