"""Funnel-tab metrics on the hand-made "March" account (see conftest.py for every deal's story)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from metric_snapshots import MARCH_USERS, D

from report.metrics.filters import Filters
from report.metrics.funnels import (
    attendance,
    attended_to_contract,
    bookings_count,
    deals_averages,
    deals_created,
    funnel_cohort,
    funnel_flow,
    funnel_flow_from_lead,
    status_as_of,
)
from report.metrics.shaping import MetricInputError

MARCH_F = Filters(date(2026, 3, 1), date(2026, 3, 31))


def rows(df: pl.DataFrame, key: str = "stage") -> dict:
    return {r[key]: r for r in df.to_dicts()}


def test_cohort_counts_implied_and_skipped_stages(march):
    """Created in March: #1 #2 #3 #4 #7 #9 #10 (7). #6 is February, #8 April (Moscow time), #5 deleted.
    phone: #1, #2 (booked implies it), #3 (created into booked), #7 (after the period, "as of now"),
    #9, #10 (attended implies it) = 6.  booked: #1 #2 #3 #10 = 4.  attended: #1 #3 #10 = 3.
    contract: #1, #3 (won implies contract) = 2."""
    df = funnel_cohort(march, MARCH_F)
    assert df.columns == ["stage", "reached", "dropped", "conv_prev", "conv_lead", "current"]
    assert df["stage"].to_list()[:5] == ["lead", "phone", "booked", "attended", "contract"]
    r = rows(df)
    assert [r[s]["reached"] for s in ("lead", "phone", "booked", "attended", "contract")] == [7, 6, 4, 3, 2]
    assert [r[s]["dropped"] for s in ("lead", "phone", "booked", "attended", "contract")] == [1, 2, 1, 1, None]
    assert r["lead"]["conv_prev"] is None and r["lead"]["conv_lead"] == 1.0
    assert r["phone"]["conv_prev"] == pytest.approx(6 / 7)
    assert r["booked"]["conv_prev"] == pytest.approx(4 / 6)
    assert r["contract"]["conv_prev"] == pytest.approx(2 / 3)
    assert r["contract"]["conv_lead"] == pytest.approx(2 / 7)


def test_cohort_current_lists_side_and_closed_stages(march):
    """Now: #1 contract, #3 won, #2 #4 #10 lost, #7 phone, #9 not_booked; side stages carry only current."""
    r = rows(funnel_cohort(march, MARCH_F))
    current = {s: r[s]["current"] for s in r}
    assert current == {
        "lead": 0, "phone": 1, "booked": 0, "attended": 0, "contract": 1,
        "won": 1, "not_booked": 1, "no_answer": 0, "no_show": 0, "lost": 3, "other": 0,
    }  # fmt: skip
    assert r["lost"]["reached"] is None and r["lost"]["conv_prev"] is None


def test_cohort_filters_city_manager_channel(march):
    """Москва: #1 #2 #3 #4 #9.  Борис (user 2): #2 #4 #9.  Contact centre (current pipeline): #1
    (transferred there while booked) and #7."""
    moscow = rows(funnel_cohort(march, MARCH_F.with_(cities=("Москва",))))
    assert [moscow[s]["reached"] for s in ("lead", "phone", "booked", "attended", "contract")] == [5, 4, 3, 2, 2]
    boris = rows(funnel_cohort(march, MARCH_F.with_(managers=(2,))))
    assert [boris[s]["reached"] for s in ("lead", "phone", "booked", "attended", "contract")] == [3, 2, 1, 0, 0]
    assert boris["attended"]["conv_prev"] == 0.0 and boris["contract"]["conv_prev"] is None  # 0 / 0 → empty
    cc = rows(funnel_cohort(march, MARCH_F.with_(channel="contact_center")))
    assert [cc[s]["reached"] for s in ("lead", "phone", "booked", "attended", "contract")] == [2, 2, 1, 1, 1]


def test_cohort_by_channel_puts_group_column_first(march):
    df = funnel_cohort(march, MARCH_F, ("channel",))
    assert df.columns[0] == "channel"
    leads = {r["channel"]: r["reached"] for r in df.filter(pl.col("stage") == "lead").to_dicts()}
    assert leads == {"contact_center": 2, "office": 5}
    assert df.height == 2 * 11  # every stage for every group


def test_cohort_by_manager_uses_names(march):
    df = funnel_cohort(march, MARCH_F, ("manager",)).filter(pl.col("stage") == "lead")
    assert dict(zip(df["manager"], df["reached"], strict=True)) == {
        "Анна Петрова": 3,
        "Борис Иванов": 3,
        "Вера Смирнова": 1,
    }


def test_flow_counts_entries_not_deals(march):
    """Entries in March: lead = 7 deals created.  phone: #1, #6 (created in February), #9 = 3 (#7's is
    in April).  booked: #1, #2 twice (re-entry after no_show), #3 by creation = 4; #1's transfer to the
    contact centre's booked status is no new entry.  attended #1 #3 #10 = 3, contract #1 = 1 (#3 entered
    won, not contract), lost #2 #4 #10 = 3."""
    r = rows(funnel_flow(march, MARCH_F))
    assert {s: r[s]["entries"] for s in r} == {
        "lead": 7, "phone": 3, "booked": 4, "attended": 3, "contract": 1,
        "won": 1, "not_booked": 1, "no_answer": 1, "no_show": 1, "lost": 3, "other": 0,
    }  # fmt: skip
    assert r["phone"]["conv_prev"] == pytest.approx(3 / 7)
    assert r["booked"]["conv_prev"] == pytest.approx(4 / 3)
    assert r["contract"]["conv_prev"] == pytest.approx(1 / 3)
    assert r["won"]["conv_prev"] is None


def test_flow_moves_within_a_stage_are_not_entries(make_snapshot):
    """#1 goes Неразобранное → Новая заявка → phone → phone in the other pipeline: one phone entry, and
    the lead count is the one creation."""
    snap = make_snapshot(
        [
            D(
                1,
                "2026-03-02 10:00",
                [("2026-03-02 11:00", "new"), ("2026-03-03 10:00", "phone"), ("2026-03-04 10:00", "phone", "cc")],
            )
        ]
    )
    r = rows(funnel_flow(snap, MARCH_F))
    assert r["lead"]["entries"] == 1 and r["phone"]["entries"] == 1


def test_status_as_of_end_of_day(march):
    """End of 03-04 (Moscow): created by then #1 (booked, moved to the contact centre 03-04 10:00),
    #2 (no_show since 03-04 12:00), #6 (phone); #5 is deleted, the rest are later."""
    df = status_as_of(march, MARCH_F.with_(as_of=date(2026, 3, 4)))
    assert df.to_dicts() == [
        {"status": "Номер получен", "stage": "phone", "deals": 1},
        {"status": "Записан на консультацию", "stage": "booked", "deals": 1},
        {"status": "Не пришёл", "stage": "no_show", "deals": 1},
    ]
    by_channel = status_as_of(march, MARCH_F.with_(as_of=date(2026, 3, 4)), ("channel",))
    assert by_channel.filter(pl.col("channel") == "contact_center")["deals"].sum() == 1  # #1


def test_status_as_of_defaults_to_period_end(march):
    """End of 03-31: #7 (created 23:30) is still in Неразобранное; #8 (created 04-01 00:30) is not there."""
    df = status_as_of(march, MARCH_F)
    assert rows(df, "status")["Неразобранное"]["deals"] == 1
    assert df["deals"].sum() == 8  # #1-#4, #6, #7, #9, #10


def test_created_period_edges_in_moscow_time(march):
    """Feb–Apr by month: #6 (02-28 23:30) February; #1 (03-01 01:00 Moscow = 02-28 22:00 UTC) March;
    #8 (04-01 00:30 Moscow = 03-31 21:30 UTC) April; #5 deleted never counts."""
    f = Filters(date(2026, 2, 1), date(2026, 4, 30), grain="month")
    df = deals_created(march, f, ("bucket",))
    assert df.schema["bucket"] == pl.Date
    assert df.to_dicts() == [
        {"bucket": date(2026, 2, 1), "deals": 1},
        {"bucket": date(2026, 3, 1), "deals": 7},
        {"bucket": date(2026, 4, 1), "deals": 1},
    ]


def test_created_by_iso_week_labelled_by_monday(march):
    """1 March 2026 is a Sunday: #1 falls in the week of Monday 23 Feb.  #2 #3 → 2 Mar, #4 → 9 Mar,
    #9 → 16 Mar, #10 → 23 Mar, #7 → 30 Mar."""
    df = deals_created(march, MARCH_F.with_(grain="week"), ("bucket",))
    assert dict(zip(df["bucket"], df["deals"], strict=True)) == {
        date(2026, 2, 23): 1,
        date(2026, 3, 2): 2,
        date(2026, 3, 9): 1,
        date(2026, 3, 16): 1,
        date(2026, 3, 23): 1,
        date(2026, 3, 30): 1,
    }
    quarter = deals_created(march, MARCH_F.with_(grain="quarter"), ("bucket",))
    assert quarter.to_dicts() == [{"bucket": date(2026, 1, 1), "deals": 7}]
    year = deals_created(march, MARCH_F.with_(grain="year"), ("city", "bucket"))
    assert year.columns == ["city", "bucket", "deals"]
    assert year["bucket"].unique().to_list() == [date(2026, 1, 1)]


def test_bookings_per_week(march):
    """Booked entries: #1 03-03, #2 03-03, #3 03-05 (creation) → week of 2 Mar; #2 again 03-10 → 9 Mar."""
    df = bookings_count(march, MARCH_F.with_(grain="week"), ("bucket",))
    assert df.to_dicts() == [{"bucket": date(2026, 3, 2), "bookings": 3}, {"bucket": date(2026, 3, 9), "bookings": 1}]
    assert bookings_count(march, MARCH_F)["bookings"].to_list() == [4]


def test_attendance_and_empty_denominator(march):
    """attended: #1 #3 #10, no_show: #2 → show rate 3/4.  Калининград has nothing: 0, 0 and an empty rate."""
    assert attendance(march, MARCH_F).to_dicts() == [{"attended": 3, "no_show": 1, "show_rate": 0.75}]
    empty = attendance(march, MARCH_F.with_(cities=("Калининград",)))
    assert empty.to_dicts() == [{"attended": 0, "no_show": 0, "show_rate": None}]


def test_attended_to_contract(march):
    """First reached attended in March: #1, #3, #10; of them #1 and #3 reached contract → 2/3."""
    df = attended_to_contract(march, MARCH_F)
    assert df["attended"].to_list() == [3] and df["contract"].to_list() == [2]
    assert df["rate"][0] == pytest.approx(2 / 3)
    by_city = attended_to_contract(march, MARCH_F, ("city",))
    assert by_city.filter(pl.col("city") == "Екатеринбург").to_dicts() == [
        {"city": "Екатеринбург", "attended": 1, "contract": 0, "rate": 0.0}
    ]


def test_averages_by_package(march):
    """First reached contract in March: #1 (100 000, Стандарт) and #3 (150 000, Премиум, via won)."""
    assert deals_averages(march, MARCH_F).to_dicts() == [{"deals": 2, "price_sum": 250000.0, "price_mean": 125000.0}]
    by_pkg = deals_averages(march, MARCH_F, ("package",))
    assert by_pkg.to_dicts() == [
        {"package": "Премиум", "deals": 1, "price_sum": 150000.0, "price_mean": 150000.0},
        {"package": "Стандарт", "deals": 1, "price_sum": 100000.0, "price_mean": 100000.0},
    ]


def test_unsupported_breakdown_is_refused(march):
    with pytest.raises(MetricInputError, match="cannot break down by bucket"):
        status_as_of(march, MARCH_F, ("bucket",))


def test_deleted_deal_never_counts(make_snapshot):
    """Two deals, one deleted: every count sees one."""
    snap = make_snapshot(
        [
            D(1, "2026-03-02 10:00", [("2026-03-03 10:00", "booked")]),
            D(2, "2026-03-02 10:00", [("2026-03-03 10:00", "booked")], deleted=True),
        ],
        users=MARCH_USERS,
    )
    assert deals_created(snap, MARCH_F)["deals"].to_list() == [1]
    assert bookings_count(snap, MARCH_F)["bookings"].to_list() == [1]
    assert rows(funnel_cohort(snap, MARCH_F))["booked"]["reached"] == 1
    assert status_as_of(snap, MARCH_F)["deals"].sum() == 1


def test_flow_from_lead(march):
    """The flow figure's "from lead" share: entries in March / the 7 leads of March. phone: #1, #6,
    #9 (3); booked: #1, #2 twice, #3 created into it (4); attended: #1 #3 #10 (3); contract: #1 (#3
    went to won straight)."""
    df = funnel_flow_from_lead(march, MARCH_F)
    assert df["stage"].to_list() == ["lead", "phone", "booked", "attended", "contract"]
    assert df["conv_lead"].to_list() == pytest.approx([1.0, 3 / 7, 4 / 7, 3 / 7, 1 / 7])
    empty = funnel_flow_from_lead(march, Filters(date(2026, 5, 1), date(2026, 5, 31)))
    assert empty["conv_lead"].to_list() == [None] * 5  # no lead: nothing to divide by
