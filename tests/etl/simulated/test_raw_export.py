"""The raw export writer: every file, the right cursors."""

from __future__ import annotations

import json
from datetime import timedelta

from etl.simulated.synth import RAW_FILES, write_raw_export
from tests.etl.simulated.synth_cases import END


def test_write_raw_export_writes_every_file_with_right_cursors(tmp_path, account):
    view = account.as_of(END)
    out = tmp_path / "raw"
    write_raw_export(out, view, pulled_at=END, extra={"demo": {"seed": 7}})
    expected = {"account.json", "export.json"} | {f"{n}.jsonl" for n in RAW_FILES}
    assert {p.name for p in out.iterdir()} == expected
    assert [p.name for p in tmp_path.iterdir()] == ["raw"]  # no temp folder left behind
    meta = json.loads((out / "export.json").read_text())
    assert meta["source"] == "emulator" and meta["pulled_at"] == "2026-11-30T12:00:00Z" and meta["demo"] == {"seed": 7}
    assert (
        json.loads((out / "account.json").read_text())["_embedded"]["datetime_settings"]["timezone"] == "Europe/Moscow"
    )
    for name in RAW_FILES:
        lines = (out / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        records = [json.loads(line) for line in lines]
        # compact UTF-8 JSON, one object per line, exactly what json.dumps writes
        sample = zip(records[::97], lines[::97], strict=True)
        assert all(json.dumps(r, ensure_ascii=False, separators=(",", ":")) == x for r, x in sample)
        info = meta["collections"][name]
        assert info["records"] == len(records), name
        key = "created_at" if name == "events" else "updated_at"
        stamps = [r[key] for r in records if key in r]
        assert info["cursor"] == (max(stamps) if stamps else None), name
    leads = [json.loads(x) for x in (out / "leads.jsonl").read_text().splitlines()]
    assert len(leads) == len(view["leads"]) + len(view["deleted_leads"])
    assert sum(x["is_deleted"] for x in leads) == len(view["deleted_leads"]) > 0
    # rewriting replaces the folder as a whole
    write_raw_export(out, account.as_of(END - timedelta(days=10)), pulled_at=END - timedelta(days=10))
    meta2 = json.loads((out / "export.json").read_text())
    assert meta2["collections"]["leads"]["records"] < meta["collections"]["leads"]["records"]
    assert "demo" not in meta2
