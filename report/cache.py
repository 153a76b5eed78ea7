"""Memoised metric results, shared by every process on the host.

The cache story (docs/metrics.md repeats it) — two layers, no more:

1. **Shared** (this module): diskcache under ``<data-dir>/<cache.dir>``, bounded by
   ``cache.size_limit_mb`` (least recently used out), shared by the processes of one host; or,
   with ``REPORT_REDIS_URL`` set, Redis (``report.backend.RedisKV``, each entry kept a week), shared
   by every host, so a table one host computed is read by the others. Key = (code version,
   snapshot id, metric id, ``Filters.key()``, breakdown). Values are Arrow IPC bytes.
   - A new snapshot has a new id, hence new keys; old entries age out under the size limit.
   - The code version (:func:`code_version`) hashes the text of every module a metric's answer
     depends on (:data:`VERSIONED`: the metrics, the facts the build writes, the snapshot reader,
     the config), so a code change never serves stale numbers.
   - Metrics that depend on the wall clock (``cacheable=False``: ``quality.panel``) skip it.
   - Any cache failure degrades to computing: a broken cache must never break a view.
   Next to the tables, the same store keeps rendered panels (:func:`rendered`): a panel's Dash
   components as JSON, keyed by (view code version, snapshot id, panel, ``Filters.key()``, the
   view state, the cut buckets), so a view seen before costs no metric call and no figure.
2. **In process** (``report.metrics.kept.remembered``): the last few period reads (a period's
   deals, touches, tasks, first losses) that several metrics of one view share, keyed by the
   snapshot (id and folder) and every input of the read. A snapshot never changes, so nothing
   there goes stale; it only saves decoding the same rows again within a view.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from etl.snapshot.store import Snapshot
from report import backend
from report.metrics import registry
from report.metrics.filters import Filters
from report.metrics.registry import Metric

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
#: What a metric's answer depends on, as globs under the repository root.
VERSIONED: tuple[str, ...] = (
    "report/metrics/**/*.py",
    "etl/transform/**/*.py",
    "etl/snapshot/**/*.py",
    "etl/config.py",
    "etl/config_hours.py",
)


#: What a rendered panel depends on besides its numbers: the views, the figures, the texts.
VIEW_VERSIONED: tuple[str, ...] = (
    *VERSIONED,
    "report/views/**/*.py",
    "report/figures/**/*.py",
    "report/i18n.py",
    "report/formatting.py",
    "report/ids.py",
    "report/urlstate.py",
)
#: A rendered panel larger than this is not kept (a day-grain table of every manager: megabytes
#: that would push many metric tables out of the shared size limit).
MAX_RENDERED_BYTES = 2 * 2**20


def versioned_files(root: Path = REPO, patterns: Iterable[str] = VERSIONED) -> list[Path]:
    """The files :func:`code_version` hashes, in a stable order."""
    return sorted({path for pattern in patterns for path in root.glob(pattern) if path.is_file()})


def code_version(files: Iterable[Path] | None = None, root: Path = REPO) -> str:
    """Hash of the names and text of ``files`` (default: :func:`versioned_files`): part of every key."""
    h = hashlib.sha256()
    for path in versioned_files(root) if files is None else sorted(files):
        h.update(str(path.relative_to(root) if path.is_relative_to(root) else path).encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:12]


def _to_bytes(df: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.write_ipc(buf, compression="uncompressed")
    return buf.getvalue()


def _from_bytes(data: bytes) -> pl.DataFrame:
    return pl.read_ipc(io.BytesIO(data), memory_map=False)


class MetricCache:
    """A memo of metric tables: diskcache at a fixed path bounded by ``size_limit_bytes``, or the
    shared ``store`` given (Redis for several hosts; then ``path`` is not used).

    ``resolve`` maps a metric id to its :class:`Metric` (the registry by default; tests pass their
    own to count calls).
    """

    def __init__(
        self,
        path: str | Path,
        size_limit_bytes: int,
        resolve: Callable[[str], Metric] = registry.get,
        version: str | None = None,
        store: backend.KVStore | None = None,
    ) -> None:
        self.path = Path(path)
        self.resolve = resolve
        self.version = version or code_version()
        self.hits = 0
        self.misses = 0
        self._cache: Any
        if store is not None:
            self._cache = store
            return
        try:
            import diskcache

            self._cache = diskcache.Cache(
                str(self.path), size_limit=int(size_limit_bytes), eviction_policy="least-recently-used"
            )
        except Exception as exc:  # unusable folder, locked database…: work without a cache
            log.warning("metric cache at %s unavailable, computing directly: %s", self.path, exc)
            self._cache = None

    def key(self, snap: Snapshot, metric_id: str, filters: Filters, by: tuple[str, ...]) -> str:
        return f"{self.version}|{snap.id}|{metric_id}|{filters.key()}|{','.join(by)}"

    def compute(self, snap: Snapshot, metric_id: str, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
        metric = self.resolve(metric_id)
        by = tuple(by)
        if self._cache is None or not metric.cacheable:
            return metric.fn(snap, filters, by)
        key = self.key(snap, metric_id, filters, by)
        try:
            data = self._cache.get(key)
            if data is not None:
                df = _from_bytes(data)
                self.hits += 1
                return df
        except Exception as exc:
            log.warning("metric cache read failed for %s: %s", key, exc)
        self.misses += 1
        df = metric.fn(snap, filters, by)
        try:
            self._cache.set(key, _to_bytes(df))
        except Exception as exc:
            log.warning("metric cache write failed for %s: %s", key, exc)
        return df

    def get_json(self, key: str) -> Any | None:
        """A rendered value kept under ``key`` (None: not there, or the cache failed)."""
        if self._cache is None:
            return None
        try:
            data = self._cache.get(key)
        except Exception as exc:
            log.warning("render cache read failed for %s: %s", key, exc)
            return None
        return None if data is None else json.loads(data)

    def set_json(self, key: str, text: str) -> None:
        """Keep ``text`` (JSON) under ``key`` unless it exceeds :data:`MAX_RENDERED_BYTES`."""
        data = text.encode()
        if self._cache is None or len(data) > MAX_RENDERED_BYTES:
            return
        try:
            self._cache.set(key, data)
        except Exception as exc:
            log.warning("render cache write failed for %s: %s", key, exc)

    def claim(self, key: str, ttl_s: float) -> bool:
        """True for the first caller (of any process sharing the store) to claim ``key`` within
        ``ttl_s`` seconds; True too when there is no store (nobody else to leave it to)."""
        if self._cache is None:
            return True
        try:
            return bool(self._cache.add(key, b"1", expire=ttl_s))
        except Exception as exc:
            log.warning("cache claim failed for %s: %s", key, exc)
            return True

    def close(self) -> None:
        if self._cache is not None and hasattr(self._cache, "close"):
            self._cache.close()


_CACHE: MetricCache | None = None


def configure_cache(path: str | Path, size_limit_bytes: int, environ: Mapping[str, str] | None = None) -> MetricCache:
    """Set up the process-wide cache (call once per process, e.g. in the app factory, with
    ``<data-dir>/<config.cache_dir>`` and ``config.cache_size_limit_mb * 2**20``): Redis when
    ``REPORT_REDIS_URL`` is set in ``environ`` (default: the process's), else diskcache at ``path``."""
    global _CACHE
    if _CACHE is not None:
        _CACHE.close()
    url = backend.redis_url(environ)
    _CACHE = MetricCache(path, size_limit_bytes, store=backend.RedisKV(url, "metrics") if url else None)
    return _CACHE


def compute_metric(snap: Snapshot, metric_id: str, filters: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """A metric's table, through the process-wide cache when configured, else computed directly."""
    if _CACHE is None:
        return registry.get(metric_id).fn(snap, filters, tuple(by))
    return _CACHE.compute(snap, metric_id, filters, tuple(by))


_VIEW_VERSION: str | None = None


def _view_key(key: str) -> str:
    global _VIEW_VERSION
    if _VIEW_VERSION is None:
        _VIEW_VERSION = code_version(versioned_files(REPO, VIEW_VERSIONED))
    return f"view|{_VIEW_VERSION}|{key}"


def kept_render(key: str) -> Any | None:
    """What :func:`rendered` kept under ``key``: the components' JSON (the page sends it as it
    is), or None (not kept, or no cache configured)."""
    return None if _CACHE is None else _CACHE.get_json(_view_key(key))


def rendered(key: str, render: Callable[[], Any]) -> Any:
    """``render()`` (Dash components), its JSON kept in the shared cache under ``key`` for
    :func:`kept_render`. ``key`` says everything the render depends on besides the code (the
    version of the view code is added here).

    With a cache, what is returned is that JSON parsed back (plain lists and dicts, as
    :func:`kept_render` returns it): the components are walked and encoded once, and Dash's own
    encoding of the answer is then the C encoder's plain pass, not a second walk."""
    value = render()
    if _CACHE is None:
        return value
    from plotly.io.json import to_json_plotly

    text = to_json_plotly(value)
    _CACHE.set_json(_view_key(key), text)
    return json.loads(text)


def claim(key: str, ttl_s: float) -> bool:
    """:meth:`MetricCache.claim` on the process-wide cache (True when none is configured)."""
    return True if _CACHE is None else _CACHE.claim(key, ttl_s)
