"""The registry holds every metric of METRICS.md, described well enough for the UI, the export and
the docs, and docs/metrics.md is generated from it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from report.metrics.docs import render
from report.metrics.registry import TABS, all_metrics, for_tab, get

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
}  # fmt: skip
EXTRA_IDS = {"office.load", "bookings.before_contract.distribution"}


def test_every_spec_metric_is_registered():
    assert set(all_metrics()) == SPEC_IDS | EXTRA_IDS


def test_every_metric_is_described():
    for m in all_metrics().values():
        assert m.columns and m.tabs and set(m.tabs) <= set(TABS), m.id
        assert m.title_ru and m.title_en and m.title("en") == m.title_en and m.title("ru") == m.title_ru
        for text in (m.definition_ru, m.definition_en):
            assert 20 < len(text) < 400 and text.count(". ") <= 2, (m.id, text)  # one or two sentences
        assert set(m.breakdowns) <= {"city", "manager", "channel", "bucket", "package"}, m.id
        assert m.fn.__doc__ and len(m.fn.__doc__) > 40, m.id


def test_tabs():
    assert [m.id for m in for_tab("funnels")][:2] == ["funnel.cohort", "funnel.flow"]
    office = {m.id for m in for_tab("touches_office")}
    every = {m.id for m in for_tab("touches_all")}
    assert office == (every - {"quality.panel"}) | {"office.load"}
    assert "time.to_first_touch" in {m.id for m in for_tab("time")}
    assert get("touches.time_to_first").fn is get("time.to_first_touch").fn


def test_docs_page_is_generated_from_the_registry():
    """docs/metrics.md is committed as generated; it names every metric and its columns."""
    text = render()
    for m in all_metrics().values():
        assert f"`{m.id}`" in text and m.definition_en in text
    out = subprocess.run(
        [sys.executable, "-m", "report.metrics.docs", "--check"], cwd=REPO, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("derived", [False, True])
def test_every_metric_answers_on_an_empty_account(make_snapshot, derived):
    """A fresh account with no deals: no metric fails; totals are one row of zeros/empties."""
    from datetime import date

    from report.metrics.filters import Filters

    snap = make_snapshot([], derived=derived)
    f = Filters(date(2026, 3, 1), date(2026, 3, 31))
    for m in all_metrics().values():
        for by in [(), *[(b,) for b in m.breakdowns]]:
            df = m.fn(snap, f, by)
            assert list(df.columns)[-len(m.columns) :] == list(m.columns), (m.id, by)
    assert get("deals.created").fn(snap, f, ()).to_dicts() == [{"deals": 0}]
