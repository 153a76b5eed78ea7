"""Raw export → parquet snapshot (``python -m etl build``).

The transform is a chain of pure polars functions (raw frames → snapshot tables, see
docs/data-model.md): statuses, deals and entries in :mod:`etl.transform.deals`, touches, tasks,
users and cities in :mod:`etl.transform.activity`, the facts in :mod:`etl.transform.facts`.
Reading happens in :mod:`etl.extract.rawio` (:mod:`etl.transform.raw`), validating, writing and
the atomic publish in :mod:`etl.snapshot.store`.  A build that fails at any point (a table that
does not match etl/snapshot/schema.py included) leaves ``CURRENT`` and every published snapshot
untouched.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from etl.config import Config, ConfigError, data_dir, load_config
from etl.diskio import disk_message
from etl.extract import rawio
from etl.extract.rawio import RawExportError
from etl.snapshot.guard import PublishRefused, coverage
from etl.snapshot.guard import check as guard_check
from etl.snapshot.schema import DEALS, FACT_TABLES
from etl.snapshot.store import SCHEMA_VERSION, TABLES, SchemaError, current_id, publish, write_tables
from etl.transform.activity import cities_table, tasks_table, touches_table, users_table
from etl.transform.daily import add_daily
from etl.transform.deals import DEAL_ORDER, deal_tables, statuses_table
from etl.transform.facts import add_derived
from etl.transform.parsed import PARSED_DIR, ParsedCache
from etl.transform.quality import first_events, quality_counters
from etl.transform.raw import Progress, RawFrames, latest_by_id, read_raw, read_raw_lazy, whole
from etl.transform.splice import ACTIVITY, splice

__all__ = ["BuildError", "Progress", "RawFrames", "build_snapshot", "latest_by_id", "main", "read_raw", "transform"]


class BuildError(RuntimeError):
    """The build could not produce a snapshot; the message says what was wrong and where.

    ``kind`` is the refresh's error kind: ``data`` (the export or config), ``guard`` (the publish
    guard held the snapshot back), ``disk`` (the data folder refused a write).
    """

    def __init__(self, message: str, kind: str = "data") -> None:
        super().__init__(message)
        self.kind = kind


def _sayer(progress: Progress | None) -> Callable[[str, str, int], None]:
    def say(msg: str, step: str, count: int) -> None:
        if progress:
            progress(f"{msg}: {count:,}".replace(",", " "), step=step, count=count)

    return say


def transform(
    raw: RawFrames, config: Config, progress: Progress | None = None
) -> tuple[dict[str, pl.DataFrame], dict[str, Any]]:
    """Raw frames → snapshot tables and data-quality counters.  Pure: no I/O but reading ``raw``'s
    lazy scans, when its activity frames are such (``read_raw(lazy=True)``): each is then read
    by the step that needs it and let go after, so that memory never holds the whole export."""

    say = _sayer(progress)
    leads = whole(raw.leads)
    if leads.height == 0:
        raise BuildError("leads.jsonl holds no deals: the export is empty, nothing to report")
    events = first_events(whole(raw.events))
    say("сделки", "deals", leads.height)
    on_deals = replace(raw, leads=leads, events=events)
    statuses, deals, entries, links = deal_tables(on_deals, config, statuses_table(raw, config), say)
    del leads, on_deals
    task_events = events.filter(pl.col("entity_type") == "task")  # all task_rows reads of them
    del events
    notes = replace(
        raw, contacts=whole(raw.contacts), lead_notes=whole(raw.lead_notes), contact_notes=whole(raw.contact_notes)
    )
    say("звонки и SMS, примечаний", "touches", notes.lead_notes.height + notes.contact_notes.height)
    touches, _ = touches_table(notes, deals, links, config.attribution_grace_minutes)
    del notes, links
    on_tasks = replace(raw, tasks=whole(raw.tasks), events=task_events)
    say("задачи", "tasks", on_tasks.tasks.height)
    tasks = tasks_table(on_tasks, deals)
    del on_tasks, task_events
    users = users_table(raw, deals, config)
    cities = cities_table(deals, config)
    deals = deals.select(DEALS.built).sort(DEAL_ORDER, nulls_last=True)
    tables = {
        "deals": deals,
        "entries": entries,
        "touches": touches,
        "tasks": tasks,
        "users": users,
        "statuses": statuses,
        "cities": cities,
    }
    del deals, entries, touches, tasks
    quality = quality_counters(raw, tables, config)
    say("производные столбцы, переходов", "facts", tables["entries"].height)
    # Facts several metrics need (next entry, previous touch, touch counts, local days), computed
    # once here so that a filter change is a scan, not a group-by over the whole history.
    return add_derived(tables, config.timezone), quality


# ---------------------------------------------------------------------------------------------
# I/O edge: build and publish
# ---------------------------------------------------------------------------------------------


def _data_as_of(raw: RawFrames, tables: dict[str, pl.DataFrame]) -> datetime:
    pulled = raw.export.get("pulled_at")
    if pulled:
        try:
            return datetime.fromisoformat(str(pulled).replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            pass
    candidates = [tables["entries"]["at"].max(), tables["touches"]["at"].max(), tables["deals"]["created_at"].max()]
    return max(c for c in candidates if c is not None)


def transform_sha256() -> str:
    """A hash of the code that turns raw records into rows: a snapshot built by other code is
    never spliced into (etl/transform/splice.py)."""
    here = Path(__file__).resolve().parent
    files = sorted(here.glob("*.py")) + [here.parent / "extract" / "rawio.py", here.parent / "config.py"]
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.read_bytes())
    return digest.hexdigest()


def _previous(snapshots_dir: Path, raw_dir: Path, cache: ParsedCache, config: Config) -> dict[str, pl.DataFrame] | None:
    """The current snapshot's tables when this build may splice into them: built by this code
    and config from exactly the raw bytes the parsed parts held before this build (so the frames'
    rows after ``cache.before`` are what is new), with nothing but activity appended since."""
    cur = current_id(snapshots_dir)
    if cur is None or set(cache.before) != {f"{c}.jsonl" for c in rawio.COLLECTIONS}:
        return None
    if any(cache.size[f"{c}.jsonl"] != cache.before[f"{c}.jsonl"][0] for c in rawio.COLLECTIONS if c not in ACTIVITY):
        return None  # users, pipelines or lead fields changed: everything may
    try:
        manifest = json.loads((snapshots_dir / cur / "manifest.json").read_text(encoding="utf-8"))
        if (
            manifest.get("schema_version") != SCHEMA_VERSION
            or manifest.get("config_sha256") != config.sha256
            or manifest.get("transform_sha256") != transform_sha256()
            or manifest.get("source", {}).get("raw_dir") != str(Path(raw_dir).resolve())
            or manifest.get("raw_bytes") != {name: size for name, (size, _) in sorted(cache.before.items())}
        ):
            return None
        return {name: pl.read_parquet(snapshots_dir / cur / f"{name}.parquet") for name in FACT_TABLES}
    except (OSError, ValueError, pl.exceptions.PolarsError):
        return None  # unreadable: build in full


def _splice(
    raw_dir: Path, snapshots_dir: Path, cache: ParsedCache, config: Config, progress: Progress | None
) -> tuple[RawFrames, tuple[dict[str, pl.DataFrame], dict[str, Any]]] | None:
    """The incremental build (etl/transform/splice.py) when it applies: the raw export as lazy
    scans of the parsed parts, spliced into the current snapshot; None otherwise."""
    if current_id(snapshots_dir) is None or not cache.manifest["collections"]:
        return None  # a first build
    if progress:
        progress("чтение добавленных строк выгрузки", step="read", count=0, part=(0, 1))
    lazy = read_raw_lazy(raw_dir, cache)
    prev = lazy and _previous(snapshots_dir, raw_dir, cache, config)
    result = prev and splice(lazy[0], lazy[1], prev, config, _sayer(progress))
    if not result:
        return None
    cache.save()  # after the scans: compacting may remove the parts they read
    return lazy[0], result


def build_snapshot(
    raw_dir: Path,
    config: Config,
    data_dir: Path,
    progress: Progress | None = None,
    *,
    force: bool = False,
    full: bool = False,
) -> Path:
    """Read ``raw_dir``, build every table, publish atomically under ``data_dir``; return the folder.

    Raises :class:`BuildError` with a message naming the file/line or the problem; on any error
    nothing is published and the current snapshot stays.  Unless ``force``, a snapshot that loses
    more than ``publish_guard.max_drop`` of the current one's coverage is refused before anything is
    written (:mod:`etl.snapshot.guard`).  The raw JSONL is read through the parsed parts kept in
    ``<data_dir>/parsed`` (:mod:`etl.transform.parsed`): only the lines appended since the last
    build are parsed, and only the deals they touch are rebuilt and spliced into the current
    snapshot (:mod:`etl.transform.splice`), unless ``full``: every file parsed again, the parts
    replaced, every table built from scratch.
    """
    raw_dir = Path(raw_dir)
    snapshots_dir = Path(data_dir) / config.snapshots_dir
    cache = ParsedCache(
        Path(data_dir) / PARSED_DIR, raw_dir, full=full, lead_fields=(config.city_field, config.package_field)
    )
    try:
        spliced = None if full else _splice(raw_dir, snapshots_dir, cache, config, progress)
        if spliced:
            raw, (tables, quality) = spliced
        else:
            raw = read_raw(raw_dir, progress, cache, lazy=True)
            tables, quality = transform(raw, config, progress)
            cache.save()  # after the scans: compacting may remove the parts they read
    except (RawExportError, ConfigError) as exc:
        raise BuildError(str(exc)) from exc
    data_as_of = _data_as_of(raw, tables)
    tables = add_daily(tables, config.timezone, data_as_of)
    now = datetime.now(UTC)
    built_at = now.replace(microsecond=0)
    fingerprint = hashlib.sha256()
    fingerprint.update(config.sha256.encode())
    for name in sorted(rawio.FILES):
        p = raw_dir / name
        if p.is_file():
            st = p.stat()
            fingerprint.update(f"{name}:{st.st_size}:{st.st_mtime_ns}".encode())
    # Milliseconds keep ids of quick successive builds in time order (pruning sorts by id).
    snapshot_id = f"{now:%Y%m%dT%H%M%S}{now.microsecond // 1000:03d}Z-{fingerprint.hexdigest()[:8]}"
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "snapshot_id": snapshot_id,
        "built_at": built_at.isoformat().replace("+00:00", "Z"),
        "data_as_of": data_as_of.isoformat().replace("+00:00", "Z"),
        "source": {
            "raw_dir": str(raw_dir.resolve()),
            "subdomain": raw.export.get("source") or raw.account.get("subdomain") or "",
            "pulled_at": raw.export.get("pulled_at"),
        },
        "timezone": config.timezone,
        "config_sha256": config.sha256,
        "settings": config.metric_settings(),
        "row_counts": {name: tables[name].height for name in TABLES},
        "coverage": coverage(tables["deals"]),
        "quality": quality,
        "raw_bytes": dict(sorted(cache.size.items())),
        "transform_sha256": transform_sha256(),
        "built_by": "incremental" if spliced else "full",
    }
    if not force:
        cur = current_id(snapshots_dir)
        try:
            guard_check(snapshots_dir / cur if cur else None, manifest["coverage"], config.publish_max_drop, cur)
        except PublishRefused as exc:
            raise BuildError(str(exc), kind="guard") from exc
    staged = snapshots_dir / f".tmp-{snapshot_id}"
    try:
        snapshots_dir.mkdir(parents=True, exist_ok=True)
        if progress:
            rows = sum(t.height for t in tables.values())
            progress(f"запись parquet: {rows:,} строк".replace(",", " "), step="write", count=rows)
        write_tables(staged, tables, manifest)
        if progress:
            progress(f"публикация снимка {snapshot_id}", step="publish")
        return publish(snapshots_dir, staged, snapshot_id, config.snapshots_keep)
    except SchemaError as exc:
        raise BuildError(f"the built tables do not match the snapshot schema, nothing published: {exc}") from exc
    except OSError as exc:
        where = None if exc.filename else snapshots_dir
        raise BuildError(f"snapshot not published: {disk_message(exc, where)}", kind="disk") from exc
    finally:
        if staged.exists():
            shutil.rmtree(staged, ignore_errors=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m etl build", description="Build a parquet snapshot from a raw export."
    )
    parser.add_argument("--raw", required=True, help="raw export folder (DATA.md §1)")
    parser.add_argument("--config", default=None, help="config file (default: the repository's config.yaml)")
    parser.add_argument("--data-dir", default=None, help="data folder (default: $REPORT_DATA_DIR or ./data)")
    parser.add_argument("--force", action="store_true", help="publish even if the publish guard would refuse")
    parser.add_argument(
        "--full",
        action="store_true",
        help="parse the whole raw export again and build every table from scratch (not only what a pull appended)",
    )
    args = parser.parse_args(argv)
    started = time.monotonic()

    def progress(msg: str, **_step: object) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {msg}", file=sys.stderr, flush=True)

    try:
        config = load_config(args.config)
        folder = build_snapshot(
            Path(args.raw), config, data_dir(args.data_dir), progress, force=args.force, full=args.full
        )
    except (BuildError, ConfigError) as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    counts = ", ".join(f"{k} {v}" for k, v in manifest["row_counts"].items())
    print(f"published snapshot {manifest['snapshot_id']} ({counts}) in {time.monotonic() - started:.1f} s")
    return 0
