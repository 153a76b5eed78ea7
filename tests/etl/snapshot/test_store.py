"""Snapshot storage: validation before writing, the schema version stamped and checked on open,
publishing through the snapshot builder."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from etl.config import load_config
from etl.simulated.synth import generate_account, write_raw_export
from etl.snapshot import store
from etl.snapshot.schema import SCHEMA
from etl.snapshot.store import (
    SchemaError,
    Snapshot,
    SnapshotError,
    current_id,
    list_snapshots,
    open_current,
    write_tables,
)
from etl.transform import build as build_mod
from etl.transform.build import BuildError, build_snapshot
from tests.builders import raw_export
from tests.builders.snapshot import complete_tables, snapshot_from_tables
from tests.etl.snapshot.conftest import CREATED


def _set_schema_version(snap: Snapshot, version: int) -> None:
    path = snap.path / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**manifest, "schema_version": version}), encoding="utf-8")


def test_invalid_tables_are_refused_before_anything_is_written(tmp_path, one_deal):
    tables = complete_tables(one_deal)
    tables["touches"] = tables["touches"].drop("prev_at")
    with pytest.raises(SchemaError, match=r"touches\.prev_at: missing column, expected Datetime"):
        write_tables(tmp_path / "snap", tables, {"snapshot_id": "snap"})
    assert not (tmp_path / "snap").exists()


def test_the_written_manifest_says_the_schema_it_was_validated_against(tmp_path, one_deal):
    write_tables(tmp_path / "snap", complete_tables(one_deal), {"snapshot_id": "snap", "schema_version": 1})
    assert json.loads((tmp_path / "snap" / "manifest.json").read_text())["schema_version"] == 3


def test_a_build_that_loses_the_facts_publishes_nothing(tmp_path, monkeypatch):
    config = load_config()
    raw = raw_export.write(tmp_path / "raw")
    first = build_snapshot(raw, config, tmp_path / "data")
    monkeypatch.setattr(build_mod, "add_derived", lambda tables, timezone: tables)  # the facts step forgotten
    with pytest.raises(BuildError, match=r"do not match the snapshot schema, nothing published") as err:
        build_snapshot(raw, config, tmp_path / "data", full=True)  # nothing appended: else spliced
    assert "deals.first_booked_at: missing column" in str(err.value)
    assert "tasks.completed_day: missing column" in str(err.value)
    snaps = tmp_path / "data" / "snapshots"
    assert current_id(snaps) == first.name and list_snapshots(snaps) == [first.name]
    assert not list(snaps.glob(".tmp-*"))


def test_an_older_snapshot_is_refused_with_the_command_to_rebuild_it(tmp_path, one_deal):
    data = tmp_path / "data"
    snap = snapshot_from_tables(data / "snapshots" / "20260301T000000000Z-00000001", one_deal, publish=True)
    _set_schema_version(snap, 1)
    with pytest.raises(SnapshotError) as err:
        open_current(data / "snapshots")
    rebuild = f"python -m etl build --raw {data.resolve()}/raw --data-dir {data.resolve()}"
    assert (
        str(err.value)
        == f"snapshot 20260301T000000000Z-00000001: schema 1, this version reads 3; rebuild it: {rebuild}"
    )


def test_the_rebuild_command_names_the_raw_folder_the_snapshot_was_built_from(tmp_path):
    raw = raw_export.write(tmp_path / "export")
    folder = build_snapshot(raw, load_config(), tmp_path / "data")
    _set_schema_version(Snapshot(id=folder.name, path=folder, manifest={}), 2)
    with pytest.raises(SnapshotError, match=r"schema 2, this version reads 3") as err:
        Snapshot.open(folder)
    assert str(err.value).endswith(f"--raw {raw.resolve()} --data-dir {(tmp_path / 'data').resolve()}")


def test_the_builder_publishes_hand_made_tables_as_the_current_snapshot(tmp_path, one_deal):
    snaps = tmp_path / "snapshots"
    first = snapshot_from_tables(snaps / "20260301T000000000Z-00000001", one_deal, publish=True)
    second = snapshot_from_tables(snaps / "20260302T000000000Z-00000002", one_deal, {"quality": {"x": 1}}, publish=True)
    assert current_id(snaps) == second.id and list_snapshots(snaps) == [first.id, second.id]
    current = open_current(snaps)
    assert current.quality == {"x": 1} and current.row_counts["deals"] == 1 and current.row_counts["tasks"] == 0
    # No data_as_of given: the newest record time, as the build takes it without export.json.
    assert current.data_as_of == CREATED and current.timezone == "Europe/Moscow"


def test_the_builder_leaves_no_folder_for_tables_it_cannot_complete(tmp_path, one_deal):
    tables = one_deal | {"leads": pl.DataFrame({"id": [1]})}
    with pytest.raises(SchemaError, match=r"leads: extra table, not in the schema"):
        snapshot_from_tables(tmp_path / "snapshots" / "x", tables, publish=True)
    assert not (tmp_path / "snapshots" / "x").exists() and current_id(tmp_path / "snapshots") is None


def test_a_folder_without_manifest_is_not_a_snapshot(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SnapshotError, match="not a snapshot"):
        Snapshot.open(tmp_path / "empty")


def _time_ranges(path: Path, col: str) -> list[tuple[datetime, datetime] | None]:
    """Per row group of the parquet file: (min, max) of ``col`` from its statistics (None when
    the group holds only nulls)."""
    meta = pq.ParquetFile(path).metadata
    idx = meta.schema.names.index(col)
    out = []
    for g in range(meta.num_row_groups):
        stats = meta.row_group(g).column(idx).statistics
        out.append((stats.min, stats.max) if stats is not None and stats.has_min_max else None)
    return out


def test_a_built_snapshot_lets_a_months_query_skip_most_row_groups(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "ROW_GROUP_ROWS", 64)  # a small account still makes many groups
    end = datetime(2026, 11, 1, tzinfo=UTC)
    account = generate_account(seed=3, deals_per_year=400, years=1.0, end=end)
    write_raw_export(tmp_path / "raw", account.as_of(end), pulled_at=end)
    snap = Snapshot.open(build_snapshot(tmp_path / "raw", load_config(), tmp_path / "data"))
    october = (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
    for name in ("deals", "entries", "touches", "tasks"):
        col, path = SCHEMA[name].sorted_by, snap.path / f"{name}.parquet"
        rows = snap.row_counts[name]
        meta = pq.ParquetFile(path).metadata
        assert rows > 4 * 64 and meta.num_row_groups == math.ceil(rows / 64), name
        assert max(meta.row_group(g).num_rows for g in range(meta.num_row_groups)) <= 64 + meta.num_row_groups
        ranges = [r for r in _time_ranges(path, col) if r is not None]
        # in time order: each group starts at or after the end of the one before
        assert all(a[1] <= b[0] for a, b in zip(ranges, ranges[1:], strict=False)), name
        overlapping = [r for r in ranges if r[0] < october[1] and r[1] >= october[0]]
        assert 1 <= len(overlapping) <= len(ranges) // 3, (name, len(overlapping), len(ranges))
        # and the skipping scan gives the rows a whole read gives
        in_month = (pl.col(col) >= october[0]) & (pl.col(col) < october[1])
        assert snap.scan(name).filter(in_month).collect().equals(snap.read(name).filter(in_month))


def test_a_table_given_out_of_time_order_is_written_in_it(tmp_path, one_deal):
    base = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    touches = pl.DataFrame(
        {
            "touch_id": [1, 2, 3, 4, 5, 6],
            "source": ["lead"] * 6,
            "deal_id": [1] * 6,
            "kind": ["call_out"] * 6,
            "at": [base + timedelta(hours=h) for h in range(6)],
        }
    )
    tables = complete_tables(one_deal | {"touches": touches})
    tables["touches"] = tables["touches"].sort("touch_id", descending=True)  # newest first
    write_tables(tmp_path / "snap", tables, {"snapshot_id": "snap"}, row_group_rows=2)
    path = tmp_path / "snap" / "touches.parquet"
    assert pl.read_parquet(path)["touch_id"].to_list() == [1, 2, 3, 4, 5, 6]
    assert _time_ranges(path, "at") == [(base + timedelta(hours=h), base + timedelta(hours=h + 1)) for h in (0, 2, 4)]
