"""Which metrics each tab shows: the reconciliation and touch → next stage panels are on theirs."""

from __future__ import annotations

from report.views import tab_metrics


def test_new_panels_are_on_their_tabs():
    shown = tab_metrics()
    assert "funnel.reconciliation" in shown["funnels"]
    for tab in ("touches_all", "touches_office"):
        assert "touches.to_next_stage" in shown[tab]
    assert "funnel.reconciliation" not in shown["time"]


def test_the_hours_switch_is_offered_on_every_tab_with_a_duration_and_only_there():
    """Funnels count deals (and days in a stage, always calendar); the time tab and both touches
    tabs show durations that follow ?hours=business, so a link with it must show the switch."""
    from report.views import hours_tabs

    assert hours_tabs() == {"time", "touches_all", "touches_office"}
