"""«Показать КЦ»: contact-centre managers (most of their deals in contact-centre pipelines) are
left out of every metric when ``Filters.cc_managers`` is False, by the one filter function."""

from __future__ import annotations

from datetime import date

from metric_snapshots import D, T, U

from report.metrics import access
from report.metrics.calls import calls_by_manager, leaderboard
from report.metrics.filters import Filters

MARCH_F = Filters(date(2026, 3, 1), date(2026, 3, 31), channel="office")
# User 1 (office): deals #1, #2 in the office pipeline. User 7 (contact centre): #3, #4 in the
# contact-centre pipeline and #5 handed over in the office one (2 of 3 in the centre: a CC manager).
DEALS = [
    D(1, "2026-03-02 10:00", user=1),
    D(2, "2026-03-03 10:00", user=1),
    D(3, "2026-03-04 10:00", user=7, pipe="cc"),
    D(4, "2026-03-05 10:00", user=7, pipe="cc"),
    D(5, "2026-03-06 10:00", user=7),
]
# Calls on office deals: two by user 1, one by user 7 (on #5), one unattributed to a manager.
TOUCHES = [
    T(1, "2026-03-02 11:00", deal=1, user=1, duration=60),
    T(2, "2026-03-03 11:00", deal=2, user=1),
    T(3, "2026-03-06 11:00", deal=5, user=7, duration=30),
    T(4, "2026-03-06 12:00", deal=5, user=None),
]
USERS = [U(1, "Анна Петрова", "Москва"), U(7, "Тимур Кузнецов (КЦ)", "Москва")]


def _managers(df) -> list:
    return df["manager"].to_list()


def test_the_contact_centre_is_read_from_the_deals(make_snapshot):
    snap = make_snapshot(DEALS, TOUCHES, users=USERS)
    assert access.contact_centre_users(snap) == frozenset({7})


def test_office_view_without_the_contact_centre_drops_its_managers_rows(make_snapshot):
    snap = make_snapshot(DEALS, TOUCHES, users=USERS)
    every = calls_by_manager(snap, MARCH_F, ("manager",))
    assert _managers(every) == ["Анна Петрова", "Тимур Кузнецов (КЦ)", None]
    office = calls_by_manager(snap, MARCH_F.with_(cc_managers=False), ("manager",))
    assert _managers(office) == ["Анна Петрова", None]
    # the total loses exactly user 7's one call; the call without a manager stays
    total_all = calls_by_manager(snap, MARCH_F)["outgoing"].item()
    total_office = calls_by_manager(snap, MARCH_F.with_(cc_managers=False))["outgoing"].item()
    assert (total_all, total_office) == (4, 3)
    assert _managers(leaderboard(snap, MARCH_F)) == ["Анна Петрова", "Тимур Кузнецов (КЦ)"]
    board = leaderboard(snap, MARCH_F.with_(cc_managers=False))
    assert _managers(board) == ["Анна Петрова"] and board["deals"].to_list() == [2]
    assert Filters(date(2026, 3, 1), date(2026, 3, 31)).key() != MARCH_F.with_(cc_managers=False).key()
