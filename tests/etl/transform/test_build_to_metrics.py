"""End to end: the hand-written raw export → etl.transform.build → metrics, numbers worked out by hand.

The metric tests use hand-made snapshots; this checks that the real build feeds the metrics the
same facts (tests/builders/raw_export.py has the records; period: March 2026, Moscow time).
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from etl.config import load_config
from etl.snapshot.store import Snapshot
from etl.transform.build import build_snapshot
from report.metrics.filters import Filters
from report.metrics.registry import get
from tests.builders import raw_export as tx

MARCH = Filters(date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))


@pytest.fixture(scope="module")
def snap(tmp_path_factory) -> Snapshot:
    root = tmp_path_factory.mktemp("e2e")
    return Snapshot.open(build_snapshot(tx.write(root / "raw"), load_config(), root / "data"))


def by_stage(df: pl.DataFrame) -> dict[str, dict]:
    return {r["stage"]: r for r in df.to_dicts()}


def test_cohort_funnel(snap):
    # Live deals created in March: #1 #2 #3 #5 #6 #7 #8 #9 (the deleted #4 never counts) = 8.
    # Reached phone: #1, #2 (created straight into booked), #3 = 3; booked: the same 3;
    # attended and contract: #1 only.
    rows = by_stage(get("funnel.cohort").fn(snap, MARCH, ()))
    assert [rows[s]["reached"] for s in ("lead", "phone", "booked", "attended", "contract")] == [8, 3, 3, 1, 1]
    assert [rows[s]["dropped"] for s in ("lead", "phone", "booked", "attended")] == [5, 0, 2, 0]
    assert rows["contract"]["dropped"] is None
    assert rows["phone"]["conv_lead"] == pytest.approx(3 / 8)
    assert rows["attended"]["conv_prev"] == pytest.approx(1 / 3)
    # Now: lead #7 #8 #9; booked #2; won #1; lost #3 #6; unmapped #5.
    current = {s: r["current"] for s, r in rows.items()}
    assert (current["lead"], current["booked"], current["won"], current["lost"], current["other"]) == (3, 1, 1, 2, 1)


def test_flow_funnel_counts_reentries_not_transfers(snap):
    # booked entries: #1, #2 (its creation), #3 first booking, #3 re-booking after the no-show = 4;
    # #3's transfer from the contact centre's "booked" to the office's is no entry.
    rows = by_stage(get("funnel.flow").fn(snap, MARCH, ()))
    assert [rows[s]["entries"] for s in ("lead", "phone", "booked", "attended", "contract")] == [8, 2, 4, 1, 1]
    assert rows["booked"]["conv_prev"] == pytest.approx(2.0)


def test_touches_per_deal_follow_attribution(snap):
    # Attributed to live March deals: #1: 2 calls + 1 SMS; #6: 2 calls (grace before creation and
    # after closing); #7: 1 SMS; #9: 1 call.  7 touches, 5 calls, 2 SMS over 8 deals.
    (row,) = get("touches.per_deal").fn(snap, MARCH, ()).to_dicts()
    assert (row["n"], row["mean_touches"], row["mean_calls"], row["mean_sms"]) == (8, 7 / 8, 5 / 8, 2 / 8)


def test_calls_by_manager_include_unattributed_but_not_deleted(snap):
    # Calls in March: 11, 12, 15 (unknown deal), 21, 22, 23 (unattributed), 25, 26 (unattributed);
    # 14 is on the deleted deal.  Incoming 15 and 21; answered 120+30+45+90+300+10 = 595 s over 6.
    (row,) = get("calls.by_manager").fn(snap, MARCH, ()).to_dicts()
    assert (row["incoming"], row["outgoing"], row["answered"], row["total_duration_s"]) == (2, 6, 6, 595)
    assert row["mean_answered_s"] == pytest.approx(595 / 6)
