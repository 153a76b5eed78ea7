"""The data-access layer's one in-process cache: shared reads are kept per snapshot and inputs,
and only the last few."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest
from metric_snapshots import MARCH, MARCH_USERS

from report.metrics import access, kept
from report.metrics.filters import Filters

MARCH_F = Filters(date(2026, 3, 1), date(2026, 3, 31))


def test_a_period_read_is_decoded_once_per_snapshot_and_filters(make_snapshot):
    old = make_snapshot(MARCH, users=MARCH_USERS)
    new = make_snapshot(MARCH[:3], users=MARCH_USERS)
    calls: list[str] = []

    def read(snap):
        def compute() -> pl.DataFrame:
            calls.append(snap.id)
            return snap.read("deals")

        return kept.remembered(snap, ("test-read", MARCH_F), compute)

    assert read(old) is read(old)
    assert read(new).height == 3 and read(old).height == 10  # another snapshot: its own rows
    assert calls == [old.id, new.id]


def test_forget_makes_the_next_read_decode_again(march):
    """What a benchmark's cold run relies on: after forget() nothing kept is served."""
    calls: list[int] = []

    def read() -> pl.DataFrame:
        return kept.remembered(march, ("test-forget", MARCH_F), lambda: calls.append(1) or march.read("deals"))

    read(), read()
    kept.forget()
    read()
    assert calls == [1, 1]


def test_the_cache_keeps_only_the_last_reads(march):
    for day in range(1, kept.REMEMBERED_MAX + 2):
        access.deals_created_in(march, Filters(date(2026, 3, day), date(2026, 3, 31)))
    assert len(kept._REMEMBERED) == kept.REMEMBERED_MAX


def test_shared_reads_apply_the_manager_filter_of_the_caller(march):
    """deals_created_in is shared by every manager choice; deals() then keeps that manager's deals
    only: Борис (user 2) has #2 #4 #9 in March."""
    boris = access.deals(march, MARCH_F.with_(managers=(2,)), ["deal_id"]).collect()
    assert sorted(boris["deal_id"].to_list()) == [2, 4, 9]
    assert access.deals(march, MARCH_F, []).collect().height == 7


def test_a_table_is_decoded_once_and_then_read_from_memory(march):
    kept.forget(tables=True)
    first = kept.table(march, "deals").collect()
    assert first.equals(march.read("deals"))  # same rows, same order as the parquet file
    (march.path / "deals.parquet").rename(march.path / "deals.moved")  # the file is no longer read
    try:
        assert kept.table(march, "deals").collect().equals(first)
        # a metric read through the access layer is served from memory too: March's 7 live deals
        assert access.deals(march, MARCH_F, []).collect().height == 7
    finally:
        (march.path / "deals.moved").rename(march.path / "deals.parquet")
        kept.forget(tables=True)


def test_decoded_tables_stay_within_their_bound(march, monkeypatch):
    kept.forget(tables=True)
    deals_bytes = march.read("deals").estimated_size()
    entries_bytes = march.read("entries").estimated_size()
    monkeypatch.setattr(kept, "TABLES_MAX_BYTES", max(deals_bytes, entries_bytes))
    kept.table(march, "deals")
    kept.table(march, "entries")  # both do not fit: the least recently used (deals) goes
    assert {key[2] for key in kept._COLUMNS} == {"entries"}
    monkeypatch.setattr(kept, "TABLES_MAX_BYTES", deals_bytes - 1)
    kept.forget(tables=True)
    lazy = kept.table(march, "deals")  # larger than the bound alone: decoded, not kept
    assert not kept._COLUMNS and lazy.collect().height == march.read("deals").height
    assert "parquet" in kept.table(march, "deals").explain().lower()  # scanned from then on
    kept.forget(tables=True)


def test_the_kept_reads_stay_within_their_bytes_but_the_newest_is_always_kept(march, monkeypatch):
    size = march.read("deals").estimated_size()
    monkeypatch.setattr(kept, "REMEMBERED_MAX_BYTES", int(size * 2.5))  # room for two such reads
    kept.forget()
    for day in range(1, 5):
        kept.remembered(march, ("test-bytes", day), lambda: march.read("deals"))
    assert [key[-1] for key in kept._REMEMBERED] == [3, 4]
    monkeypatch.setattr(kept, "REMEMBERED_MAX_BYTES", 1)  # no room at all: the newest stays
    kept.remembered(march, ("test-bytes", 5), lambda: march.read("deals"))
    assert [key[-1] for key in kept._REMEMBERED] == [5]


def test_a_period_read_slices_the_rows_of_its_time_column(march):
    """Deals are stored in creation order: the rows created from 03-02 00:00 up to (not including)
    03-06 00:00 Moscow are #2 (03-02 09:00) and the others a filter over every row finds; without
    an upper bound, every deal from 03-06 on; a column the table is not stored by is refused."""
    lo, hi = datetime(2026, 3, 1, 21, tzinfo=UTC), datetime(2026, 3, 5, 21, tzinfo=UTC)  # Moscow midnights
    within = kept.table(march, "deals", ["deal_id", "created_at"], within=("created_at", lo, hi)).collect()
    every = march.read("deals").filter((pl.col("created_at") >= lo) & (pl.col("created_at") < hi))
    assert within["deal_id"].to_list() == every["deal_id"].to_list() and 2 in within["deal_id"].to_list()
    assert kept.table(march, "deals", ["deal_id"], within=("created_at", hi, None)).collect().height == (
        march.read("deals").filter(pl.col("created_at") >= hi).height
    )
    with pytest.raises(ValueError):
        kept.table(march, "deals", ["deal_id"], within=("closed_at", lo, hi))
