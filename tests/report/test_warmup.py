"""Warm-up: after a new snapshot, the common views come from the caches, not from the metrics.

On the hand-made snapshot of the browser tests (tests/browser/fixture_snapshot.py), with a metric
cache whose metrics count their calls."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace

import pytest
from plotly.io.json import to_json_plotly

from etl.config import load_config
from report import cache, warmup
from report.metrics import registry
from report.source import SnapshotSource
from report.urlstate import TAB_PATHS, ViewState
from report.views import render_panel, render_tab, tab_panels
from tests.browser.fixture_snapshot import publish_fixture


@pytest.fixture
def counted(tmp_path, monkeypatch):
    """A metric cache at ``tmp_path`` whose metrics record their ids when they compute."""
    calls: list[str] = []

    def resolve(metric_id: str) -> registry.Metric:
        real = registry.get(metric_id)

        def fn(snap, filters, by=()):
            calls.append(metric_id)
            return real.fn(snap, filters, by)

        return replace(real, fn=fn)

    monkeypatch.setattr(cache, "_CACHE", cache.MetricCache(tmp_path / "cache", 50 * 2**20, resolve=resolve))
    monkeypatch.setattr(warmup, "PAUSE_S", 0.0)
    return calls


@pytest.fixture
def source(tmp_path):
    publish_fixture(tmp_path / "data")
    return SnapshotSource(tmp_path / "data" / "snapshots")


def _open(state: ViewState, source: SnapshotSource) -> list:
    """What a browser asks for when it opens ``state``: the tab, then each panel's body."""
    info = source.get()
    render_tab(state, info.snap, info.today, load_config())
    return [render_panel(p.id, state, info.snap, info.today) for p in tab_panels(state)]


def test_after_warm_up_each_tabs_default_view_is_served_from_the_cache(counted, source, monkeypatch):
    warmer = warmup.Warmer(source, load_config(), "ru")
    assert warmer.once() > 0 and counted  # the warm-up computed the metrics
    assert warmer.once() == 0  # the same snapshot is not warmed twice
    counted.clear()
    kept = {tab: _open(ViewState(tab=tab), source) for tab in TAB_PATHS}
    kept["last_month"] = _open(ViewState(tab="funnels", period="last_month"), source)
    # Only the data-quality panel computes (it reads the wall clock, so it is never cached).
    assert set(counted) == {"quality.panel"}
    # What comes from the cache is what the panel draws without one.
    monkeypatch.setattr(cache, "_CACHE", None)
    fresh = _open(ViewState(tab="touches_all"), source)
    assert kept["touches_all"] == json.loads(to_json_plotly(fresh))


def test_of_two_workers_sharing_the_cache_only_one_warms_a_snapshot(counted, source):
    first = warmup.Warmer(source, load_config(), "ru")
    second = warmup.Warmer(source, load_config(), "ru")
    assert first.once() > 0
    counted.clear()
    assert second.once() == 0 and counted == []


def test_a_view_the_warm_up_did_not_cover_computes_its_metrics(counted, source):
    warmup.Warmer(source, load_config(), "ru").once()
    counted.clear()
    _open(ViewState(tab="funnels", cities=("Казань",)), source)
    assert "deals.created" in counted


def test_the_warm_up_stops_when_its_time_is_spent(counted, source):
    ticks = itertools.count()  # a clock that moves one second per look
    done = warmup.warm(source.get(), load_config(), "ru", budget_s=3, clock=lambda: next(ticks))
    # deadline = 0 + 3; the first view is looked at 1, its panels at 2 and 3; at 4 it stops.
    assert done == 2
