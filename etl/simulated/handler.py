"""The HTTP side of the emulator: a request handler that logs, authenticates, rate-limits, misbehaves.

Order of checks on an API request, as amoCRM's: an IP block (403 HTML page) first, then OAuth
endpoints, the bearer token (401), the 7 requests/s per token window (429), an unpaid account
(402), then the fault switches (errors, outage, slowness); a 200 body may be cut (dropped
connection) or truncated (malformed JSON) on purpose.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from etl.simulated.control import control
from etl.simulated.request_log import LogEntry
from etl.simulated.routes import problem, resolve
from etl.simulated.state import EmulatorState

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
        for name, value in (headers or {}).items():
            self.send_header(name, value)
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

    def _control(self, method: str, path: str, query: str) -> None:
        body = self._read_body() if method == "POST" else {}
        status, payload = control(self.state, method, path, query, body)
        self._json(status, payload, "application/json")

    # -- the API ----------------------------------------------------------------------------
    def _api(self, method: str, path: str, query: str, entry: LogEntry) -> int:
        """Answer one API request; the status is logged (the order of checks is amoCRM's)."""
        st = self.state
        if st.faults.block:
            self._send(403, BLOCK_PAGE.encode(), "text/html; charset=utf-8")
            return 403
        if path == "/oauth2/access_token" and method == "POST":
            return self._oauth()
        if path == "/oauth" and method == "GET":
            return self._oauth_authorize(query)
        rec, detail = st.check_token(self.headers.get("Authorization"))
        if rec is None:
            self._json(401, problem(401, "Unauthorized", detail), "application/problem+json")
            return 401
        entry.token_id = rec.token_id
        if st.over_limit(rec.token_id, entry.mono):
            self._send(429, b"Too Many Requests", "text/plain")
            return 429
        if st.faults.unpaid:
            self._json(402, problem(402, "Payment Required", "Account is not paid"), "application/problem+json")
            return 402
        failed = self._injected_failure()
        if failed:
            return failed
        if method != "GET":
            self._json(405, problem(405, "Method Not Allowed", f"{method} {path}"), "application/problem+json")
            return 405
        return self._answer(path, query)

    def _injected_failure(self) -> int | None:
        """An outage or a random error (HTML body) if the faults say so, else None; maybe a delay first."""
        st, faults = self.state, self.state.faults
        with st.lock:
            st.api_requests += 1
            outage = faults.fail_after is not None and st.api_requests > faults.fail_after
        if outage or st.roll(faults.error_rate):
            status = int(faults.error_status)
            self._send(status, f"<html><body><h1>{status}</h1></body></html>".encode(), "text/html")
            return status
        if faults.slow_s > 0 and st.roll(faults.slow_rate):
            time.sleep(faults.slow_s)
        return None

    def _answer(self, path: str, query: str) -> int:
        """Send the endpoint's answer, cut half-way (dropped) or truncated (malformed) if the faults say so."""
        st, faults = self.state, self.state.faults
        status, payload = resolve(st, path, query, self._base())
        if status == 204:
            self._send(204, b"", "")
            return 204
        ctype = "application/hal+json" if status == 200 else "application/problem+json"
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        if status == 200 and st.roll(faults.drop_rate):
            self._send_half(body, ctype)
            return 200
        if status == 200 and st.roll(faults.malformed_rate):
            body = body[: max(1, len(body) * 2 // 3)]
        self._send(status, body, ctype)
        return status

    def _send_half(self, body: bytes, content_type: str) -> None:
        """Headers announcing the whole body, half of it, then the connection closes."""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

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
