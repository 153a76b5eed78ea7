"""Shared state of the report: the refresh lock, sign-in limits and a key-value store (issue 13).

Two implementations behind one small interface:

* **local** (no ``REPORT_REDIS_URL``): what one host had before — ``flock`` on
  ``<data>/refresh/lock`` (handed to the refresh processes as an open descriptor), sign-in failures
  counted in this process's memory, and a diskcache folder for the key-value store;
* **redis** (``REPORT_REDIS_URL=redis://host:6379/0``): several hosts behind one proxy share one
  refresh, one failure counter per client address and one cache.

Choices the spec leaves open:

* The Redis refresh lock is ``SET NX`` with a time-to-live of :data:`LOCK_TTL_S`, renewed by the
  supervisor every third of it while the refresh runs.  A supervisor killed with SIGKILL (or a host
  that dies) stops renewing and the lock lapses, as the kernel drops a ``flock``; the next status
  check records that run as failed.  The lock's value is a random token, released only by its
  holder (compare-and-delete in one Lua script).
* The failure counter is a fixed window: the first failure starts a ``window_s`` expiry, and the
  address is refused while the count is at ``limit``.  That is the local rule ("5 failures within
  5 minutes → 429 for the rest of those 5 minutes") up to where the window starts.
* The key-value store is bounded by a TTL on every key (Redis) or by size (diskcache); a cached
  metric is recomputable, so losing one is harmless.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import fcntl
import os
import secrets
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

ENV_REDIS_URL = "REPORT_REDIS_URL"
KEY_PREFIX = "report:"
LOCK_TTL_S = 30.0
DEFAULT_KV_TTL_S = 7 * 24 * 3600
DEFAULT_FAIL_LIMIT = 5
DEFAULT_FAIL_WINDOW_S = 300.0
_RELEASE_LUA = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
_RENEW_LUA = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
)


def redis_url(environ: Mapping[str, str] | None = None) -> str | None:
    value = (os.environ if environ is None else environ).get(ENV_REDIS_URL, "").strip()
    return value or None


def _redis_client(url: str) -> Any:
    import redis  # only when configured

    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def _key(namespace: str, name: str) -> str:
    return f"{KEY_PREFIX}{namespace}:{name}"


# ---------------------------------------------------------------------------------------------
# The refresh lock
# ---------------------------------------------------------------------------------------------


class RefreshLock(Protocol):
    """Held by whoever runs the refresh; the handle is passed on to the supervisor process."""

    def try_acquire(self) -> Any | None: ...
    def release(self, handle: Any) -> None: ...
    def held(self) -> bool: ...
    def supervisor_args(self, handle: Any) -> tuple[list[str], tuple[int, ...]]: ...


class FlockLock:
    """``flock`` on a file: held until every process with the descriptor has exited."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def try_acquire(self) -> int | None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return None
            raise
        return fd

    def release(self, handle: int) -> None:
        os.close(handle)  # the supervisor keeps its own copy of the locked descriptor

    def held(self) -> bool:
        handle = self.try_acquire()
        if handle is None:
            return True
        self.release(handle)
        return False

    def supervisor_args(self, handle: int) -> tuple[list[str], tuple[int, ...]]:
        return ["--lock-fd", str(handle)], (handle,)


class RedisLock:
    """``SET NX PX`` with a random token; the supervisor renews it (:meth:`renew`) while it runs."""

    def __init__(self, url: str, name: str = "refresh-lock", ttl_s: float = LOCK_TTL_S) -> None:
        self.url = url
        self.key = _key("lock", name)
        self.ttl_ms = int(ttl_s * 1000)
        self._client = _redis_client(url)

    def try_acquire(self) -> str | None:
        token = secrets.token_hex(16)
        return token if self._client.set(self.key, token, nx=True, px=self.ttl_ms) else None

    def release(self, handle: str) -> None:
        """The web side hands the token to the supervisor: it releases nothing itself."""

    def release_token(self, token: str) -> None:
        self._client.eval(_RELEASE_LUA, 1, self.key, token)

    def renew(self, token: str) -> bool:
        return bool(self._client.eval(_RENEW_LUA, 1, self.key, token, self.ttl_ms))

    def held(self) -> bool:
        return bool(self._client.exists(self.key))

    def supervisor_args(self, handle: str) -> tuple[list[str], tuple[int, ...]]:
        return ["--lock-token", handle], ()


def refresh_lock(lock_path: Path, environ: Mapping[str, str] | None = None) -> RefreshLock:
    url = redis_url(environ)
    return RedisLock(url) if url else FlockLock(lock_path)


@contextlib.contextmanager
def holding(lock: RefreshLock) -> Any:
    """Hold the lock for a block if free (for a quick tidy-up); yields whether we got it."""
    handle = lock.try_acquire()
    try:
        yield handle is not None
    finally:
        if handle is not None:
            if isinstance(lock, RedisLock):
                lock.release_token(handle)
            else:
                lock.release(handle)


class LockKeeper:
    """The supervisor's side of a Redis lock: renew it in a thread, release it at the end."""

    def __init__(self, lock: RedisLock, token: str) -> None:
        self.lock, self.token = lock, token
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="refresh-lock-keeper", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.lock.ttl_ms / 3000):
            with contextlib.suppress(Exception):  # a Redis blip: try again; the TTL covers two misses
                self.lock.renew(self.token)

    def __enter__(self) -> LockKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.lock.release_token(self.token)


# ---------------------------------------------------------------------------------------------
# Sign-in failure limits
# ---------------------------------------------------------------------------------------------


class FailureLimiter(Protocol):
    def blocked(self, addr: str) -> bool: ...
    def fail(self, addr: str) -> None: ...


class MemoryLimiter:
    """Per-process brake on password guessing: after ``limit`` failures within ``window_s``, refuse."""

    def __init__(self, limit: int = DEFAULT_FAIL_LIMIT, window_s: float = DEFAULT_FAIL_WINDOW_S) -> None:
        self.limit = limit
        self.window_s = window_s
        self._fails: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, addr: str, now: float) -> collections.deque[float]:
        queue = self._fails.setdefault(addr, collections.deque())
        while queue and now - queue[0] > self.window_s:
            queue.popleft()
        return queue

    def blocked(self, addr: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            return len(self._recent(addr, now)) >= self.limit

    def fail(self, addr: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._recent(addr, now).append(now)
            if len(self._fails) > 10_000:  # a flood of addresses: forget the oldest
                self._fails.pop(next(iter(self._fails)))


class RedisLimiter:
    """One failure counter per client address for every worker on every host."""

    def __init__(self, url: str, limit: int = DEFAULT_FAIL_LIMIT, window_s: float = DEFAULT_FAIL_WINDOW_S) -> None:
        self.limit = limit
        self.window_ms = int(window_s * 1000)
        self._client = _redis_client(url)

    def blocked(self, addr: str) -> bool:
        count = self._client.get(_key("fails", addr))
        return count is not None and int(count) >= self.limit

    def fail(self, addr: str) -> None:
        key = _key("fails", addr)
        pipe = self._client.pipeline()
        pipe.incr(key)
        pipe.pexpire(key, self.window_ms, nx=True)
        pipe.execute()


def failure_limiter(environ: Mapping[str, str] | None = None) -> FailureLimiter:
    url = redis_url(environ)
    return RedisLimiter(url) if url else MemoryLimiter()


# ---------------------------------------------------------------------------------------------
# Key-value store (for the metric cache)
# ---------------------------------------------------------------------------------------------


class KVStore(Protocol):
    def get(self, key: str) -> bytes | None: ...
    def set(self, key: str, value: bytes) -> None: ...


class RedisKV:
    """Values under ``report:kv:<namespace>:<key>``, each kept ``ttl_s`` (and subject to maxmemory)."""

    def __init__(self, url: str, namespace: str = "metrics", ttl_s: int = DEFAULT_KV_TTL_S) -> None:
        self.namespace = namespace
        self.ttl_s = ttl_s
        self._client = _redis_client(url)

    def get(self, key: str) -> bytes | None:
        value = self._client.get(_key(f"kv:{self.namespace}", key))
        return bytes(value) if value is not None else None

    def set(self, key: str, value: bytes) -> None:
        self._client.set(_key(f"kv:{self.namespace}", key), value, ex=self.ttl_s)

    def add(self, key: str, value: bytes, expire: float) -> bool:
        """Set ``key`` only if it is not there (kept ``expire`` seconds); True if this call set it."""
        return bool(self._client.set(_key(f"kv:{self.namespace}", key), value, ex=max(1, int(expire)), nx=True))


class DiskKV:
    """The local store: a diskcache folder bounded by size (least recently used goes first)."""

    def __init__(self, folder: Path, size_limit_bytes: int = 512 * 2**20) -> None:
        import diskcache

        self._cache = diskcache.Cache(str(folder), size_limit=size_limit_bytes, eviction_policy="least-recently-used")

    def get(self, key: str) -> bytes | None:
        value = self._cache.get(key)
        return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes) -> None:
        self._cache.set(key, value)


def kv_store(data_dir: Path, environ: Mapping[str, str] | None = None, namespace: str = "metrics") -> KVStore:
    """Redis when configured, else a diskcache folder ``<data>/kv-<namespace>``."""
    url = redis_url(environ)
    return RedisKV(url, namespace) if url else DiskKV(Path(data_dir) / f"kv-{namespace}")
