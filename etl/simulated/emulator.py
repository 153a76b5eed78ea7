"""An amoCRM API v4 emulator on 127.0.0.1, faithful to ``AMOCRM.md``, with fault switches.

No real account is reachable from here, so the pull client is tested (and the demo is run) against
this server over real HTTP.  It serves an *account source*: a fixed view (a dict, or a raw export
folder) or a synthetic account whose ``as_of(t)`` view changes as the emulator's clock advances.

Behaviour worth knowing (all from ``AMOCRM.md``): HAL lists with absolute ``_links`` that keep
every query parameter and change only ``page``; ``limit`` default 50, max 250 (events 100; more →
50 silently); 204 with an empty body for an empty page; lenient ``filter[...]`` syntaxes;
``order[...]``; ``with=``; JWT-shaped bearer tokens with ``exp``; OAuth code and refresh grants
with refresh-token rotation; 7 requests/s per token (429 above it); problem+json errors.

Control endpoints (no auth, loopback only): ``POST /_emulator/advance {"seconds": N}``,
``GET|POST /_emulator/faults``, ``GET /_emulator/log``, ``POST /_emulator/log/clear``,
``POST /_emulator/tokens {"ttl_s": N, "refresh": bool}``, ``POST /_emulator/authorize
{"client_id": …}``, ``GET /_emulator/state``.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import collections
import contextlib
import gc
import hashlib
import hmac
import json
import random
import secrets
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit

from etl.extract.rawio import COLLECTIONS

#: List endpoints: path → (collection in the view, key under ``_embedded``, max limit).
LIST_ROUTES: dict[str, tuple[str, str, int]] = {
    "/api/v4/leads": ("leads", "leads", 250),
    "/api/v4/contacts": ("contacts", "contacts", 250),
    "/api/v4/events": ("events", "events", 100),
    "/api/v4/leads/notes": ("lead_notes", "notes", 250),
    "/api/v4/contacts/notes": ("contact_notes", "notes", 250),
    "/api/v4/tasks": ("tasks", "tasks", 250),
    "/api/v4/users": ("users", "users", 250),
    "/api/v4/leads/custom_fields": ("lead_fields", "custom_fields", 250),
}
#: Single-object endpoints ``/api/v4/<x>/<id>``.
ENTITY_ROUTES: dict[str, str] = {
    "/api/v4/leads": "leads",
    "/api/v4/contacts": "contacts",
    "/api/v4/tasks": "tasks",
    "/api/v4/users": "users",
}
DEFAULT_LIMIT = 50
VIEW_KEYS = (
    "users",
    "pipelines",
    "lead_fields",
    "leads",
    "deleted_leads",
    "contacts",
    "events",
    "lead_notes",
    "contact_notes",
    "tasks",
)
#: Collections whose records can be "updated while a client pages" (they have ``updated_at``).
TOUCHABLE = ("leads", "contacts", "lead_notes", "contact_notes", "tasks")
RANGE_FIELDS = ("updated_at", "created_at", "closed_at", "complete_till")
STATIC_TOKEN_TTL_S = 5 * 365 * 86400
ACCESS_TTL_S = 86400
REFRESH_TTL_S = 90 * 86400
CODE_TTL_S = 20 * 60


# ---------------------------------------------------------------------------------------------
# Account sources
# ---------------------------------------------------------------------------------------------


class AccountSource(Protocol):
    """What the emulator serves: a view of the account at a given clock time."""

    def initial_clock(self) -> datetime: ...

    def view(self, clock: datetime) -> dict[str, Any]: ...


@dataclass
class StaticSource:
    """A fixed view (a hand-made dict or a raw export); the clock changes nothing."""

    data: dict[str, Any]
    clock: datetime | None = None

    def initial_clock(self) -> datetime:
        return self.clock or datetime.now(UTC).replace(microsecond=0)

    def view(self, clock: datetime) -> dict[str, Any]:
        return self.data


@dataclass
class AsOfSource:
    """Anything with ``as_of(t)`` and ``end`` (the synthetic account): the business goes on."""

    account: Any
    clock: datetime | None = None

    def initial_clock(self) -> datetime:
        return self.clock or self.account.end

    def view(self, clock: datetime) -> dict[str, Any]:
        return self.account.as_of(clock)


def as_source(obj: Any, clock: datetime | None = None) -> AccountSource:
    """Accept a view dict, an account with ``as_of``, or a ready source."""
    if isinstance(obj, dict):
        return StaticSource(obj, clock)
    if hasattr(obj, "as_of"):
        return AsOfSource(obj, clock)
    if hasattr(obj, "view") and hasattr(obj, "initial_clock"):
        return obj
    raise TypeError(f"cannot serve {type(obj).__name__}: expected a view dict or an account with as_of()")


def _ts(value: Any) -> int | None:
    """Lenient integer timestamp (PHP may send numbers as strings)."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def load_raw_view(raw_dir: Path) -> dict[str, Any]:
    """Read a raw export folder into a view: latest record per id, trashed leads apart."""
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"raw export folder {raw_dir} does not exist")
    view: dict[str, Any] = {key: [] for key in VIEW_KEYS}
    account_path = raw_dir / "account.json"
    view["account"] = json.loads(account_path.read_text(encoding="utf-8")) if account_path.is_file() else {}
    for name in COLLECTIONS:
        path = raw_dir / f"{name}.jsonl"
        if not path.is_file():
            continue
        latest: dict[Any, dict[str, Any]] = {}
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{lineno}: not valid JSON: {exc.msg}") from exc
                key = str(rec.get("id"))
                old = latest.get(key)
                if old is None or (_ts(rec.get("updated_at")) or 0) >= (_ts(old.get("updated_at")) or 0):
                    latest[key] = rec
        records = list(latest.values())
        if name == "leads":
            view["leads"] = [r for r in records if not r.get("is_deleted")]
            view["deleted_leads"] = [r for r in records if r.get("is_deleted")]
        else:
            view[name] = records
    return view


# ---------------------------------------------------------------------------------------------
# Query parsing (pure)
# ---------------------------------------------------------------------------------------------


def _scalar(value: str) -> Any:
    v = value.strip()
    if v.lower() in ("true", "false"):
        return v.lower() == "true"
    try:
        return int(v)
    except ValueError:
        return v


def parse_filters(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``filter[...]`` query pairs → {field: scalar | list | {"from", "to"} | nested dict}.

    Accepts every syntax real clients use: ``[from]/[to]``, a bare value, ``[]`` and ``[0]``
    arrays, comma lists.
    """
    out: dict[str, Any] = {}
    for key, value in pairs:
        if not key.startswith("filter["):
            continue
        parts = [p.rstrip("]") for p in key[len("filter[") :].split("[")]
        name, rest = parts[0], parts[1:]
        values = [_scalar(v) for v in value.split(",")] if "," in value else [_scalar(value)]
        if not rest:
            if len(values) > 1:
                out.setdefault(name, [])
                if isinstance(out[name], list):
                    out[name].extend(values)
            else:
                out[name] = values[0]
        elif rest[0] == "" or rest[0].isdigit():
            current = out.get(name)
            if isinstance(current, list):
                current.extend(values)
            elif isinstance(current, dict) and rest[0].isdigit() and len(rest) > 1:
                current.setdefault(rest[0], {})[rest[1]] = values[0]
            elif rest[0].isdigit() and len(rest) > 1:  # filter[statuses][0][pipeline_id]=…
                out[name] = {rest[0]: {rest[1]: values[0]}}
            else:
                out[name] = list(values)
        else:
            sub = out.get(name)
            if not isinstance(sub, dict):
                sub = {}
                out[name] = sub
            sub[rest[0]] = values[0] if len(values) == 1 else values
    return out


def parse_order(pairs: Iterable[tuple[str, str]]) -> tuple[str, bool] | None:
    """``order[field]=asc|desc`` → (field, descending)."""
    for key, value in pairs:
        if key.startswith("order[") and key.endswith("]"):
            fld = key[len("order[") : -1]
            if fld in ("updated_at", "created_at", "id"):
                return fld, value.strip().lower() == "desc"
    return None


def parse_with(pairs: Iterable[tuple[str, str]]) -> set[str]:
    out: set[str] = set()
    for key, value in pairs:
        if key == "with":
            out.update(v.strip() for v in value.split(",") if v.strip())
    return out


def _as_set(value: Any) -> set[str]:
    if isinstance(value, dict):
        items = list(value.values())
    elif isinstance(value, list):
        items = value
    else:
        items = [value]
    return {str(v) for v in items if not isinstance(v, dict)}


def _range(value: Any) -> tuple[int | None, int | None] | None:
    if isinstance(value, dict):
        return _ts(value.get("from")), _ts(value.get("to"))
    if isinstance(value, list):
        return None
    ts = _ts(value)
    return (ts, None) if ts is not None else None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("1", "true", "y", "yes"):
        return True
    if str(value).lower() in ("0", "false", "n", "no"):
        return False
    return None


def record_predicate(filters: dict[str, Any], skip_range: str | None = None) -> Callable[[dict[str, Any]], bool]:
    """A predicate for one record from parsed filters; unknown filter names are ignored."""
    checks: list[Callable[[dict[str, Any]], bool]] = []
    for name, value in filters.items():
        if name in RANGE_FIELDS:
            if name == skip_range:
                continue
            rng = _range(value)
            if rng is None:
                continue
            lo, hi = rng

            def in_range(r: dict[str, Any], f: str = name, lo: int | None = lo, hi: int | None = hi) -> bool:
                t = _ts(r.get(f))
                return t is not None and (lo is None or t >= lo) and (hi is None or t <= hi)

            checks.append(in_range)
        elif name in ("id", "responsible_user_id", "pipeline_id", "status_id", "entity_id", "created_by", "task_type"):
            wanted = _as_set(value)
            key = "task_type_id" if name == "task_type" else name
            checks.append(lambda r, k=key, w=wanted: str(r.get(k)) in w)
        elif name in ("note_type", "type"):
            wanted = _as_set(value)
            checks.append(lambda r, k=name, w=wanted: str(r.get(k)) in w)
        elif name in ("entity", "entity_type"):
            wanted = {w.rstrip("s") for w in _as_set(value)}
            checks.append(lambda r, w=wanted: str(r.get("entity_type", "")).rstrip("s") in w)
        elif name == "is_completed":
            flag = _bool(value)
            if flag is not None:
                checks.append(lambda r, f=flag: bool(r.get("is_completed")) == f)
        elif name == "statuses" and isinstance(value, dict):
            pairs = {
                (str(v.get("pipeline_id")), str(v.get("status_id"))) for v in value.values() if isinstance(v, dict)
            }
            checks.append(lambda r, p=pairs: (str(r.get("pipeline_id")), str(r.get("status_id"))) in p)
    return lambda r: all(c(r) for c in checks)


def page_links(base: str, path: str, pairs: list[tuple[str, str]], page: int, has_next: bool) -> dict[str, Any]:
    """HAL ``_links``: absolute, every query parameter kept, only ``page`` changed."""

    def href(p: int) -> str:
        kept = [(k, v) for k, v in pairs if k != "page"]
        query = urlencode([*kept, ("page", str(p))], safe="[],")
        return f"{base}{path}?{query}"

    links: dict[str, Any] = {"self": {"href": href(page)}}
    if page >= 2:
        links["first"] = {"href": href(1)}
        links["prev"] = {"href": href(page - 1)}
    if has_next:
        links["next"] = {"href": href(page + 1)}
    return links


# ---------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_jwt(secret: bytes, claims: dict[str, Any]) -> str:
    """An HS256 JWT (header.payload.signature, base64url JSON) like amoCRM's tokens look."""
    header = _b64(json.dumps({"typ": "JWT", "alg": "HS256"}, separators=(",", ":")).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(sig)}"


def jwt_claims(token: str) -> dict[str, Any] | None:
    """The payload of a JWT-shaped token, without checking the signature; None if not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


@dataclass
class TokenRecord:
    token_id: str
    expires_at: float  # wall time
    client_id: str | None = None


@dataclass
class RefreshRecord:
    client_id: str
    expires_at: float
    used: bool = False


@dataclass
class OAuthClient:
    client_id: str
    client_secret: str
    redirect_uri: str


# ---------------------------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------------------------


@dataclass
class Faults:
    """Switches that make the emulator misbehave like the real thing does on a bad day."""

    phantom_next: bool = False  # last page still carries a "next" link
    error_rate: float = 0.0  # fraction of API requests answered with error_status
    error_status: int = 503
    fail_after: int | None = None  # after this many more API requests, every one fails (outage)
    slow_s: float = 0.0  # delay before answering ...
    slow_rate: float = 1.0  # ... this fraction of API requests
    drop_rate: float = 0.0  # connection closed half-way through the body
    malformed_rate: float = 0.0  # 200 with a truncated JSON body
    block: bool = False  # everything answers 403 with an HTML page
    unpaid: bool = False  # API answers 402 (account not paid)
    users_forbidden: bool = False  # /users answers 403 problem+json (no admin rights)
    touch_per_request: int = 0  # records updated on each list request of a touchable collection
    touch_budget: int = 50  # at most this many touches in total (then the business calms down)
    seed: int = 7

    def update(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if not hasattr(self, key):
                raise ValueError(f"unknown fault {key!r}; known: {', '.join(self.__dataclass_fields__)}")
            setattr(self, key, value)

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


# ---------------------------------------------------------------------------------------------
# Indexed views
# ---------------------------------------------------------------------------------------------


class CollectionIndex:
    """One collection of one view: records plus lazily built sort orders for fast range queries."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records
        self._sorted: dict[tuple[str, bool], tuple[list[int], list[dict[str, Any]]]] = {}
        self._by_id: dict[str, dict[str, Any]] | None = None
        self._query_cache: collections.OrderedDict[Any, list[dict[str, Any]]] = collections.OrderedDict()
        self._lock = threading.Lock()

    def by_id(self) -> dict[str, dict[str, Any]]:
        if self._by_id is None:
            self._by_id = {str(r.get("id")): r for r in self.records}
        return self._by_id

    def sorted_by(self, fld: str, desc: bool) -> tuple[list[Any], list[dict[str, Any]]]:
        """Records sorted by (field, id); keys are the field values (for bisect on asc)."""
        with self._lock:
            if (fld, desc) not in self._sorted:

                def key(r: dict[str, Any]) -> tuple[Any, Any]:
                    rid = r.get("id")
                    id_key = (0, rid, "") if isinstance(rid, int) else (1, 0, str(rid))
                    if fld == "id":
                        return (id_key, 0)
                    return (_ts(r.get(fld)) or 0, id_key)

                recs = sorted(self.records, key=key, reverse=desc)
                keys = [] if fld == "id" else [_ts(r.get(fld)) or 0 for r in recs]
                self._sorted[(fld, desc)] = (keys, recs)
            return self._sorted[(fld, desc)]

    def select(
        self, filters: dict[str, Any], order: tuple[str, bool] | None, offset: int, limit: int
    ) -> list[dict[str, Any]]:
        """Up to ``limit + 1`` matching records starting at ``offset`` (the +1 tells if more exist)."""
        if order is None:  # no order asked: by the range-filtered field if any (new records go last)
            order = next(((f, False) for f in RANGE_FIELDS if f in filters), None)
        fld, desc = order or ("id", False)
        rng = _range(filters.get(fld)) if fld in RANGE_FIELDS and fld in filters else None
        if rng is not None and not desc and offset <= 4 * limit:
            # Keyset-friendly path: bisect to the range start, scan lazily.
            keys, recs = self.sorted_by(fld, False)
            lo, hi = rng
            start = bisect.bisect_left(keys, lo) if lo is not None else 0
            pred = record_predicate(filters, skip_range=fld)
            out: list[dict[str, Any]] = []
            skipped = 0
            for i in range(start, len(recs)):
                r = recs[i]
                if hi is not None and keys[i] > hi:
                    break
                if not pred(r):
                    continue
                if skipped < offset:
                    skipped += 1
                    continue
                out.append(r)
                if len(out) > limit:
                    break
            return out
        cache_key = (json.dumps(filters, sort_keys=True, default=str), fld, desc)
        with self._lock:
            matched = self._query_cache.get(cache_key)
            if matched is not None:
                self._query_cache.move_to_end(cache_key)
        if matched is None:
            keys, recs = self.sorted_by(fld, desc)
            if rng is not None and not desc and rng[0] is not None:
                recs = recs[bisect.bisect_left(keys, rng[0]) :]  # skip what the range excludes anyway
            pred = record_predicate(filters)
            matched = [r for r in recs if pred(r)]
            with self._lock:
                self._query_cache[cache_key] = matched
                while len(self._query_cache) > 16:
                    self._query_cache.popitem(last=False)
        return matched[offset : offset + limit + 1]


class ViewIndex:
    """Per-view indexes; built lazily per collection."""

    def __init__(self, view: dict[str, Any], touched: dict[str, dict[str, int]]) -> None:
        self.view = view
        self.touched = touched
        self._collections: dict[str, CollectionIndex] = {}
        self._contact_leads: dict[str, list[dict[str, Any]]] | None = None
        self._lock = threading.Lock()

    def collection(self, name: str) -> CollectionIndex:
        with self._lock:
            idx = self._collections.get(name)
            if idx is None:
                records = list(self.view.get(name) or [])
                overlay = self.touched.get("leads" if name == "deleted_leads" else name) or {}
                if overlay:
                    patched = []
                    for r in records:
                        new_ts = overlay.get(str(r.get("id")))
                        if new_ts is not None and new_ts > (_ts(r.get("updated_at")) or 0):
                            r = {**r, "updated_at": new_ts}
                        patched.append(r)
                    records = patched
                idx = CollectionIndex(records)
                self._collections[name] = idx
            return idx

    def warm(self) -> None:
        """Build the sort orders incremental pulls use now, not while a client waits (and is timed)."""
        for name in (*TOUCHABLE, "deleted_leads"):
            self.collection(name).sorted_by("updated_at", False)
        self.collection("events").sorted_by("created_at", False)

    def contact_leads(self) -> dict[str, list[dict[str, Any]]]:
        """contact id → lead links (for ``contacts?with=leads``)."""
        with self._lock:
            if self._contact_leads is None:
                out: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
                for lead in self.view.get("leads") or []:
                    for c in ((lead.get("_embedded") or {}).get("contacts")) or []:
                        out[str(c.get("id"))].append({"id": lead.get("id")})
                self._contact_leads = dict(out)
            return self._contact_leads


# ---------------------------------------------------------------------------------------------
# The emulator state (thread-safe) and HTTP handler
# ---------------------------------------------------------------------------------------------


@dataclass
class LogEntry:
    t: float  # time.time() when the request arrived
    mono: float  # time.monotonic() when the request arrived
    token_id: str | None
    method: str
    path: str
    query: str
    status: int = 0


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
        self._raw_views: collections.OrderedDict[datetime, dict[str, Any]] = collections.OrderedDict()
        self._windows: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self._rng = random.Random(self.faults.seed)
        self._touch_seq = 0
        self._view_lock = threading.Lock()

    # -- views ------------------------------------------------------------------------------
    def current(self) -> ViewIndex:
        """The indexed view at the current clock (views cached per clock, indexes per touch state)."""
        with self.lock:
            key = (self.clock, self._touch_seq)
            idx = self._views.get(key)
            if idx is not None:
                return idx
        with self._view_lock:  # one generator run at a time; others wait for it
            with self.lock:
                idx = self._views.get(key)
                if idx is not None:
                    return idx
                clock = self.clock
                touched = {k: dict(v) for k, v in self.touched.items()}
                view = self._raw_views.get(clock)
            if view is None:
                view = self.source.view(clock)
                # Millions of long-lived dicts: a full GC pass over them pauses every thread for
                # tens of ms, which skews request timing (client and emulator share a process in
                # the demo).  Freezing moves them out of the collector's sight.
                gc.collect()
                gc.freeze()
            idx = ViewIndex(view, touched)
            idx.warm()
            with self.lock:
                self._raw_views[clock] = view
                while len(self._raw_views) > 2:
                    self._raw_views.popitem(last=False)
                self._views[key] = idx
                while len(self._views) > 2:
                    self._views.popitem(last=False)
                if not self.account_id:
                    self.account_id = int((view.get("account") or {}).get("id") or 0)
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
        idx = self.current()
        records = idx.collection(collection).records
        if not records:
            return
        with self.lock:
            count = min(count, self.faults.touch_budget - self.touches_done)
            if count <= 0:
                return
            overlay = self.touched.setdefault(collection, {})
            base = max(int(self.clock.timestamp()), max(overlay.values(), default=0))
            for i in range(count):
                rec = records[self._rng.randrange(len(records))]
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


def _problem(status: int, title: str, detail: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    body = {"title": title, "type": "https://httpstatus.es/" + str(status), "status": status, "detail": detail}
    body.update(extra or {})
    return body


BLOCK_PAGE = (
    "<!DOCTYPE html><html><head><title>403 Forbidden</title></head><body>"
    "<h1>403 Forbidden</h1><p>Access denied: your IP address has been blocked.</p></body></html>"
)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "amoCRM-emulator/1"
    timeout = 120
    state: EmulatorState  # set on the subclass made per server

    # -- plumbing ---------------------------------------------------------------------------
    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without NODELAY, Nagle + delayed ACK add ~40 ms.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        if not self.state.quiet:
            sys.stderr.write("emulator: " + (format % args) + "\n")

    def _base(self) -> str:
        host = self.headers.get("Host") or f"{self.server.server_address[0]}:{self.server.server_address[1]}"
        return f"http://{host}"

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload: Any, content_type: str = "application/hal+json") -> None:
        self._send(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), content_type)

    def _read_body(self) -> dict[str, Any] | None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        ctype = self.headers.get("Content-Type", "")
        try:
            if "application/x-www-form-urlencoded" in ctype:
                return dict(parse_qsl(raw.decode("utf-8")))
            value = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return None
        return value if isinstance(value, dict) else None

    # -- entry points -----------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        if path.startswith("/_emulator/"):
            self._control(method, path, url.query)
            return
        entry = LogEntry(time.time(), time.monotonic(), None, method, path, url.query)
        with self.state.lock:
            self.state.log.append(entry)
        try:
            entry.status = self._api(method, path, url.query, entry)
        except (BrokenPipeError, ConnectionResetError):
            entry.status = entry.status or 499
            self.close_connection = True

    # -- control endpoints ------------------------------------------------------------------
    def _control(self, method: str, path: str, query: str) -> None:
        st = self.state
        body = self._read_body() if method == "POST" else {}
        if body is None:
            self._json(400, {"error": "body must be a JSON object"}, "application/json")
            return
        if path == "/_emulator/advance" and method == "POST":
            try:
                seconds = float(body.get("seconds", 0))
            except (TypeError, ValueError):
                self._json(400, {"error": "seconds must be a number"}, "application/json")
                return
            clock = st.advance(seconds)
            self._json(200, {"clock": clock.isoformat()}, "application/json")
        elif path == "/_emulator/faults":
            if method == "POST":
                try:
                    with st.lock:
                        st.faults.update(body)
                except ValueError as exc:
                    self._json(400, {"error": str(exc)}, "application/json")
                    return
            self._json(200, st.faults.as_dict(), "application/json")
        elif path == "/_emulator/log" and method == "GET":
            since = int(dict(parse_qsl(query)).get("since", 0) or 0)
            with st.lock:
                rows = [e.__dict__ for e in st.log[since:]]
            self._json(200, {"requests": rows, "next": since + len(rows)}, "application/json")
        elif path == "/_emulator/log/clear" and method == "POST":
            with st.lock:
                st.log.clear()
            self._json(200, {"ok": True}, "application/json")
        elif path == "/_emulator/tokens" and method == "POST":
            ttl = float(body.get("ttl_s", ACCESS_TTL_S))
            if body.get("refresh"):
                client_id = str(body.get("client_id") or next(iter(st.clients), "emulator"))
                self._json(200, st.issue_pair(client_id, ttl), "application/json")
            else:
                self._json(200, {"access_token": st.issue_access(ttl)}, "application/json")
        elif path == "/_emulator/authorize" and method == "POST":
            client_id = str(body.get("client_id") or "")
            if client_id not in st.clients:
                self._json(400, {"error": f"unknown client_id {client_id!r}"}, "application/json")
                return
            self._json(200, {"code": st.authorize(client_id)}, "application/json")
        elif path == "/_emulator/state" and method == "GET":
            idx = st.current()
            counts = {k: len(idx.view.get(k) or []) for k in VIEW_KEYS}
            self._json(200, {"clock": st.clock.isoformat(), "counts": counts}, "application/json")
        else:
            self._json(404, {"error": f"no control endpoint {method} {path}"}, "application/json")

    # -- the API ----------------------------------------------------------------------------
    def _api(self, method: str, path: str, query: str, entry: LogEntry) -> int:
        st = self.state
        faults = st.faults
        if faults.block:
            self._send(403, BLOCK_PAGE.encode(), "text/html; charset=utf-8")
            return 403
        if path == "/oauth2/access_token" and method == "POST":
            return self._oauth()
        if path == "/oauth" and method == "GET":
            return self._oauth_authorize(query)
        rec, detail = st.check_token(self.headers.get("Authorization"))
        if rec is None:
            self._json(401, _problem(401, "Unauthorized", detail), "application/problem+json")
            return 401
        entry.token_id = rec.token_id
        if st.over_limit(rec.token_id, entry.mono):
            self._send(429, b"Too Many Requests", "text/plain")
            return 429
        if faults.unpaid:
            self._json(402, _problem(402, "Payment Required", "Account is not paid"), "application/problem+json")
            return 402
        with st.lock:
            st.api_requests += 1
            outage = faults.fail_after is not None and st.api_requests > faults.fail_after
        if outage or st.roll(faults.error_rate):
            status = int(faults.error_status)
            self._send(status, f"<html><body><h1>{status}</h1></body></html>".encode(), "text/html")
            return status
        if faults.slow_s > 0 and st.roll(faults.slow_rate):
            time.sleep(faults.slow_s)
        if method != "GET":
            self._json(405, _problem(405, "Method Not Allowed", f"{method} {path}"), "application/problem+json")
            return 405
        status, payload = self._resolve(path, query)
        if status == 204:
            self._send(204, b"", "")
            return 204
        ctype = "application/hal+json" if status == 200 else "application/problem+json"
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        if status == 200 and st.roll(faults.drop_rate):
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return 200
        if status == 200 and st.roll(faults.malformed_rate):
            body = body[: max(1, len(body) * 2 // 3)]
        self._send(status, body, ctype)
        return status

    def _resolve(self, path: str, query: str) -> tuple[int, Any]:
        st = self.state
        pairs = parse_qsl(query, keep_blank_values=True)
        base = self._base()
        with_ = parse_with(pairs)
        if path == "/api/v4/account":
            account = dict(st.current().view.get("account") or {})
            emb = dict(account.get("_embedded") or {})
            if "datetime_settings" not in with_:
                emb.pop("datetime_settings", None)
            if emb:
                account["_embedded"] = emb
            else:
                account.pop("_embedded", None)
            account.setdefault("_links", {"self": {"href": f"{base}/api/v4/account"}})
            return 200, account
        if path == "/api/v4/leads/pipelines":
            pipes = [
                self._with_self(p, base, "/api/v4/leads/pipelines") for p in st.current().view.get("pipelines") or []
            ]
            return 200, {
                "_total_items": len(pipes),
                "_links": {"self": {"href": f"{base}{path}"}},
                "_embedded": {"pipelines": pipes},
            }
        if path in LIST_ROUTES:
            return self._list(path, pairs, base, with_)
        head, _, tail = path.rpartition("/")
        if head in ENTITY_ROUTES and tail.isdigit():
            rec = st.current().collection(ENTITY_ROUTES[head]).by_id().get(tail)
            if rec is None:
                return 204, None
            return 200, self._shape(ENTITY_ROUTES[head], rec, base, head, with_)
        return 404, _problem(404, "Not Found", f"no API endpoint {path}")

    @staticmethod
    def _with_self(rec: dict[str, Any], base: str, path: str) -> dict[str, Any]:
        if "_links" in rec:
            return rec
        return {**rec, "_links": {"self": {"href": f"{base}{path}/{rec.get('id')}"}}}

    def _shape(self, collection: str, rec: dict[str, Any], base: str, path: str, with_: set[str]) -> dict[str, Any]:
        """A record as the API shows it for this request: ``with=`` decides what is embedded."""
        rec = self._with_self(rec, base, path)
        if collection in ("leads", "deleted_leads"):
            emb = rec.get("_embedded")
            if isinstance(emb, dict) and "contacts" in emb and "contacts" not in with_:
                rec = {**rec, "_embedded": {k: v for k, v in emb.items() if k != "contacts"}}
        elif collection == "contacts":
            emb = rec.get("_embedded") if isinstance(rec.get("_embedded"), dict) else {}
            if "leads" in with_:
                links = self.state.current().contact_leads().get(str(rec.get("id")), [])
                rec = {**rec, "_embedded": {**emb, "leads": emb.get("leads", links)}}
            elif "leads" in emb:
                rec = {**rec, "_embedded": {k: v for k, v in emb.items() if k != "leads"}}
        return rec

    def _list(self, path: str, pairs: list[tuple[str, str]], base: str, with_: set[str]) -> tuple[int, Any]:
        st = self.state
        collection, key, max_limit = LIST_ROUTES[path]
        params = dict(pairs)
        try:
            page = int(params.get("page", "1") or 1)
            limit = int(params.get("limit", str(DEFAULT_LIMIT)) or DEFAULT_LIMIT)
        except ValueError:
            return 400, _problem(
                400, "Bad Request", "page and limit must be integers", {"validation-errors": [{"path": "limit"}]}
            )
        if page < 1 or limit < 1:
            return 400, _problem(400, "Bad Request", "page and limit must be positive")
        if limit > max_limit:
            limit = DEFAULT_LIMIT  # amoCRM silently falls back to 50
        if collection == "users" and st.faults.users_forbidden:
            return 403, _problem(403, "Forbidden", "Only account administrators may list users")
        if collection == "leads" and "only_deleted" in with_:
            collection = "deleted_leads"
        if collection in ("leads", "contacts", "lead_notes", "contact_notes", "tasks") and st.faults.touch_per_request:
            st.touch("leads" if collection == "deleted_leads" else collection, st.faults.touch_per_request)
        filters = parse_filters(pairs)
        order = parse_order(pairs)
        idx = st.current().collection(collection)
        rows = idx.select(filters, order, (page - 1) * limit, limit)
        if not rows:
            return 204, None
        has_more = len(rows) > limit
        rows = rows[:limit]
        item_path = path if collection not in ("lead_notes", "contact_notes") else path
        shaped = [self._shape(collection, r, base, item_path, with_) for r in rows]
        payload: dict[str, Any] = {"_page": page}
        if collection == "users":
            total = len(idx.records)
            payload["_total_items"] = total
            payload["_page_count"] = max(1, -(-total // limit))
        payload["_links"] = page_links(base, path, pairs, page, has_more or st.faults.phantom_next)
        payload["_embedded"] = {key: shaped}
        return 200, payload

    # -- OAuth ------------------------------------------------------------------------------
    def _oauth_error(self, status: int, hint: str, detail: str) -> int:
        self._json(
            status,
            {
                "hint": hint,
                "title": "Ошибка",
                "type": "https://developers.amocrm.ru/v3/errors/OAuthProblemJson",
                "status": status,
                "detail": detail,
            },
            "application/json",
        )
        return status

    def _oauth(self) -> int:
        st = self.state
        body = self._read_body()
        if body is None:
            return self._oauth_error(400, "Body must be JSON", "Invalid request")
        client = st.clients.get(str(body.get("client_id") or ""))
        if client is None or not hmac.compare_digest(client.client_secret, str(body.get("client_secret") or "")):
            return self._oauth_error(401, "Client authentication failed", "Client authentication failed")
        if body.get("redirect_uri") and str(body["redirect_uri"]) != client.redirect_uri:
            return self._oauth_error(400, "Redirect URI mismatch", "Invalid request")
        grant = body.get("grant_type")
        now = time.time()
        if grant == "authorization_code":
            with st.lock:
                found = st.codes.pop(str(body.get("code") or ""), None)
            if found is None or found[0] != client.client_id or found[1] < now:
                return self._oauth_error(400, "Authorization code has expired or was used", "Invalid grant")
        elif grant == "refresh_token":
            token = str(body.get("refresh_token") or "")
            with st.lock:
                rec = st.refresh_tokens.get(token)
                if rec is None or rec.client_id != client.client_id:
                    return self._oauth_error(400, "Token has been revoked", "Invalid grant")
                if rec.used:
                    return self._oauth_error(400, "Token has been revoked", "Invalid grant")
                if rec.expires_at < now:
                    return self._oauth_error(400, "Token has expired", "Invalid grant")
                rec.used = True  # rotation: the old refresh token dies now
        else:
            return self._oauth_error(400, "Unsupported grant type", "Invalid request")
        self._json(200, st.issue_pair(client.client_id, st.access_ttl_s), "application/json")
        return 200

    def _oauth_authorize(self, query: str) -> int:
        """``GET /oauth?client_id=…&state=…``: the user "allows" at once; redirect with a code."""
        params = dict(parse_qsl(query))
        client = self.state.clients.get(params.get("client_id", ""))
        if client is None:
            return self._oauth_error(400, "Unknown client_id", "Invalid request")
        code = self.state.authorize(client.client_id)
        location = f"{client.redirect_uri}?{urlencode({'code': code, 'state': params.get('state', ''), 'referer': self._base()})}"
        self._send(302, b"", "text/plain", {"Location": location})
        return 302


# ---------------------------------------------------------------------------------------------
# Start / stop
# ---------------------------------------------------------------------------------------------


class EmulatorHandle:
    """A running emulator: its URL, its state, and the knobs tests turn."""

    def __init__(self, server: ThreadingHTTPServer, state: EmulatorState, thread: threading.Thread, token: str) -> None:
        self.server = server
        self.state = state
        self.thread = thread
        self.token = token
        host, port = server.server_address[:2]
        self.url = f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> EmulatorHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def advance(self, seconds: float) -> datetime:
        return self.state.advance(seconds)

    def set_faults(self, **values: Any) -> None:
        with self.state.lock:
            self.state.faults.update(values)

    def clear_faults(self) -> None:
        with self.state.lock:
            self.state.faults = Faults(seed=self.state.faults.seed)
            self.state.touches_done = 0

    def request_log(self) -> list[LogEntry]:
        with self.state.lock:
            return list(self.state.log)

    def clear_log(self) -> None:
        with self.state.lock:
            self.state.log.clear()

    def issue_token(self, ttl_s: float = ACCESS_TTL_S) -> str:
        return self.state.issue_access(ttl_s)

    def add_client(self, client_id: str, client_secret: str, redirect_uri: str) -> None:
        with self.state.lock:
            self.state.clients[client_id] = OAuthClient(client_id, client_secret, redirect_uri)

    def authorize(self, client_id: str) -> str:
        return self.state.authorize(client_id)

    def records(self, collection: str) -> list[dict[str, Any]]:
        """What the emulator now serves for a collection (touches applied), for comparisons."""
        return list(self.state.current().collection(collection).records)

    def view(self) -> dict[str, Any]:
        return self.state.current().view


def start_emulator(
    source: Any,
    *,
    port: int = 0,
    token: str | None = None,
    rate_limit_per_s: float = 7.0,
    clock: datetime | None = None,
    faults: dict[str, Any] | None = None,
    quiet: bool = True,
) -> EmulatorHandle:
    """Serve ``source`` on 127.0.0.1 in a background thread; ``token`` (or a generated one) is valid.

    ``source`` is a view dict, an account with ``as_of()`` (the synthetic one), or an AccountSource.
    """
    state = EmulatorState(as_source(source, clock), rate_limit_per_s=rate_limit_per_s, quiet=quiet)
    if faults:
        state.faults.update(faults)
    state.current()  # build the first view now, so the first request is not slow
    if token is None:
        token = state.issue_access(STATIC_TOKEN_TTL_S)
    else:
        state.add_static_token(token)
    handler = type("BoundHandler", (Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    server.block_on_close = False
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="amocrm-emulator", daemon=True
    )
    thread.start()
    return EmulatorHandle(server, state, thread, token)


# ---------------------------------------------------------------------------------------------
# Demo account and command line
# ---------------------------------------------------------------------------------------------

DEFAULT_DEMO = {"seed": 1, "deals_per_year": 100_000, "years": 1.0, "end": None}


def demo_params(raw_dir: Path | None) -> dict[str, Any]:
    """The demo account's generator parameters: from the raw export's export.json, else defaults."""
    params = dict(DEFAULT_DEMO)
    if raw_dir is not None:
        try:
            export = json.loads((Path(raw_dir) / "export.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            export = {}
        demo = export.get("demo") if isinstance(export, dict) else None
        if isinstance(demo, dict):
            params.update({k: demo[k] for k in DEFAULT_DEMO if k in demo})
    if isinstance(params.get("end"), str):
        params["end"] = datetime.fromisoformat(params["end"].replace("Z", "+00:00")).astimezone(UTC)
    return params


def demo_account(params: dict[str, Any]) -> Any:
    """Generate the synthetic account (imported here: the generator is heavy and optional)."""
    from etl.simulated.synth import generate_account

    return generate_account(
        seed=int(params["seed"]),
        deals_per_year=int(params["deals_per_year"]),
        years=float(params["years"]),
        end=params.get("end"),
    )


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m etl emulator", description="Serve an amoCRM account as API v4 on 127.0.0.1."
    )
    src = parser.add_mutually_exclusive_group()
    src.add_argument("--raw", help="serve this raw export folder")
    src.add_argument("--demo", action="store_true", help="serve the synthetic demo account (default)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--token", help="a static long-lived token to accept (default: one is generated and printed)")
    parser.add_argument("--data-dir", help="data folder whose raw/export.json names the demo account's parameters")
    parser.add_argument("--seed", type=int, help="demo: generator seed")
    parser.add_argument("--deals-per-year", type=int, help="demo: deals per year")
    parser.add_argument("--years", type=float, help="demo: years of history")
    parser.add_argument("--clock", help="start the clock at this ISO time (demo default: the account's end)")
    parser.add_argument(
        "--advance-every", type=float, default=0, metavar="S", help="advance the clock by --advance-by every S seconds"
    )
    parser.add_argument("--advance-by", type=float, default=3600, metavar="S", help="seconds per automatic advance")
    parser.add_argument("--rate-limit", type=float, default=7.0, help="requests per second per token (default 7)")
    parser.add_argument("--client-id", help="OAuth: accept this integration (with --client-secret, --redirect-uri)")
    parser.add_argument("--client-secret")
    parser.add_argument("--redirect-uri", default="https://example.com/oauth")
    parser.add_argument("--faults", help='fault switches as JSON, e.g. \'{"phantom_next": true, "error_rate": 0.05}\'')
    parser.add_argument("--verbose", action="store_true", help="log every request on stderr")
    args = parser.parse_args(argv)

    from etl.config import data_dir

    try:
        faults = json.loads(args.faults) if args.faults else None
        if faults is not None and not isinstance(faults, dict):
            raise ValueError("--faults must be a JSON object")
        clock = _parse_time(args.clock) if args.clock else None
        if args.raw:
            source: Any = StaticSource(load_raw_view(Path(args.raw)), clock)
            what = f"raw export {args.raw}"
        else:
            params = demo_params(data_dir(args.data_dir) / "raw")
            for key, value in (("seed", args.seed), ("deals_per_year", args.deals_per_year), ("years", args.years)):
                if value is not None:
                    params[key] = value
            print(f"generating the demo account ({params['deals_per_year']} deals/year, seed {params['seed']}) …")
            source = AsOfSource(demo_account(params), clock)
            what = "the synthetic demo account"
        handle = start_emulator(
            source,
            port=args.port,
            token=args.token,
            rate_limit_per_s=args.rate_limit,
            faults=faults,
            quiet=not args.verbose,
        )
    except (ValueError, OSError, TypeError) as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        return 2
    if args.client_id:
        handle.add_client(args.client_id, args.client_secret or "", args.redirect_uri)
    print(f"amoCRM emulator serving {what} at {handle.url} (clock {handle.state.clock.isoformat()})")
    print(f"  export AMOCRM_BASE_URL={handle.url}")
    if not args.token:
        print(f"  export AMOCRM_ACCESS_TOKEN={handle.token}   # generated for this emulator run only")
    print("  Ctrl+C stops it.", flush=True)
    try:
        while True:
            if args.advance_every > 0:
                time.sleep(args.advance_every)
                handle.advance(args.advance_by)
            else:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        handle.stop()
    return 0


def sliding_window_max(times: Iterable[float], window_s: float = 1.0) -> int:
    """The most requests in any ``window_s`` window (half-open), for checking a client's pacing."""
    ts = sorted(times)
    best = 0
    lo = 0
    for hi, t in enumerate(ts):
        while t - ts[lo] >= window_s:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def iter_log_times(entries: Iterable[LogEntry], token_id: str | None = None) -> Iterator[float]:
    for e in entries:
        if token_id is None or e.token_id == token_id:
            yield e.mono
