"""KPI cards with a comparison: the change line reads and colours as a head of sales expects."""

from __future__ import annotations

import polars as pl

from report.metrics.compare import deltas
from report.views.kpis import Kpi, delta_color, delta_text, kpi_cards

LEADS = Kpi("leads", "leads", "k_leads")
RATE = Kpi("conv", "conv", "k_conv_lead_contract", "percent")
WAIT = Kpi("median", "median_s", "k_median_c2c", "duration", up_is_good=False)
EFFORT = Kpi("touches", "touches", "k_touches_per_deal", "decimal1", up_is_good=None)


def test_delta_text_by_kind():
    assert delta_text(LEADS, 7.0, 7.0, "ru") == "+7 (+700,0 %)"
    assert delta_text(LEADS, 2.0, None, "ru") == "+2"  # from 0: no share
    assert delta_text(RATE, -0.008, -0.095, "ru") == "−0,8 п.п. (−9,5 %)"
    assert delta_text(RATE, -0.008, -0.095, "en") == "−0.8 pp (−9.5%)"
    assert delta_text(WAIT, 86400.0, 0.5, "ru") == "+1 д (+50,0 %)"
    assert delta_text(LEADS, None, None, "ru") == "—"


def test_delta_colour_follows_whether_up_is_good():
    assert delta_color(LEADS, 7) == "text-success" and delta_color(LEADS, -1) == "text-danger"
    assert delta_color(WAIT, 3600) == "text-danger" and delta_color(WAIT, -3600) == "text-success"
    assert delta_color(EFFORT, 1.5) == "text-muted" and delta_color(LEADS, 0) == "text-muted"


def test_cards_show_the_change_only_when_comparing():
    row = pl.DataFrame({"leads": [8], "leads_prev": [1]})
    plain = kpi_cards((LEADS,), row.select("leads"), "ru")
    assert "kpi-leads-delta" not in str(plain)
    cards = str(kpi_cards((LEADS,), deltas(row, ["leads"]), "ru"))
    assert "kpi-leads-delta" in cards and "было: 1" in cards
    # the change and its share each unbreakable, so a narrow card wraps between them
    assert "Span(children='+7', className='text-nowrap')" in cards
    assert "Span(children='(+700,0 %)', className='text-nowrap')" in cards
