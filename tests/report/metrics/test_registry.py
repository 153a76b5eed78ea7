"""The registry holds every metric of METRICS.md, described well enough for the UI, the export and
the docs, and docs/metrics.md is generated from it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from report.metrics.docs import render
from report.metrics.registry import all_metrics, get, metric

REPO = Path(__file__).resolve().parents[3]
# Every id of METRICS.md (tables of the three tab sections), plus our additions.
SPEC_IDS = {
    "funnel.cohort", "funnel.flow", "deals.status_as_of", "deals.created", "bookings.count",
    "consultations.attendance", "conversion.attended_to_contract", "deals.averages",
    "time.stage_to_stage", "time.creation_to_contract", "time.rebooking", "time.phone_to_consultation",
    "time.no_answer_to_close", "time.request_to_won", "time.to_first_touch", "bookings.before_contract",
    "touches.time_to_first", "touches.per_deal", "touches.before_contract", "touches.before_lost",
    "touches.no_show_to_lost", "touches.negative_status", "touches.interval", "calls.by_manager",
    "tasks.by_manager", "tasks.day_gaps", "managers.leaderboard", "quality.panel",
    "touches.to_next_stage",
}  # fmt: skip
EXTRA_IDS = {
    "office.load", "bookings.before_contract.distribution", "funnel.flow_from_lead",
    "kpi.funnels", "kpi.time", "kpi.touches", "funnel.reconciliation", "deals.stuck", "deals.open_age",
}  # fmt: skip


def test_every_spec_metric_is_registered():
    assert set(all_metrics()) == SPEC_IDS | EXTRA_IDS


def test_the_touches_tab_shows_the_time_tabs_first_touch_metric():
    """The spec lists time to first touch on two tabs: one function under both ids."""
    assert get("touches.time_to_first").fn is get("time.to_first_touch").fn


def test_an_id_is_registered_once():
    with pytest.raises(ValueError, match="registered twice"):
        metric(
            id="funnel.cohort", columns=["x"], breakdowns=(), title_ru="x", title_en="x",
            definition_ru="x", definition_en="x",
        )(lambda snap, filters, by: None)  # fmt: skip


def test_docs_group_metrics_by_module():
    text = render()
    assert text.index("## KPI cards") > text.index("`touches.per_deal`") > text.index("`funnel.cohort`")
    assert text.index("`kpi.touches`") > text.index("## KPI cards")


def test_docs_page_is_generated_from_the_registry():
    """docs/metrics.md is committed as generated; it names every metric and its columns."""
    text = render()
    for m in all_metrics().values():
        assert f"`{m.id}`" in text and m.definition_en in text
    out = subprocess.run(
        [sys.executable, "-m", "report.metrics.docs", "--check"], cwd=REPO, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr


def test_every_metric_answers_on_an_empty_account(make_snapshot):
    """A fresh account with no deals: no metric fails; totals are one row of zeros/empties."""
    from datetime import date

    from report.metrics.filters import Filters

    snap = make_snapshot([])
    f = Filters(date(2026, 3, 1), date(2026, 3, 31))
    for m in all_metrics().values():
        for by in [(), *[(b,) for b in m.breakdowns]]:
            df = m.fn(snap, f, by)
            assert list(df.columns)[-len(m.columns) :] == list(m.columns), (m.id, by)
    assert get("deals.created").fn(snap, f, ()).to_dicts() == [{"deals": 0}]
