"""HTTP client for amoCRM API v4: pacing, retries, token refresh, paging, failure classification.

Why each part exists (``AMOCRM.md``): amoCRM allows 7 requests/s and blocks IPs that lean on 429s,
so the client paces itself with a fixed interval slightly above 1/rate; 5xx, timeouts and dropped
connections happen, so requests are retried with exponential backoff + jitter within a bounded
budget; OAuth refresh tokens rotate, so a new pair is written to the token file (atomically, 0600)
*before* it is used; paging has several end signals and a phantom ``next``, so every one is honoured.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import json
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

#: Error kinds the refresh UI shows (issue 6 contract).
ERROR_KINDS = ("auth", "blocked", "unpaid", "network", "rate_limit", "data", "internal")


class AmoError(Exception):
    """A pull failed; ``kind`` is one of :data:`ERROR_KINDS`, ``message`` is Russian + English."""

    def __init__(self, kind: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status  # the HTTP status behind it, when there was one


class Cancelled(Exception):
    """The pull was asked to stop (SIGTERM / cancel button)."""


# ---------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------


def jwt_exp(token: str) -> float | None:
    """The ``exp`` claim of a JWT-shaped token (no signature check), or None."""
    import base64

    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        return float(payload["exp"])
    except (ValueError, KeyError, TypeError):
        return None


class StaticToken:
    """A long-lived token of a private integration: no refresh possible."""

    def __init__(self, token: str) -> None:
        self._token = token

    def current(self) -> str:
        return self._token

    def refresh(self, session: requests.Session, base_url: str, failed: str) -> str:
        exp = jwt_exp(self._token)
        if exp is not None and exp <= time.time():
            raise AmoError("auth", "токен истёк: выпустите новый долгосрочный токен / the long-lived token has expired")
        raise AmoError("auth", "токен отклонён amoCRM (401) / the access token was rejected (401)")


@dataclass(frozen=True)
class OAuthSettings:
    client_id: str
    client_secret: str
    redirect_uri: str
    token_file: Path


def write_token_file(path: Path, pair: dict[str, Any]) -> None:
    """Write the token pair atomically with mode 0600 (tmp + fsync + os.replace)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(pair, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def read_token_file(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise AmoError("auth", f"нет файла токенов {path} / token file not found") from exc
    except (OSError, ValueError) as exc:
        raise AmoError("auth", f"файл токенов {path} не читается / token file unreadable") from exc
    if not isinstance(value, dict) or not value.get("access_token"):
        raise AmoError("auth", f"в файле токенов {path} нет access_token / token file has no access_token")
    return value


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock next to the token file: two processes must not refresh at once."""
    lock_path = Path(path).with_name(Path(path).name + ".lock")
    fd = os.open(lock_path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def oauth_request(
    session: requests.Session, base_url: str, settings: OAuthSettings, grant: dict[str, str], timeout: float
) -> dict[str, Any]:
    """POST /oauth2/access_token; the answer's pair, or AmoError('auth'|'blocked'|'network')."""
    body = {
        "client_id": settings.client_id,
        "client_secret": settings.client_secret,
        "redirect_uri": settings.redirect_uri,
        **grant,
    }
    try:
        resp = session.post(f"{base_url}/oauth2/access_token", json=body, timeout=timeout)
    except requests.RequestException as exc:
        raise AmoError("network", f"amoCRM недоступен (сеть): {type(exc).__name__} / amoCRM unreachable") from exc
    if resp.status_code == 403 and "html" in resp.headers.get("Content-Type", ""):
        raise AmoError("blocked", "IP заблокирован amoCRM (HTML 403) / the IP address is blocked by amoCRM")
    if resp.status_code != 200:
        hint = ""
        with contextlib.suppress(ValueError, AttributeError):
            hint = str(resp.json().get("hint") or "")
        raise AmoError(
            "auth",
            f"токен истёк или отозван: обновление не удалось ({resp.status_code} {hint}) / token refresh refused",
        )
    try:
        pair = resp.json()
        if not pair.get("access_token") or not pair.get("refresh_token"):
            raise ValueError
    except (ValueError, AttributeError) as exc:
        raise AmoError("auth", "ответ OAuth без токенов / OAuth answer has no tokens") from exc
    pair = {k: pair[k] for k in ("token_type", "expires_in", "access_token", "refresh_token") if k in pair}
    pair["obtained_at"] = int(time.time())
    return pair


class OAuthTokens:
    """The rotating OAuth pair kept in ``token_file``; refreshed once per 401 under a file lock."""

    def __init__(self, settings: OAuthSettings, timeout_s: float = 30.0) -> None:
        self.settings = settings
        self.timeout_s = timeout_s
        self._pair = read_token_file(settings.token_file)

    def current(self) -> str:
        return str(self._pair["access_token"])

    def refresh(self, session: requests.Session, base_url: str, failed: str) -> str:
        with _file_lock(self.settings.token_file):
            on_disk = read_token_file(self.settings.token_file)
            if on_disk.get("access_token") != failed:  # another process refreshed already: use theirs
                self._pair = on_disk
                return self.current()
            refresh_token = str(on_disk.get("refresh_token") or "")
            if not refresh_token:
                raise AmoError("auth", "токен истёк, refresh_token нет / access token expired and no refresh token")
            pair = oauth_request(
                session,
                base_url,
                self.settings,
                {"grant_type": "refresh_token", "refresh_token": refresh_token},
                self.timeout_s,
            )
            write_token_file(self.settings.token_file, pair)  # persist BEFORE use: the old one is dead now
            self._pair = pair
        return self.current()


def exchange_code(
    session: requests.Session, base_url: str, settings: OAuthSettings, code: str, timeout: float = 30
) -> None:
    """First authorisation: trade an authorization code for a pair and store it."""
    pair = oauth_request(session, base_url, settings, {"grant_type": "authorization_code", "code": code}, timeout)
    write_token_file(settings.token_file, pair)


# ---------------------------------------------------------------------------------------------
# Pacing
# ---------------------------------------------------------------------------------------------


class Pacer:
    """At most ``n = floor(rate)`` requests per window, the window anchored at *answers*.

    Request ``k + n`` may start only ``window`` seconds after request ``k``'s answer arrived.  The
    server counts a request at some moment between its start and its answer, so any ``n + 1``
    consecutive requests are counted at least ``window`` (> 1 s) apart, however late the server
    saw them: no jitter on the way can put 8 requests into one second at 7/s.  The window is
    ``n / rate × (1 + margin)``; requests are also kept at least half the average spacing apart
    (no bursts).  The sustained rate is about ``n / (window + latency)``.
    """

    def __init__(self, rate_per_s: float, margin: float = 0.01, cancel: threading.Event | None = None) -> None:
        self.n = max(1, int(rate_per_s))
        self.window_s = self.n / rate_per_s * (1.0 + margin) + 0.001
        self._ceiling = self.window_s * 1.3
        self.cancel = cancel or threading.Event()
        self._ends: collections.deque[float] = collections.deque(maxlen=self.n)
        self._last_start: float | None = None
        self._lock = threading.Lock()

    @property
    def interval(self) -> float:
        """The average spacing between starts (seconds), answers taking no time."""
        return self.window_s / self.n

    def wait(self) -> None:
        """Block until the next request may start (call :meth:`done` when its answer is in)."""
        with self._lock:
            now = time.monotonic()
            due = now
            if self._last_start is not None:
                due = max(due, self._last_start + self.interval / 2)
            if len(self._ends) == self.n:
                due = max(due, self._ends[0] + self.window_s)
            if due > now and self.cancel.wait(due - now):
                raise Cancelled()
            if self.cancel.is_set():
                raise Cancelled()
            self._last_start = time.monotonic()

    def done(self) -> None:
        """The answer (or the failure) of the request started last has arrived."""
        with self._lock:
            self._ends.append(time.monotonic())

    def slow_down(self) -> None:
        """A 429 means the server counts differently than we think: widen the window by 5 %."""
        self.window_s = min(self.window_s * 1.05, self._ceiling)

    def sleep(self, seconds: float) -> None:
        if seconds > 0 and self.cancel.wait(seconds):
            raise Cancelled()


# ---------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------


@dataclass
class ClientStats:
    requests: int = 0
    retries: int = 0
    status_429: int = 0
    refreshed: int = 0


class AmoClient:
    """GET JSON from amoCRM API v4 politely; raise :class:`AmoError` saying what failed."""

    def __init__(
        self,
        base_url: str,
        tokens: StaticToken | OAuthTokens,
        *,
        rate_limit_per_s: float = 7.0,
        timeout_s: float = 30.0,
        max_retries: int = 6,
        retry_budget: int | None = None,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 30.0,
        cancel: threading.Event | None = None,
        on_request: Callable[[], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.retry_budget = retry_budget if retry_budget is not None else max(20, max_retries * 10)
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.cancel = cancel or threading.Event()
        self.pacer = Pacer(rate_limit_per_s, cancel=self.cancel)
        self.on_request = on_request
        self.stats = ClientStats()
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": "amocrm-report-etl/1", "Accept": "application/hal+json"})
        self._rng = random.Random()

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> AmoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _backoff(self, attempt: int, retry_after: str | None = None) -> float:
        if retry_after:
            with contextlib.suppress(ValueError):
                return min(self.backoff_cap_s, max(0.0, float(retry_after)))
        base = min(self.backoff_cap_s, self.backoff_base_s * (2**attempt))
        return base / 2 + self._rng.random() * base / 2  # "equal jitter"

    def get(
        self, path_or_url: str, params: dict[str, Any] | list[tuple[str, Any]] | None = None
    ) -> dict[str, Any] | None:
        """One GET with pacing and retries; the JSON body, or None for 204 No Content."""
        url = path_or_url if path_or_url.startswith("http") else f"{self.base_url}{path_or_url}"
        attempt = 0
        refreshed = False
        last_problem = ""
        while True:
            if self.cancel.is_set():
                raise Cancelled()
            self.pacer.wait()
            token = self.tokens.current()
            self.stats.requests += 1
            if self.on_request:
                self.on_request()
            retry_after = None
            kind = "network"
            try:
                try:
                    resp = self.session.get(
                        url, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=self.timeout_s
                    )
                finally:
                    self.pacer.done()
                status = resp.status_code
                ctype = resp.headers.get("Content-Type", "")
                declared = resp.headers.get("Content-Length")
                encoded = resp.headers.get("Content-Encoding", "identity") != "identity"
                if declared and declared.isdigit() and not encoded and int(declared) != len(resp.content):
                    raise requests.exceptions.ChunkedEncodingError("connection closed mid-body")
                if status == 200:
                    try:
                        body = resp.json()
                    except ValueError:
                        last_problem = "битый JSON в ответе / malformed JSON"
                        kind = "data"
                    else:
                        if isinstance(body, dict):
                            return body
                        last_problem = "ответ не JSON-объект / the answer is not a JSON object"
                        kind = "data"
                elif status == 204:
                    return None
                elif status == 401:
                    if refreshed:
                        raise AmoError(
                            "auth", "токен истёк: amoCRM отвечает 401 и после обновления / 401 after refresh"
                        )
                    self.tokens.refresh(self.session, self.base_url, token)
                    self.stats.refreshed += 1
                    refreshed = True
                    continue  # the refresh itself is not a retry of a failure
                elif status == 402:
                    raise AmoError("unpaid", "аккаунт не оплачен (402) / the amoCRM account is not paid")
                elif status == 403 and "html" in ctype.lower():
                    raise AmoError("blocked", "IP заблокирован amoCRM (HTML 403) / the IP address is blocked by amoCRM")
                elif status == 403:
                    raise AmoError("auth", f"нет прав на {_path(url)} (403) / no rights", 403)
                elif status == 429:
                    self.stats.status_429 += 1
                    self.pacer.slow_down()
                    retry_after = resp.headers.get("Retry-After")
                    last_problem = "слишком много запросов (429) / rate limited"
                    kind = "rate_limit"
                elif status >= 500:
                    last_problem = f"ошибка сервера amoCRM ({status}) / server error"
                    kind = "network"
                else:
                    detail = ""
                    with contextlib.suppress(ValueError, AttributeError):
                        detail = str(resp.json().get("detail") or "")
                    raise AmoError("data", f"amoCRM отверг запрос {_path(url)}: {status} {detail} / request refused")
            except requests.Timeout:
                last_problem = "нет ответа за отведённое время (таймаут) / timeout"
                kind = "network"
            except requests.RequestException as exc:
                last_problem = f"соединение оборвано ({type(exc).__name__}) / connection error"
                kind = "network"
            attempt += 1
            self.stats.retries += 1
            if attempt > self.max_retries or self.stats.retries > self.retry_budget:
                if kind == "network":
                    raise AmoError("network", f"amoCRM недоступен (сеть): {last_problem}, {_path(url)}")
                if kind == "rate_limit":
                    raise AmoError("rate_limit", f"amoCRM ограничивает запросы (429): {_path(url)} / rate limited")
                raise AmoError("data", f"amoCRM вернул испорченные данные: {last_problem}, {_path(url)}")
            self.pacer.sleep(self._backoff(attempt - 1, retry_after))

    def iter_offset_pages(
        self, path: str, params: list[tuple[str, Any]], embedded_key: str, limit: int
    ) -> Iterator[list[dict[str, Any]]]:
        """Walk ``page=1,2,…``; stop on 204, empty ``_embedded``, a short page, or no ``next`` link."""
        page = 1
        while True:
            body = self.get(path, [*params, ("limit", limit), ("page", page)])
            if body is None:
                return
            rows = (body.get("_embedded") or {}).get(embedded_key) or []
            if not rows:
                return
            yield rows
            if _last_page(body, rows, limit):
                return
            page += 1

    def iter_keyset_pages(
        self, path: str, params: list[tuple[str, Any]], embedded_key: str, limit: int, field: str, start: int | None
    ) -> Iterator[list[dict[str, Any]]]:
        """Walk by ``filter[field][from]`` restarting at the last value seen, ordered ascending.

        Offsets over live data skip records that move while we page (``AMOCRM.md``); restarting
        from the last ``updated_at`` never does: updated records only move *ahead* of us.  Ties at
        the page boundary are re-read (dedupe by id); a page made of one value steps ``page``.
        """
        cursor = start
        page = 1
        while True:
            query = list(params)
            if cursor is not None:
                query.append((f"filter[{field}][from]", cursor))
            query += [(f"order[{field}]", "asc"), ("limit", limit), ("page", page)]
            body = self.get(path, query)
            if body is None:
                return
            rows = (body.get("_embedded") or {}).get(embedded_key) or []
            if not rows:
                return
            yield rows
            if _last_page(body, rows, limit):
                return
            values = [lenient_int(r.get(field)) for r in rows]
            if any(v is None for v in values) or values != sorted(values):
                # The server ignored the order: fall back to plain offsets for the rest of the walk.
                yield from self._continue_offsets(query, page + 1, path, embedded_key, limit)
                return
            last = values[-1]
            if cursor is not None and last == cursor:
                page += 1  # a whole page inside one second: step through it
            else:
                cursor, page = last, 1

    def _continue_offsets(
        self, query: list[tuple[str, Any]], page: int, path: str, key: str, limit: int
    ) -> Iterator[list[dict[str, Any]]]:
        base = [(k, v) for k, v in query if k not in ("page", "limit")]
        while True:
            body = self.get(path, [*base, ("limit", limit), ("page", page)])
            rows = ((body or {}).get("_embedded") or {}).get(key) or []
            if not rows:
                return
            yield rows
            if len(rows) < limit or not (((body or {}).get("_links") or {}).get("next") or {}).get("href"):
                return
            page += 1


def _last_page(body: dict[str, Any], rows: list[dict[str, Any]], limit: int) -> bool:
    """A page shorter than ``limit`` or without a ``next`` link ends the walk (AMOCRM.md)."""
    return len(rows) < limit or not ((body.get("_links") or {}).get("next") or {}).get("href")


def lenient_int(value: Any) -> int | None:
    """An integer from 12, "12" or 12.0 (PHP sends numbers as strings); None otherwise."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _path(url: str) -> str:
    """The path of a URL, for messages (never the query: it could carry anything)."""
    from urllib.parse import urlsplit

    return urlsplit(url).path or url


def tokens_from_env(amocrm: Any, environ: dict[str, str] | None = None) -> StaticToken | OAuthTokens:
    """Credentials from the environment only (names from config): a long-lived token or OAuth."""
    environ = dict(os.environ if environ is None else environ)
    token = environ.get(amocrm.env_name("access_token"), "").strip()
    if token:
        return StaticToken(token)
    names = {k: amocrm.env_name(k) for k in ("client_id", "client_secret", "redirect_uri", "token_file")}
    values = {k: environ.get(v, "").strip() for k, v in names.items()}
    missing = [names[k] for k, v in values.items() if not v]
    if missing:
        raise AmoError(
            "auth",
            f"нет учётных данных amoCRM: задайте {amocrm.env_name('access_token')} "
            f"или {', '.join(names.values())} / no credentials (missing {', '.join(missing)})",
        )
    settings = OAuthSettings(
        values["client_id"], values["client_secret"], values["redirect_uri"], Path(values["token_file"])
    )
    return OAuthTokens(settings, timeout_s=float(amocrm.timeout_s))


def oauth_settings_from_env(amocrm: Any, environ: dict[str, str] | None = None) -> OAuthSettings | None:
    environ = dict(os.environ if environ is None else environ)
    vals = [
        environ.get(amocrm.env_name(k), "").strip()
        for k in ("client_id", "client_secret", "redirect_uri", "token_file")
    ]
    if not all(vals):
        return None
    return OAuthSettings(vals[0], vals[1], vals[2], Path(vals[3]))
