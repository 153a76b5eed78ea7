"""Serving a raw export folder: the latest version of each record."""

from __future__ import annotations

import json
from datetime import timedelta

from etl.simulated.emulator import load_raw_view, start_emulator
from tests.etl.simulated.emulator_cases import get


def test_serves_a_raw_export_latest_version_per_id(tmp_path, tiny):
    old = tiny.as_of(tiny.end)
    new = tiny.as_of(tiny.end + timedelta(days=2))
    (tmp_path / "account.json").write_text(json.dumps(old["account"]), encoding="utf-8")
    with (tmp_path / "leads.jsonl").open("w", encoding="utf-8") as fh:
        for rec in old["leads"] + old["deleted_leads"] + new["leads"] + new["deleted_leads"]:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    view = load_raw_view(tmp_path)
    # Deal 207 was live at end and is deleted 30 h after its creation (end + 16 h): trashed now.
    assert 20207 in {x["id"] for x in view["deleted_leads"]} and 20207 not in {x["id"] for x in view["leads"]}
    assert len(view["leads"]) == len(new["leads"])
    with start_emulator(view, rate_limit_per_s=1000) as emu:
        got = get(emu, "/api/v4/leads", {"limit": 250, "filter[id]": 20000}).json()["_embedded"]["leads"][0]
        assert got["status_id"] == 142  # deal 0 is won 24 h after creation
