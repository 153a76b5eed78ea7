"""Stuck deals on the funnels tab, in a real browser on the hand-made snapshot (fixture_snapshot.py).

The fixture records no settings, so the thresholds are config.yaml's defaults (lead 1, phone 3,
booked 7, attended 7, contract 30, not_booked 14, no_answer 7, no_show 7 days). Its data end on
30.06 12:00 MSK, which is the reference instant for the default period (this year, to 30.06).
"""

from __future__ import annotations

from helpers import table_rows

WAIT = 30


def test_the_stuck_card_counts_the_open_deals_past_their_stage_threshold(dash_duo, report_app):
    """As of 30.06 12:00 every open deal is past its threshold: #2 no-show since 09.03, #3 contract
    since 14.04 (77 d > 30), #4 no answer since 12.04, #5 not booked since 22.05 (39 d > 14), #6
    booked since 25.05 (36 d > 7), #7 a lead since 01.06, #10 in phone since 20.12.2025 = 7
    (#1 won and #8 lost are closed, #9 is deleted).

    As of 25.05 (the day ends 26.05 00:00): #5 has been not booked 3.6 days and #6 booked 6 hours,
    neither stuck; #7 and #8 do not exist yet; #2 #3 (41.6 d) #4 #10 are stuck = 4."""
    dash_duo.start_server(report_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/funnels")
    dash_duo.wait_for_text_to_equal("#kpi-stuck", "7", timeout=WAIT)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/funnels?asof=2026-05-25")
    dash_duo.wait_for_text_to_equal("#kpi-stuck", "4", timeout=WAIT)
    ages = {row[0]: row[1:] for row in table_rows(dash_duo, "open-age")}
    # open, then 0–1, 1–3, 3–7, 7–14, 14–30, 30–90, 90+ days
    assert ages["Не записался"] == ["1", "0", "0", "1", "0", "0", "0", "0"]  # #5, 3.6 days
    assert ages["Номер получен"] == ["1", "0", "0", "0", "0", "0", "0", "1"]  # #10 since 20.12.2025: 156.5 days
    assert dash_duo.get_logs() == []
