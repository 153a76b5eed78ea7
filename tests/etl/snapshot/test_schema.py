"""The snapshot contract (etl/snapshot/schema.py): what it declares matches what the build writes,
its validation names what differs, and docs/data-model.md is generated from it."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from etl.config import load_config
from etl.simulated.synth import generate_account, write_raw_export
from etl.snapshot import schema, schema_doc
from etl.snapshot.schema import SCHEMA, SchemaError, fill_defaults, validate
from etl.snapshot.store import Snapshot
from etl.transform import facts
from etl.transform.build import build_snapshot
from tests.builders import raw_export
from tests.builders.snapshot import complete_tables


def test_defaults_and_facts_fill_what_a_hand_made_table_leaves_out(one_deal):
    tables = complete_tables(one_deal)
    validate(tables)
    (deal,) = tables["deals"].to_dicts()
    # Not deleted, no city, no touches: so 0 touches (a fact) and no count before a contract it never had.
    assert deal["is_deleted"] is False and deal["city"] is None and deal["price"] == 0.0
    assert (deal["n_touches"], deal["n_calls"], deal["touches_before_contract"]) == (0, 0, None)
    (entry,) = tables["entries"].to_dicts()
    assert entry["next_at"] is None and entry["touches_upto"] == 0 and entry["is_deleted"] is False
    assert tables["touches"].height == 0 and tables["touches"].columns == list(SCHEMA["touches"].schema)


def test_a_column_without_a_default_must_be_given(one_deal):
    with pytest.raises(SchemaError, match=r"deals: no default for deal_id, n_entries; the table must give them"):
        fill_defaults("deals", one_deal["deals"].drop("deal_id", "n_entries"))


def test_validate_names_table_column_expected_and_found(one_deal):
    tables = complete_tables(one_deal)
    tables["deals"] = tables["deals"].drop("n_sms")
    tables["touches"] = tables["touches"].with_columns(phone=pl.lit("+79161234567"))
    tables["entries"] = tables["entries"].with_columns(pl.col("seq").cast(pl.Int64))
    tables["tasks"] = tables["tasks"].with_columns(pl.col("created_at").dt.replace_time_zone(None))
    del tables["cities"]
    with pytest.raises(SchemaError) as err:
        validate(tables)
    lines = str(err.value).splitlines()
    assert lines[0] == "tables do not match snapshot schema 3 (etl/snapshot/schema.py):"
    assert sorted(lines[1:]) == [
        "  - cities: missing table",
        "  - deals.n_sms: missing column, expected Int32 (a fact, computed by etl/transform/facts.py)",
        "  - entries.seq: expected Int32, found Int64",
        "  - tasks.created_at: expected Datetime(time_unit='us', time_zone='UTC'), found Datetime(time_unit='us', "
        "time_zone=None)",
        "  - touches.phone: extra column (String), not in the schema",
    ]


def test_the_facts_are_the_columns_facts_py_adds():
    declared = {(t.name, c.name) for t in SCHEMA.values() for c in t.columns if c.fact}
    added = {("deals", c) for c in (*facts.DEAL_COLS, *facts.CONTRACT_COLS, facts.BOOKINGS_COL)}
    added |= {("entries", c) for c in ("next_at", *facts.ENTRY_UPTO_COLS, *facts.ENTRY_BEFORE_COLS)}
    added |= {("entries", "first_stage_entry")}
    added |= {("touches", "prev_at"), ("tasks", "completed_day")}
    assert declared == added


def _assert_matches_declaration(snap: Snapshot) -> None:
    """Dtypes as declared, and no null where the schema says the column is never null."""
    tables = {name: snap.read(name) for name in SCHEMA}
    validate(tables)
    for name, table in SCHEMA.items():
        for col in table.columns:
            if not col.nullable:
                assert tables[name][col.name].null_count() == 0, f"{name}.{col.name} has nulls"


def test_the_hand_written_export_builds_as_declared(tmp_path):
    raw = raw_export.write(tmp_path / "raw")
    snap = Snapshot.open(build_snapshot(raw, load_config(), tmp_path / "data"))
    assert snap.manifest["schema_version"] == schema.SCHEMA_VERSION == 3
    _assert_matches_declaration(snap)


def test_a_demo_account_builds_as_declared(tmp_path):
    end = datetime(2026, 11, 1, tzinfo=UTC)
    account = generate_account(seed=3, deals_per_year=400, years=1.0, end=end)
    write_raw_export(tmp_path / "raw", account.as_of(end), pulled_at=end)
    snap = Snapshot.open(build_snapshot(tmp_path / "raw", load_config(), tmp_path / "data"))
    assert snap.row_counts["deals"] > 300 and snap.read("deals")["is_deleted"].any()  # trash-only deals too
    _assert_matches_declaration(snap)


def test_the_data_model_page_is_generated_from_the_schema():
    page = schema_doc.DOC_PATH.read_text(encoding="utf-8")
    assert schema_doc.render(page) == page, "docs/data-model.md is out of date: run python -m etl.snapshot.schema_doc"
    for table in SCHEMA.values():
        section = page.split(f"\n## {table.name}")[1].split("\n## ")[0]
        for col in table.columns:
            assert f"| `{col.name}` |" in section, f"{table.name}.{col.name} not in docs/data-model.md"


def test_check_mode_says_when_the_page_is_stale(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "data-model.md"
    stale.write_text(schema_doc.DOC_PATH.read_text(encoding="utf-8").replace("| `n_sms` |", "| `n_sms_old` |"))
    monkeypatch.setattr(schema_doc, "DOC_PATH", stale)
    assert schema_doc.main(["--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    assert schema_doc.main([]) == 0 and schema_doc.main(["--check"]) == 0
    assert "| `n_sms` |" in stale.read_text(encoding="utf-8")
