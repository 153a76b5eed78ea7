"""The emulator's state (thread-safe): the clock, the views, tokens, faults, the request log.

One view (record stores, :mod:`~etl.simulated.view_store`) is kept, for the current clock time, with
indexes per touch state; building a synthetic account's view takes a while, so one is built at a
time and the others wait for it.
"""

from __future__ import annotations

import collections
import gc
import hashlib
import random
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from etl.simulated.faults import Faults
from etl.simulated.indexes import ViewIndex
from etl.simulated.request_log import LogEntry
from etl.simulated.sources import AccountSource
from etl.simulated.tokens import (
    ACCESS_TTL_S,
    CODE_TTL_S,
    REFRESH_TTL_S,
    STATIC_TOKEN_TTL_S,
    OAuthClient,
    RefreshRecord,
    TokenRecord,
    jwt_claims,
    make_jwt,
)
from etl.simulated.view_store import StoreView


@dataclass
class EmulatorState:
    source: AccountSource
    rate_limit_per_s: float = 7.0
    quiet: bool = True
    faults: Faults = field(default_factory=Faults)
    clock: datetime = field(init=False)
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    tokens: dict[str, TokenRecord] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshRecord] = field(default_factory=dict)
    codes: dict[str, tuple[str, float]] = field(default_factory=dict)
    clients: dict[str, OAuthClient] = field(default_factory=dict)
    log: list[LogEntry] = field(default_factory=list)
    touched: dict[str, dict[str, int]] = field(default_factory=dict)
    touches_done: int = 0
    api_requests: int = 0
    account_id: int = 0
    access_ttl_s: float = ACCESS_TTL_S

    def __post_init__(self) -> None:
        self.clock = self.source.initial_clock()
        self.lock = threading.RLock()
        self._views: collections.OrderedDict[Any, ViewIndex] = collections.OrderedDict()
        self._store_views: dict[datetime | None, StoreView] = {}
        self._windows: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self._rng = random.Random(self.faults.seed)
        self._touch_seq = 0
        self._view_lock = threading.Lock()

    # -- views ------------------------------------------------------------------------------
    def current(self) -> ViewIndex:
        """The indexed view at the current clock (one view kept, indexes per touch state)."""
        with self.lock:
            view_key = self.source.view_key(self.clock)
            key = (view_key, self._touch_seq)
            idx = self._views.get(key)
            if idx is not None:
                return idx
        with self._view_lock:  # one view built at a time; others wait for it
            with self.lock:
                clock = self.clock  # it may have moved while we waited
                view_key = self.source.view_key(clock)
                key = (view_key, self._touch_seq)
                idx = self._views.get(key)
                if idx is not None:
                    return idx
                touched = {name: dict(ids) for name, ids in self.touched.items()}
                view = self._store_views.get(view_key)
                if view is None:
                    # Let the old view go before building the next (a one-year view is ~0.5 GB).
                    self._store_views.clear()
                    self._views.clear()
            if view is None:
                gc.collect()
                view = self.source.store_view(clock)
            idx = ViewIndex(view, touched)
            idx.warm()
            with self.lock:
                self._store_views[view_key] = view
                self._views[key] = idx
                while len(self._views) > 2:
                    self._views.popitem(last=False)
                if not self.account_id:
                    self.account_id = int((view.account or {}).get("id") or 0)
            return idx

    def advance(self, seconds: float) -> datetime:
        """Move the clock and build the new view now (the synthetic account takes a while)."""
        with self.lock:
            self.clock = self.clock + timedelta(seconds=seconds)
            clock = self.clock
        self.current()
        return clock

    def touch(self, collection: str, count: int) -> None:
        """Update ``count`` records of a collection now: they move to the end of updated_at order."""
        records = self.current().collection(collection)
        if not len(records):
            return
        with self.lock:
            count = min(count, self.faults.touch_budget - self.touches_done)
            if count <= 0:
                return
            overlay = self.touched.setdefault(collection, {})
            base = max(int(self.clock.timestamp()), max(overlay.values(), default=0))
            for i in range(count):
                rec = records.record(self._rng.randrange(len(records)))
                overlay[str(rec.get("id"))] = base + 1 + i
            self.touches_done += count
            self._touch_seq += 1

    # -- tokens -----------------------------------------------------------------------------
    def issue_access(self, ttl_s: float, client_id: str | None = None) -> str:
        now = time.time()
        jti = secrets.token_hex(8)
        claims = {
            "aud": client_id or "emulator",
            "jti": jti,
            "iat": int(now),
            "nbf": int(now),
            "exp": int(now + ttl_s),
            "sub": "1",
            "account_id": self.account_id or 1,
            "scopes": ["crm", "notifications"],
        }
        token = make_jwt(self.secret, claims)
        with self.lock:
            self.tokens[token] = TokenRecord(jti, now + ttl_s, client_id)
        return token

    def add_static_token(self, token: str) -> None:
        claims = jwt_claims(token) or {}
        token_id = str(claims.get("jti") or "static-" + hashlib.sha256(token.encode()).hexdigest()[:8])
        exp = float(claims.get("exp") or time.time() + STATIC_TOKEN_TTL_S)
        with self.lock:
            self.tokens[token] = TokenRecord(token_id, exp)

    def issue_pair(self, client_id: str, access_ttl_s: float = ACCESS_TTL_S) -> dict[str, Any]:
        access = self.issue_access(access_ttl_s, client_id)
        refresh = "def50200" + secrets.token_hex(48)
        with self.lock:
            self.refresh_tokens[refresh] = RefreshRecord(client_id, time.time() + REFRESH_TTL_S)
        return {
            "token_type": "Bearer",
            "expires_in": int(access_ttl_s),
            "access_token": access,
            "refresh_token": refresh,
        }

    def authorize(self, client_id: str) -> str:
        code = "def50200" + secrets.token_hex(32)
        with self.lock:
            self.codes[code] = (client_id, time.time() + CODE_TTL_S)
        return code

    def check_token(self, header: str | None) -> tuple[TokenRecord | None, str]:
        """(record, problem detail); record None = 401."""
        if not header or not header.startswith("Bearer "):
            return None, "Authorization header with a Bearer token is required"
        token = header[len("Bearer ") :].strip()
        with self.lock:
            rec = self.tokens.get(token)
        if rec is None:
            return None, "Token is invalid"
        if rec.expires_at <= time.time():
            return None, "Token has expired"
        return rec, ""

    def over_limit(self, token_id: str, now: float) -> bool:
        """Sliding one-second window per token: the request that would make it > limit gets 429."""
        with self.lock:
            window = self._windows[token_id]
            while window and now - window[0] >= 1.0:
                window.popleft()
            window.append(now)
            return len(window) > self.rate_limit_per_s

    def roll(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self.lock:
            return self._rng.random() < rate
