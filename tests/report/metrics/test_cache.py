"""The metric cache: same key hits, a new snapshot misses, processes share it, failures degrade."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import replace
from datetime import date
from pathlib import Path

import polars as pl
from metric_snapshots import MARCH, MARCH_USERS
from polars.testing import assert_frame_equal

import report.cache as cache_mod
from report.cache import MetricCache, compute_metric, configure_cache
from report.metrics.filters import Filters
from report.metrics.registry import get

REPO = Path(__file__).resolve().parents[3]
MARCH_F = Filters(date(2026, 3, 1), date(2026, 3, 31))


def counting(metric_id: str):
    """A resolver whose metrics count their calls, so a hit is proven by a call not happening."""
    calls: list[str] = []
    real = get(metric_id)

    def fn(snap, filters, by=()):
        calls.append(metric_id)
        return real.fn(snap, filters, by)

    metric = replace(real, fn=fn)
    return (lambda _id: metric), calls


def test_same_key_hits_and_other_filters_miss(tmp_path, march):
    resolve, calls = counting("funnel.cohort")
    cache = MetricCache(tmp_path / "cache", 10 * 2**20, resolve=resolve)
    first = cache.compute(march, "funnel.cohort", MARCH_F)
    again = cache.compute(march, "funnel.cohort", Filters(date(2026, 3, 1), date(2026, 3, 31)))
    assert len(calls) == 1 and cache.hits == 1
    assert_frame_equal(first, again)
    cache.compute(march, "funnel.cohort", MARCH_F, ("city",))  # another breakdown
    cache.compute(march, "funnel.cohort", MARCH_F.with_(cities=("Москва",)))  # another filter
    assert len(calls) == 3


def test_new_snapshot_id_misses(tmp_path, make_snapshot):
    resolve, calls = counting("deals.created")
    cache = MetricCache(tmp_path / "cache", 10 * 2**20, resolve=resolve)
    old = make_snapshot(MARCH, users=MARCH_USERS, snapshot_id="20260401T000000Z-aaaaaaaa")
    new = make_snapshot(MARCH[:3], users=MARCH_USERS, snapshot_id="20260402T000000Z-bbbbbbbb")
    assert cache.compute(old, "deals.created", MARCH_F)["deals"].to_list() == [7]
    assert cache.compute(new, "deals.created", MARCH_F)["deals"].to_list() == [3]  # #1 #2 #3
    assert len(calls) == 2


def test_two_processes_share_the_cache(tmp_path, march):
    """Another process fills the cache; this one then reads the same table without computing."""
    script = textwrap.dedent(
        f"""
        from datetime import date
        from pathlib import Path
        from etl.snapshot.store import Snapshot
        from report.cache import configure_cache, compute_metric
        from report.metrics.filters import Filters
        configure_cache({str(tmp_path / "cache")!r}, 10 * 2**20)
        snap = Snapshot.open(Path({str(march.path)!r}))
        df = compute_metric(snap, "funnel.flow", Filters(date(2026, 3, 1), date(2026, 3, 31)))
        print(df["entries"].sum())
        """
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "25"  # 7+3+4+3+1 +1+1+1+1+3 (see test_metric_funnels)
    resolve, calls = counting("funnel.flow")
    cache = MetricCache(tmp_path / "cache", 10 * 2**20, resolve=resolve)
    df = cache.compute(march, "funnel.flow", MARCH_F)
    assert calls == [] and cache.hits == 1
    assert df["entries"].sum() == 25


def test_broken_cache_degrades_to_computing(tmp_path, march):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    resolve, calls = counting("deals.created")
    cache = MetricCache(not_a_dir / "cache", 10 * 2**20, resolve=resolve)
    assert cache.compute(march, "deals.created", MARCH_F)["deals"].to_list() == [7]
    assert cache.compute(march, "deals.created", MARCH_F)["deals"].to_list() == [7]
    assert len(calls) == 2


def test_corrupt_entry_degrades_to_computing(tmp_path, march):
    resolve, calls = counting("deals.created")
    cache = MetricCache(tmp_path / "cache", 10 * 2**20, resolve=resolve)
    cache._cache.set(cache.key(march, "deals.created", MARCH_F, ()), b"not arrow")
    assert cache.compute(march, "deals.created", MARCH_F)["deals"].to_list() == [7]
    assert len(calls) == 1


def test_size_is_bounded(tmp_path, march):
    cache = MetricCache(tmp_path / "cache", 200_000)
    for day in range(1, 29):
        cache.compute(march, "funnel.cohort", Filters(date(2026, 2, day), date(2026, 3, 31)), ("city", "manager"))
    assert cache._cache.volume() < 400_000  # diskcache culls back under the limit (plus its own pages)


def test_compute_metric_without_and_with_configuration(tmp_path, march):
    cache_mod._CACHE = None
    direct = compute_metric(march, "funnel.cohort", MARCH_F)
    configure_cache(tmp_path / "cache", 10 * 2**20)
    try:
        cached = compute_metric(march, "funnel.cohort", MARCH_F)
        again = compute_metric(march, "funnel.cohort", MARCH_F)
        assert cache_mod._CACHE.hits == 1
    finally:
        cache_mod._CACHE.close()
        cache_mod._CACHE = None
    assert_frame_equal(direct, cached)
    assert_frame_equal(direct, again)
    assert isinstance(again, pl.DataFrame)


def test_quality_panel_is_never_cached(tmp_path, march):
    resolve, calls = counting("quality.panel")
    cache = MetricCache(tmp_path / "cache", 10 * 2**20, resolve=resolve)
    cache.compute(march, "quality.panel", MARCH_F)
    cache.compute(march, "quality.panel", MARCH_F)
    assert len(calls) == 2


def _tree(tmp_path: Path) -> Path:
    """A copy of the parts of the repository a metric's answer may depend on, and one it does not."""
    import shutil

    root = tmp_path / "repo"
    for part in ("report/metrics", "etl/transform", "etl/snapshot", "report/views"):
        shutil.copytree(REPO / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "etl" / "config.py", root / "etl" / "config.py")
    return root


def test_code_version_follows_every_module_an_answer_depends_on(tmp_path):
    """Changing the text of a metric module, the facts, the snapshot reader or the config gives a new
    version (so no stale table is served after a deploy); the views do not count."""
    root = _tree(tmp_path)
    base = cache_mod.code_version(root=root)
    assert cache_mod.code_version(root=root) == base  # stable
    for rel in ("report/metrics/funnels.py", "etl/transform/facts.py", "etl/snapshot/store.py", "etl/config.py"):
        path = root / rel
        text = path.read_text(encoding="utf-8")
        path.write_text(text + "\n# changed\n", encoding="utf-8")
        assert cache_mod.code_version(root=root) != base, rel
        path.write_text(text, encoding="utf-8")
        assert cache_mod.code_version(root=root) == base, rel
    (root / "report/views/funnels.py").write_text("# another layout\n", encoding="utf-8")
    assert cache_mod.code_version(root=root) == base


def test_a_new_code_version_misses(tmp_path, march):
    resolve, calls = counting("deals.created")
    MetricCache(tmp_path / "cache", 10 * 2**20, resolve=resolve, version="v1").compute(march, "deals.created", MARCH_F)
    again = MetricCache(tmp_path / "cache", 10 * 2**20, resolve=resolve, version="v2")
    assert again.compute(march, "deals.created", MARCH_F)["deals"].to_list() == [7]
    assert len(calls) == 2 and again.hits == 0
