"""The snapshot builder: hand-written tables → a real snapshot folder, the way the build makes one.

A test writes the tables it cares about by hand (no facts), and :func:`snapshot_from_tables`
does the rest exactly as ``python -m etl build`` would after its transform: every column the
test left out gets its schema default (etl/snapshot/schema.py: null, or False/0/True where the
schema says so), a table left out is empty, the facts are added by
``etl.transform.facts.add_derived``, every table is sorted by its main time column, and
``etl.snapshot.store.write_tables`` validates and writes it (optionally publishing it as the
``CURRENT`` snapshot).  So a hand-made snapshot cannot drift from what the report reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from etl.snapshot import store
from etl.snapshot.schema import FACT_TABLES, SCHEMA, fill_defaults
from etl.transform.daily import add_daily
from etl.transform.facts import add_derived

DEFAULT_TZ = "Europe/Moscow"


def complete_tables(
    tables: Mapping[str, pl.DataFrame], timezone: str = DEFAULT_TZ, data_as_of: str | None = None
) -> dict[str, pl.DataFrame]:
    """Hand-written ``tables`` as the build would write them: defaults, facts, schema order,
    sorted, and the daily aggregates of them (``data_as_of`` default: the newest record time).

    Fact columns a test gave are dropped and computed again: the facts are always the build's, so
    a fixture cannot carry facts that contradict its own rows.  Tables the schema does not know
    are passed through, for the validation to name them.
    """
    base = dict(tables)
    for name in FACT_TABLES:
        table = SCHEMA[name]
        given = tables.get(name, pl.DataFrame(schema={c: t for c, t in table.schema.items() if c in table.built}))
        df = fill_defaults(name, given.drop([c.name for c in table.columns if c.fact], strict=False))
        base[name] = df.sort(table.sorted_by, maintain_order=True, nulls_last=True) if table.sorted_by else df
    derived = add_derived({name: base[name] for name in FACT_TABLES}, timezone)
    full = base | {name: fill_defaults(name, derived[name], facts=True) for name in FACT_TABLES}
    as_of = datetime.fromisoformat((data_as_of or _data_as_of(full)).replace("Z", "+00:00"))
    return add_daily(full, timezone, as_of)


def _data_as_of(tables: Mapping[str, pl.DataFrame]) -> str:
    """The newest record time, as the build takes it when the export does not say when it was pulled."""
    times = [tables["entries"]["at"].max(), tables["touches"]["at"].max(), tables["deals"]["created_at"].max()]
    newest = max((x for x in times if x is not None), default=None)
    return newest.isoformat().replace("+00:00", "Z") if newest else "2026-01-01T00:00:00Z"


def snapshot_from_tables(
    folder: Path,
    tables: Mapping[str, pl.DataFrame],
    manifest: Mapping[str, Any] | None = None,
    *,
    publish: bool = False,
    keep: int = 3,
) -> store.Snapshot:
    """Write hand-written ``tables`` as the snapshot ``folder`` (``<snapshots dir>/<snapshot id>``).

    ``manifest`` gives what a test cares about (``data_as_of``, ``timezone``, ``quality``…); the
    rest is filled in: ``snapshot_id`` = the folder's name, ``timezone`` Europe/Moscow (also the
    zone of the facts' local days), ``data_as_of`` = the newest record time, ``row_counts`` from
    the tables; ``schema_version`` is stamped by ``write_tables``.  With ``publish`` the folder is
    staged and published as ``CURRENT`` of its parent (pruning beyond ``keep``), as a build does.
    Raises ``etl.snapshot.errors.SchemaError`` when a table does not match the schema.
    """
    given = dict(manifest or {})
    timezone = str(given.get("timezone", DEFAULT_TZ))
    as_of = given.get("data_as_of")
    full = complete_tables(tables, timezone, as_of)
    as_of = as_of or _data_as_of(full)
    meta = {
        "snapshot_id": folder.name,
        "built_at": as_of,
        "data_as_of": as_of,
        "source": {"raw_dir": "hand-made", "subdomain": "test", "pulled_at": as_of},
        "timezone": timezone,
        "config_sha256": "0" * 64,
        "quality": {},
        **given,
        "row_counts": {name: df.height for name, df in full.items()},
    }
    if not publish:
        store.write_tables(folder, full, meta)
        return store.Snapshot.open(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staged = folder.parent / f".tmp-{folder.name}"
    store.write_tables(staged, full, meta)
    return store.Snapshot.open(store.publish(folder.parent, staged, folder.name, keep))
