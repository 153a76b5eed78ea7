"""The smallest hand-made snapshot tables: one open deal, just created, with nothing but the
columns that have no default (the snapshot builder fills the rest and adds the facts)."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

CREATED = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


@pytest.fixture
def one_deal() -> dict[str, pl.DataFrame]:
    deals = pl.DataFrame(
        {"deal_id": [1], "stage": ["lead"], "channel": ["office"], "created_at": [CREATED], "n_entries": [1]}
    )
    entry = {"deal_id": [1], "seq": [0], "at": [CREATED], "pipeline_id": [10], "status_id": [11], "stage": ["lead"]}
    return {"deals": deals, "entries": pl.DataFrame({**entry, "is_stage_entry": [True], "channel": ["office"]})}
