"""Which metrics each tab shows: the reconciliation and touch → next stage panels are on theirs."""

from __future__ import annotations

from report.views import tab_metrics


def test_new_panels_are_on_their_tabs():
    shown = tab_metrics()
    assert "funnel.reconciliation" in shown["funnels"]
    for tab in ("touches_all", "touches_office"):
        assert "touches.to_next_stage" in shown[tab]
    assert "funnel.reconciliation" not in shown["time"]
