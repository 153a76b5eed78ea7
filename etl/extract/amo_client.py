"""HTTP client for amoCRM API v4: pacing, retries, token refresh, paging, failure classification.

Why each part exists (``AMOCRM.md``): amoCRM allows 7 requests/s and blocks IPs that lean on 429s,
so the client paces itself (:mod:`etl.extract.pacer`); 5xx, timeouts and dropped connections
happen, so requests are retried with exponential backoff + jitter within a bounded budget; OAuth
refresh tokens rotate, so a 401 refreshes the pair once (:mod:`etl.extract.tokens`); paging has
several end signals and a phantom ``next``, so every one is honoured.

The errors, tokens and pacer live in their own modules; their names are re-exported here, where
the rest of the code has always imported them from.
"""

from __future__ import annotations

import contextlib
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from etl.extract.errors import ERROR_KINDS, AmoError, Cancelled
from etl.extract.pacer import Pacer
from etl.extract.tokens import (
    OAuthSettings,
    OAuthTokens,
    StaticToken,
    exchange_code,
    jwt_exp,
    oauth_request,
    oauth_settings_from_env,
    read_token_file,
    tokens_from_env,
    write_token_file,
)

__all__ = [
    "ERROR_KINDS",
    "AmoClient",
    "AmoError",
    "Cancelled",
    "ClientStats",
    "OAuthSettings",
    "OAuthTokens",
    "Pacer",
    "StaticToken",
    "exchange_code",
    "jwt_exp",
    "lenient_int",
    "oauth_request",
    "oauth_settings_from_env",
    "read_token_file",
    "tokens_from_env",
    "write_token_file",
]


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
        while True:
            if self.cancel.is_set():
                raise Cancelled()
            self.pacer.wait()
            token = self.tokens.current()
            self.stats.requests += 1
            if self.on_request:
                self.on_request()
            try:
                try:
                    resp = self.session.get(
                        url, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=self.timeout_s
                    )
                finally:
                    self.pacer.done()
                outcome = self._read(resp, url)
            except requests.Timeout:
                outcome = _Retry("network", "нет ответа за отведённое время (таймаут) / timeout")
            except requests.RequestException as exc:
                outcome = _Retry("network", f"соединение оборвано ({type(exc).__name__}) / connection error")
            if outcome is _REFRESH:
                if refreshed:
                    raise AmoError("auth", "токен истёк: amoCRM отвечает 401 и после обновления / 401 after refresh")
                self.tokens.refresh(self.session, self.base_url, token)
                self.stats.refreshed += 1
                refreshed = True
                continue  # the refresh itself is not a retry of a failure
            if not isinstance(outcome, _Retry):
                return outcome
            attempt += 1
            self.stats.retries += 1
            if attempt > self.max_retries or self.stats.retries > self.retry_budget:
                raise _gave_up(outcome, url)
            self.pacer.sleep(self._backoff(attempt - 1, outcome.retry_after))

    def _read(self, resp: requests.Response, url: str) -> dict[str, Any] | None | _Retry | object:
        """What one answer means: the body (None for 204), :data:`_REFRESH`, a :class:`_Retry`, or raise."""
        status = resp.status_code
        declared = resp.headers.get("Content-Length")
        encoded = resp.headers.get("Content-Encoding", "identity") != "identity"
        if declared and declared.isdigit() and not encoded and int(declared) != len(resp.content):
            raise requests.exceptions.ChunkedEncodingError("connection closed mid-body")
        if status == 200:
            try:
                body = resp.json()
            except ValueError:
                return _Retry("data", "битый JSON в ответе / malformed JSON")
            if isinstance(body, dict):
                return body
            return _Retry("data", "ответ не JSON-объект / the answer is not a JSON object")
        if status == 204:
            return None
        if status == 401:
            return _REFRESH
        if status == 429:
            self.stats.status_429 += 1
            self.pacer.slow_down()
            return _Retry("rate_limit", "слишком много запросов (429) / rate limited", resp.headers.get("Retry-After"))
        if status >= 500:
            return _Retry("network", f"ошибка сервера amoCRM ({status}) / server error")
        raise _refused(resp, url)

    def iter_offset_pages(
        self, path: str, params: list[tuple[str, Any]], embedded_key: str, limit: int, first_page: int = 1
    ) -> Iterator[list[dict[str, Any]]]:
        """Walk ``page=1,2,…``; stop on 204, empty ``_embedded``, a short page, or no ``next`` link."""
        page = first_page
        while True:
            body, rows = self._page(path, [*params, ("limit", limit), ("page", page)], embedded_key)
            if not rows:
                return
            yield rows
            if _last_page(body, rows, limit):
                return
            page += 1

    def _page(
        self, path: str, query: list[tuple[str, Any]], embedded_key: str
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """One page: the body (empty on 204) and its ``_embedded`` rows."""
        body = self.get(path, query) or {}
        return body, (body.get("_embedded") or {}).get(embedded_key) or []

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
            body, rows = self._page(path, query, embedded_key)
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
        yield from self.iter_offset_pages(path, base, key, limit, first_page=page)


@dataclass(frozen=True)
class _Retry:
    """A failure worth retrying: its kind (network, rate_limit, data) and what to say if we give up."""

    kind: str
    problem: str
    retry_after: str | None = None


#: A 401: refresh the token once and ask again.
_REFRESH = object()


def _refused(resp: requests.Response, url: str) -> AmoError:
    """The error for an answer that no retry can mend (402, 403, other 4xx)."""
    status = resp.status_code
    if status == 402:
        return AmoError("unpaid", "аккаунт не оплачен (402) / the amoCRM account is not paid")
    if status == 403 and "html" in resp.headers.get("Content-Type", "").lower():
        return AmoError("blocked", "IP заблокирован amoCRM (HTML 403) / the IP address is blocked by amoCRM")
    if status == 403:
        return AmoError("auth", f"нет прав на {_path(url)} (403) / no rights", 403)
    detail = ""
    with contextlib.suppress(ValueError, AttributeError):
        detail = str(resp.json().get("detail") or "")
    return AmoError("data", f"amoCRM отверг запрос {_path(url)}: {status} {detail} / request refused")


def _gave_up(last: _Retry, url: str) -> AmoError:
    """The error once retries are spent, by the kind of the last failure."""
    if last.kind == "network":
        return AmoError("network", f"amoCRM недоступен (сеть): {last.problem}, {_path(url)}")
    if last.kind == "rate_limit":
        return AmoError("rate_limit", f"amoCRM ограничивает запросы (429): {_path(url)} / rate limited")
    return AmoError("data", f"amoCRM вернул испорченные данные: {last.problem}, {_path(url)}")


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
    return urlsplit(url).path or url
