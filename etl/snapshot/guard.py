"""The publish guard: a new snapshot that would lose much of what the current one shows is held back.

A renamed status, a city field emptied by a CRM admin or a pull that silently returned half an
account all build a valid snapshot that answers wrongly.  Before anything is written, the new
snapshot's *coverage* (:func:`coverage`) is compared with the one ``CURRENT`` serves; if any figure
falls by more than ``publish_guard.max_drop`` of its old value the build is refused with
:class:`PublishRefused`, unless the caller forces it (``--force``).

Choices where the spec is silent:
- Coverage = live (not deleted) deals whose stage is mapped (not ``other``), distinct cities of live
  deals, distinct mapped stages of live deals.  Three numbers, written to the manifest, so the next
  build compares two small JSON files instead of reading parquet.
- A current snapshot built before the manifest carried ``coverage`` is measured from its ``deals``
  table (three columns); an unreadable one is not compared (nothing to protect).
- Growth and a drop of exactly ``max_drop`` pass; a figure that was 0 cannot drop.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

__all__ = ["FIGURES", "PublishRefused", "check", "coverage", "current_coverage", "drops"]

#: Coverage figures, in the order a refusal names them, with the words it uses.
FIGURES: dict[str, str] = {"mapped_deals": "mapped deals", "cities": "cities", "stages": "stages"}


class PublishRefused(RuntimeError):
    """The new snapshot would lose more than the allowed share of the current one's coverage."""


def coverage(deals: pl.DataFrame | pl.LazyFrame) -> dict[str, int]:
    """Mapped deals, cities and mapped stages of the live deals of a ``deals`` table."""
    live = deals.lazy().filter(~pl.col("is_deleted"))
    mapped = pl.col("stage") != "other"
    row = live.select(
        mapped_deals=mapped.sum(),
        cities=pl.col("city").drop_nulls().n_unique(),
        stages=pl.col("stage").filter(mapped).n_unique(),
    ).collect()
    return {name: int(row[name][0] or 0) for name in FIGURES}


def current_coverage(snapshot_dir: Path) -> dict[str, int] | None:
    """The coverage of a published snapshot: its manifest's, else measured; None if unreadable."""
    try:
        manifest = json.loads((snapshot_dir / "manifest.json").read_text(encoding="utf-8"))
        recorded = manifest.get("coverage")
        if isinstance(recorded, dict) and all(isinstance(recorded.get(k), int) for k in FIGURES):
            return {k: int(recorded[k]) for k in FIGURES}
        return coverage(pl.scan_parquet(snapshot_dir / "deals.parquet").select("is_deleted", "stage", "city"))
    except (OSError, ValueError, pl.exceptions.PolarsError):
        return None


def _number(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def drops(old: dict[str, int], new: dict[str, int], max_drop: float) -> list[str]:
    """Each figure that falls by more than ``max_drop`` (a share, 0.2 = 20 %), in words."""
    out = []
    for key, words in FIGURES.items():
        before, after = int(old.get(key, 0)), int(new.get(key, 0))
        if before > 0 and (before - after) / before > max_drop:
            share = round(100 * (before - after) / before)
            out.append(f"{words} {_number(before)} → {_number(after)} (−{share} %)")
    return out


def check(current_dir: Path | None, new: dict[str, int], max_drop: float, current_id: str | None = None) -> None:
    """Raise :class:`PublishRefused` (one line) when ``new`` loses too much of the current coverage."""
    if current_dir is None:
        return
    old = current_coverage(current_dir)
    if old is None:
        return
    lost = drops(old, new, max_drop)
    if lost:
        raise PublishRefused(
            f"publish refused: {'; '.join(lost)} compared with the current snapshot "
            f"{current_id or current_dir.name} (publish_guard.max_drop {round(100 * max_drop)} %); "
            "it keeps serving — rerun with --force to publish anyway"
        )
