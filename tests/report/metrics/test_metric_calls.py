"""Calls, tasks and manager metrics on the hand-made touches account (metric_snapshots.py lists
every deal, touch and task; test_metric_touches.py explains the attribution of each touch)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest
from metric_snapshots import TASKS, TOUCH_DEALS, TOUCH_USERS, TOUCHES, D, K, T, U

from report.metrics.calls import calls_by_manager, day_gaps, leaderboard, office_load, quality_panel, tasks_by_manager
from report.metrics.filters import Filters
from report.metrics.touches import per_deal

MARCH_F = Filters(date(2026, 3, 1), date(2026, 3, 31))


def by_manager(df: pl.DataFrame) -> dict:
    return {r.pop("manager"): r for r in df.to_dicts()}


def test_calls_by_manager_includes_unattributed(touch_account):
    """Anna: t1 t3 t4 t5 t6 t12 t13 (in: t3 t6; answered: t3 t4 t5 t6 = 255 s).  Boris: t9 (unattributed),
    t10, t14 = 170 s.  Vera: t7 (unattributed) 10 s.  t8 (deleted deal) never counts."""
    m = by_manager(calls_by_manager(touch_account, MARCH_F, ("manager",)))
    assert m["Анна Петрова"] == {
        "incoming": 2,
        "outgoing": 5,
        "answered": 4,
        "total_duration_s": 255,
        "mean_answered_s": 63.75,
    }
    assert m["Борис Иванов"]["total_duration_s"] == 170 and m["Борис Иванов"]["answered"] == 3
    assert m["Вера Смирнова"]["outgoing"] == 1
    total = calls_by_manager(touch_account, MARCH_F).to_dicts()[0]
    assert (total["incoming"], total["outgoing"], total["total_duration_s"]) == (3, 8, 435)


def test_calls_city_filter_drops_unattributed(touch_account):
    """In Москва Boris keeps t10 and t14 (120 s); t9 has no deal, so no city; Vera's t7 disappears."""
    m = by_manager(calls_by_manager(touch_account, MARCH_F.with_(cities=("Москва",)), ("manager",)))
    assert set(m) == {"Анна Петрова", "Борис Иванов"}
    assert m["Борис Иванов"]["total_duration_s"] == 120


def test_calls_manager_filter_is_the_callers(touch_account):
    df = calls_by_manager(touch_account, MARCH_F.with_(managers=(3,)))
    assert df["outgoing"].to_list() == [1]


def test_calls_per_day_bucket(touch_account):
    df = calls_by_manager(touch_account, Filters(date(2026, 3, 8), date(2026, 3, 8), grain="day"), ("bucket",))
    assert df.to_dicts() == [
        {
            "bucket": date(2026, 3, 8),
            "incoming": 1,
            "outgoing": 1,
            "answered": 2,
            "total_duration_s": 120,
            "mean_answered_s": 60.0,
        }
    ]


def test_tasks_by_manager(touch_account):
    """Created in March.  Anna: K1 K2 K3 K4 K7 K8; done K1 K2 K7 K8; overdue K2 (done late), K3 (open past
    its deadline at data time 04-01), K8 (done 30 min late).  Boris: K6 (no deadline).  Vera: K9-K11 done."""
    m = by_manager(tasks_by_manager(touch_account, MARCH_F, ("manager",)))
    assert m == {
        "Анна Петрова": {"created": 6, "completed": 4, "overdue": 3},
        "Борис Иванов": {"created": 1, "completed": 0, "overdue": 0},
        "Вера Смирнова": {"created": 3, "completed": 3, "overdue": 0},
    }
    assert tasks_by_manager(touch_account, MARCH_F).to_dicts() == [{"created": 10, "completed": 7, "overdue": 3}]


def test_day_gaps_use_the_managers_local_day(touch_account):
    """Vera lives in Новосибирск (+4 h): K9 done 23:00 on the 10th, K10 and K11 01:00 and 02:00 on the
    11th local time → one gap of 1 h (in Moscow time all three are on the 10th: that would be 2 gaps).
    Anna (Moscow): K1 alone on 03-03; on 03-04 K2 10:00, K7 11:30, K8 12:30 → gaps 1.5 h and 1 h."""
    m = by_manager(day_gaps(touch_account, MARCH_F, ("manager",)))
    assert m == {
        "Анна Петрова": {"n": 2, "mean_s": 4500.0, "median_s": 4500.0},
        "Вера Смирнова": {"n": 1, "mean_s": 3600.0, "median_s": 3600.0},
    }
    assert day_gaps(touch_account, MARCH_F).to_dicts() == [{"n": 3, "mean_s": 4200.0, "median_s": 3600.0}]


def test_leaderboard(touch_account):
    """Anna: #21 #22 #26, contract #22 → 1/3; first touches 1800, 60, 7200 → median 1800; touches 4+2+2
    per 3 deals; answered 255 s = 4.25 min.  Boris: #23 #25, no contract; median first touch 82 800 (#23
    untouched); touches (0+3)/2; 170 s answered.  Vera: no deals (empty rates), 10 s answered."""
    m = by_manager(leaderboard(touch_account, MARCH_F))
    assert m["Анна Петрова"] == {
        "deals": 3, "contracts": 1, "conversion": pytest.approx(1 / 3), "median_first_touch_s": 1800.0,
        "touches_per_deal": pytest.approx(8 / 3), "answered_minutes": 4.25,
    }  # fmt: skip
    assert m["Борис Иванов"]["conversion"] == 0.0 and m["Борис Иванов"]["median_first_touch_s"] == 82800.0
    assert m["Вера Смирнова"]["deals"] == 0 and m["Вера Смирнова"]["conversion"] is None
    assert m["Вера Смирнова"]["answered_minutes"] == pytest.approx(10 / 60)


def test_office_load(touch_account):
    """Москва: deals #21 #22 #25 #26 (Anna, Boris), calls on them in March t1 t3 t4 t5 t6 t10 t12 t13 t14
    = 9, tasks on them K1 K2.  Новосибирск: #23 (Boris), no calls, task K6."""
    df = office_load(touch_account, MARCH_F.with_(channel="office"))
    assert df.to_dicts() == [
        {"city": "Москва", "deals": 4, "calls": 9, "tasks": 2, "managers": 2,
         "deals_per_manager": 2.0, "calls_per_manager": 4.5, "tasks_per_manager": 1.0},
        {"city": "Новосибирск", "deals": 1, "calls": 0, "tasks": 1, "managers": 1,
         "deals_per_manager": 1.0, "calls_per_manager": 0.0, "tasks_per_manager": 1.0},
    ]  # fmt: skip


def test_office_load_manager_filter_counts_the_callers_calls(make_snapshot):
    """Deal #1 is Anna's, #2 Boris's.  Boris calls on both deals and holds the task on #1; Anna
    holds the task on #2.  Filtered to Boris: his deal #2 (so one manager), his two calls (also the
    one on Anna's deal) and his task on #1 (not Anna's task on his deal)."""
    snap = make_snapshot(
        [D(1, "2026-03-02 10:00", user=1), D(2, "2026-03-02 10:00", user=2)],
        [T(1, "2026-03-02 11:00", deal=1, duration=10, user=2), T(2, "2026-03-02 12:00", deal=2, user=2)],
        [K(1, "2026-03-02 10:00", user=2, deal=1), K(2, "2026-03-02 10:00", user=1, deal=2)],
        [U(1, "Анна Петрова"), U(2, "Борис Иванов")],
    )
    boris = office_load(snap, MARCH_F.with_(managers=(2,)))
    assert boris.select("city", "deals", "calls", "tasks", "managers", "calls_per_manager").to_dicts() == [
        {"city": "Москва", "deals": 1, "calls": 2, "tasks": 1, "managers": 1, "calls_per_manager": 2.0}
    ]
    anna = office_load(snap, MARCH_F.with_(managers=(1,)))
    assert anna.select("deals", "calls", "tasks").to_dicts() == [{"deals": 1, "calls": 0, "tasks": 1}]
    everyone = office_load(snap, MARCH_F)
    assert everyone.select("deals", "calls", "tasks", "managers").to_dicts() == [
        {"deals": 2, "calls": 2, "tasks": 2, "managers": 2}
    ]


def test_channel_filter_on_touch_metrics(make_snapshot):
    """One office deal and one contact-centre deal, each with one call: the office tab sees one call."""
    snap = make_snapshot(
        [D(1, "2026-03-02 10:00"), D(2, "2026-03-02 10:00", pipe="cc")],
        [T(1, "2026-03-02 11:00", deal=1, duration=10), T(2, "2026-03-02 11:00", deal=2, duration=20)],
        [K(1, "2026-03-02 10:00", deal=2)],
        [U(1, "Анна Петрова")],
    )
    office = MARCH_F.with_(channel="office")
    assert calls_by_manager(snap, office)["total_duration_s"].to_list() == [10]
    assert per_deal(snap, office)["n"].to_list() == [1]
    assert tasks_by_manager(snap, office)["created"].to_list() == [0]
    assert tasks_by_manager(snap, MARCH_F.with_(channel="contact_center"))["created"].to_list() == [1]


def test_quality_panel(make_snapshot):
    snap = make_snapshot(
        TOUCH_DEALS,
        TOUCHES,
        TASKS,
        TOUCH_USERS,
        data_as_of="2026-04-01T00:00:00Z",
        quality={
            "deals_without_city": 2,
            "unattributed_touches": 5,
            "unmapped_statuses": [{"status": "X", "deals": 3}],
        },
    )
    df = quality_panel(snap, MARCH_F, now=datetime(2026, 4, 1, 6, 0, tzinfo=UTC))
    got = dict(zip(df["check"], df["value"], strict=True))
    assert got["deals_without_city"] == 2 and got["unattributed_touches"] == 5
    assert got["unmapped_statuses"] == 1 and got["unmapped_status_deals"] == 3
    assert got["snapshot_age_hours"] == 6.0
