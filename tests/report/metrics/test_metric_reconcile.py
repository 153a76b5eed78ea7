"""funnel.reconciliation: hand-worked on the March account (metric_snapshots.py lists every deal),
and its two identities on a generated demo account.

March 2026, deal by deal (#5 deleted, #8 April: never in):
  lead: created in March #1 #2 #3 #4 #7 #9 #10 = 7 (flow's lead = the cohort).
  phone: entries #1 03-02, #9 03-21 (cohort, first), #6 03-02 (created in February: older).
     Cohort reached 6: exactly phone in March #1 #9, after March #7 (04-01 00:30), implied #2 (booked
     straight), #3 (created into booked), #10 (attended straight).
  booked: entries #1 03-03, #2 03-03, #3 03-05 (its creation), #2 03-10 (a re-entry): 3 firsts + 1 repeat.
     Cohort reached 4: #1 #2 #3 exactly in March, #10 implied.
  attended: #1 #3 #10, all first, all the cohort, all exactly.
  contract: entry #1 03-06; cohort reached 2: #1 exactly, #3 implied by won.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from metric_snapshots import D

from etl.config import FUNNEL_STAGES
from report.metrics.filters import Filters
from report.metrics.funnels import funnel_cohort, funnel_flow
from report.metrics.reconcile import reconciliation

MARCH_F = Filters(date(2026, 3, 1), date(2026, 3, 31))
PARTS = ["flow", "first_by_cohort", "first_by_older", "repeat", "cohort", "cohort_in_period", "cohort_after", "implied"]


def rows(df: pl.DataFrame) -> dict[str, tuple]:
    return {r["stage"]: tuple(r[c] for c in PARTS) for r in df.to_dicts()}


def test_march(march):
    assert rows(reconciliation(march, MARCH_F)) == {
        #            flow first first_older repeat cohort in_period after implied
        "lead":     (7,   7,    0,          0,     7,     7,        0,    0),
        "phone":    (3,   2,    1,          0,     6,     2,        1,    3),
        "booked":   (4,   3,    0,          1,     4,     3,        0,    1),
        "attended": (3,   3,    0,          0,     3,     3,        0,    0),
        "contract": (1,   1,    0,          0,     2,     1,        0,    1),
    }  # fmt: skip


def test_a_later_start_makes_earlier_deals_older(march):
    """From 03-05: the cohort is #3 #4 #7 #9 #10.  #2's re-booking on 03-10 is a repeat whose first
    entry was before the period; #1 (created 03-01) enters attended and contract as an older deal."""
    assert rows(reconciliation(march, MARCH_F.with_(date_from=date(2026, 3, 5)))) == {
        "lead":     (5, 5, 0, 0, 5, 5, 0, 0),
        "phone":    (1, 1, 0, 0, 4, 1, 1, 2),
        "booked":   (2, 1, 0, 1, 2, 1, 0, 1),
        "attended": (3, 2, 1, 0, 2, 2, 0, 0),
        "contract": (1, 0, 1, 0, 1, 0, 0, 1),
    }  # fmt: skip


def test_by_city(march):
    """Новосибирск: #7 only, reaching phone after March.  Екатеринбург: #10, attended straight."""
    df = reconciliation(march, MARCH_F, ("city",))
    nsk = rows(df.filter(pl.col("city") == "Новосибирск"))
    assert nsk["phone"] == (0, 0, 0, 0, 1, 0, 1, 0) and nsk["booked"] == (0,) * 8
    ekb = rows(df.filter(pl.col("city") == "Екатеринбург"))
    assert ekb["booked"] == (0, 0, 0, 0, 1, 0, 0, 1) and ekb["attended"] == (1, 1, 0, 0, 1, 1, 0, 0)


def test_a_skipped_stage_entered_later_stays_implied(make_snapshot):
    """#51 goes to attended on 03-03, back to booked on 03-04: its first_reach(booked) is 03-03 (by
    attended), so in the cohort it is implied, while its booked entry is a first entry in the flow."""
    snap = make_snapshot(
        [D(51, "2026-03-02 10:00", [("2026-03-03 10:00", "attended"), ("2026-03-04 10:00", "booked")])]
    )
    assert rows(reconciliation(snap, MARCH_F))["booked"] == (1, 1, 0, 0, 1, 0, 0, 1)


# --- the identities on a generated account -------------------------------------------------------


PERIODS = [
    Filters(date(2026, 10, 1), date(2026, 10, 31)),
    Filters(date(2026, 7, 1), date(2026, 9, 30)),
    Filters(date(2026, 3, 9), date(2026, 3, 15)),
    Filters(date(2025, 11, 1), date(2026, 10, 31)),
    Filters(date(2026, 7, 1), date(2026, 9, 30), channel="office"),
]


@pytest.mark.parametrize("filters", PERIODS, ids=lambda f: f"{f.date_from}..{f.date_to}")
@pytest.mark.parametrize("by", [(), ("city",), ("manager",), ("channel",)], ids=lambda b: ",".join(b) or "total")
def test_identities_hold_on_a_demo_account(demo, filters, by):
    df = reconciliation(demo, filters, by)
    groups = df.select(*by).n_unique() if by else 1
    assert df.height == groups * len(FUNNEL_STAGES)
    assert (df["flow"] == df["first_by_cohort"] + df["first_by_older"] + df["repeat"]).all()
    assert (df["cohort"] == df["cohort_in_period"] + df["cohort_after"] + df["implied"]).all()
    keys = [*by, "stage"]
    flow = funnel_flow(demo, filters, by).select(*keys, "entries")
    cohort = funnel_cohort(demo, filters, by).select(*keys, "reached")
    both = df.join(flow, on=keys, how="left", nulls_equal=True).join(cohort, on=keys, how="left", nulls_equal=True)
    both = both.with_columns(pl.col("entries", "reached").fill_null(0))  # a group one funnel does not list
    assert both.filter((pl.col("flow") != pl.col("entries")) | (pl.col("cohort") != pl.col("reached"))).is_empty()
    assert df["flow"].sum() > 0 and df["implied"].sum() + df["repeat"].sum() + df["first_by_older"].sum() > 0


def test_demo_account_has_every_part(demo):
    """So the identities above are tested on every part: the year has repeats, older deals' firsts,
    reaches after the period and implied reaches."""
    df = reconciliation(demo, PERIODS[1])
    assert all(df[c].sum() > 0 for c in PARTS)
