"""Cross-site safety of the Flask server: cookie flags, CSRF and Origin checks, security headers,
and a clean 4xx for forged Dash callback payloads (issue 13).

Choices the spec leaves open, recorded here:

* **Who counts as same-site.** A state-changing request (any POST) carrying an ``Origin`` header
  that is not this host is refused outright.  A browser sends ``Origin`` on every cross-site POST,
  so a form on evil.example posting to ``/admin/refresh`` is stopped whatever cookie or cached
  basic-auth credentials ride along.  Schedulers (curl) send no ``Origin``: they authenticate with
  basic auth and need no token.
* **CSRF token.** Requests authenticated by the session cookie (the admin's browser) must also
  carry the per-session token (form field ``csrf`` or header ``X-CSRF-Token``), compared in
  constant time.  Dash callbacks cannot carry it, so ``/_dash-update-component`` counts as
  same-origin only with an ``Origin`` (or, failing that, ``Referer``) equal to the host.
* **Secure cookie** when ``REPORT_COOKIE_SECURE=1`` or the request came over HTTPS (as ProxyFix
  reports it behind a proxy), decided per request.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import flask
from flask import Response, jsonify, request, session
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

log = logging.getLogger(__name__)

S_CSRF = "csrf"
CSRF_HEADER = "X-CSRF-Token"
DASH_UPDATE = "/_dash-update-component"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ENV_FRAME_ANCESTORS = "REPORT_FRAME_ANCESTORS"
ENV_TRUSTED_PROXIES = "REPORT_TRUSTED_PROXIES"
ENV_COOKIE_SECURE = "REPORT_COOKIE_SECURE"
#: Exceptions a callback raises when a forged payload hands it values of the wrong type or shape.
PAYLOAD_ERRORS = (TypeError, ValueError, KeyError, AttributeError, IndexError)


def json_error(status: int, error: str, message: str, headers: Mapping[str, str] | None = None) -> Response:
    resp = jsonify({"error": error, "message": message})
    resp.status_code = status
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def _flag(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "").strip().lower() in ("1", "true", "yes")


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, marked ``Secure`` also when this very request is HTTPS."""

    def get_cookie_secure(self, app: flask.Flask) -> bool:
        configured = bool(super().get_cookie_secure(app))
        return configured or (flask.has_request_context() and request.is_secure)


def trusted_proxies(environ: Mapping[str, str]) -> int:
    """How many reverse proxies in front may set ``X-Forwarded-*`` (0 = trust none)."""
    raw = environ.get(ENV_TRUSTED_PROXIES, "").strip()
    if not raw:
        return 0
    if not raw.isdigit():
        from report.admin.auth import AuthConfigError

        raise AuthConfigError(f"{ENV_TRUSTED_PROXIES} must be a whole number of proxies")
    return int(raw)


def frame_ancestors(environ: Mapping[str, str], configured: Sequence[str] = ()) -> str:
    """The origins that may embed the report: ``REPORT_FRAME_ANCESTORS`` when set (space- or
    comma-separated), else config.yaml's ``security.frame_ancestors``; ``'none'`` when neither
    names any."""
    raw = environ.get(ENV_FRAME_ANCESTORS, "").replace(",", " ").split() or list(configured)
    return " ".join(raw) if raw else "'none'"


def content_security_policy(script_hashes: list[str], ancestors: str) -> str:
    """A policy the app's own assets satisfy (checked in Chromium with the browser suite).

    * ``script-src``: Dash's one inline script (``new DashRenderer()``) by its hash, not
      ``'unsafe-inline'``.  ``'unsafe-eval'`` because the full plotly.js bundle Dash ships (not
      the "strict" build) may compile functions at run time (``new Function``, e.g. in regl-based
      traces).  The browser suite passes with this policy and an empty console; whether it also
      passes without ``'unsafe-eval'`` was not tried yet.
    * ``style-src 'unsafe-inline'``: plotly.js injects ``<style>`` elements and Dash components set
      inline ``style`` attributes; styles cannot run code.
    * ``img-src data: blob:``: plotly's toolbar icons and PNG download are data/blob URLs.
    """
    parts = {
        "default-src": "'self'",
        "script-src": " ".join(["'self'", "'unsafe-eval'", *script_hashes]),
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data: blob:",
        "font-src": "'self' data:",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": ancestors,
    }
    return "; ".join(f"{k} {v}" for k, v in parts.items())


def _origin_of(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return parts.netloc or None if parts.scheme in ("http", "https") else None


def same_origin() -> bool:
    """``Origin`` (else ``Referer``) names this host; absent both, not verified."""
    origin = request.headers.get("Origin")
    netloc = _origin_of(origin) if origin and origin != "null" else None
    if origin is None:
        netloc = _origin_of(request.referrer)
    return netloc is not None and netloc == request.host


def cross_site() -> bool:
    """A browser said this request comes from another site (``Origin`` present and not ours)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    return _origin_of(origin) != request.host


def csrf_token() -> str:
    """This session's token (made on first use); pages put it in their forms."""
    token = session.get(S_CSRF)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        session[S_CSRF] = token
    return token


def csrf_ok() -> bool:
    token = session.get(S_CSRF)
    sent = request.form.get(S_CSRF) or request.headers.get(CSRF_HEADER) or ""
    return isinstance(token, str) and secrets.compare_digest(token.encode(), sent.encode())


def _refused(reason: str) -> Response:
    return json_error(403, "cross_site_refused", reason)


# ---------------------------------------------------------------------------------------------
# Dash payloads
# ---------------------------------------------------------------------------------------------


def _declared(dep: Mapping[str, Any]) -> list[tuple[Any, str]]:
    return [(d.get("id"), d.get("property")) for d in dep]


def _matches(sent: Any, pattern: str) -> bool:
    """A MATCH item's id (a dict, as the renderer sends it) fits the declared pattern (its JSON
    text in ``callback_map``): the same keys, and the same value wherever no wildcard stands."""
    try:
        declared = json.loads(pattern)
    except ValueError:
        return False
    return (
        isinstance(sent, dict)
        and isinstance(declared, dict)
        and sent.keys() == declared.keys()
        and all(isinstance(v, list) or sent[k] == v for k, v in declared.items())
    )


def dash_payload_error(payload: Any, callback_map: Mapping[str, Mapping[str, Any]]) -> str | None:
    """Why a ``/_dash-update-component`` body is not one the renderer would send; None if it is.

    Checked: a JSON object; ``output`` a registered callback; ``inputs``/``state`` lists as long as
    the callback declares, each item naming the declared id and property (a MATCH item: an id
    of the declared pattern; ALL items come as lists and are checked for shape only); ``changedPropIds`` a list of strings.
    """
    if not isinstance(payload, dict):
        return "body is not a JSON object"
    output = payload.get("output")
    if not isinstance(output, str) or output not in callback_map:
        return "unknown callback output"
    spec = callback_map[output]
    changed = payload.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "changedPropIds must be a list of strings"
    for part in ("inputs", "state"):
        items = payload.get(part, [])
        declared = _declared(spec.get(part, []))
        if not isinstance(items, list) or len(items) != len(declared):
            return f"{part} do not match the callback"
        for item, (dep_id, dep_prop) in zip(items, declared, strict=True):
            if isinstance(item, list):
                if not all(isinstance(i, dict) and "id" in i for i in item):
                    return f"{part}: malformed pattern item"
                continue
            if not isinstance(item, dict) or "property" not in item:
                return f"{part}: malformed item"
            if isinstance(dep_id, str) and dep_id.startswith("{"):  # a pattern-matching id (MATCH)
                if not _matches(item.get("id"), dep_id) or item.get("property") != dep_prop:
                    return f"{part}: unknown component id or property"
            elif isinstance(dep_id, str) and (item.get("id") != dep_id or item.get("property") != dep_prop):
                return f"{part}: unknown component id or property"
    return None


# ---------------------------------------------------------------------------------------------
# Installation
# ---------------------------------------------------------------------------------------------


def install(
    server: flask.Flask,
    dash_app: Any,
    environ: Mapping[str, str],
    origin_checked: Callable[[str], bool],
    frame_origins: Sequence[str] = (),
) -> None:
    """Cookie flags, ProxyFix, the cross-site and payload checks and the headers on ``server``.

    ``origin_checked(output)`` says which Dash callbacks act on the server (the admin panel's):
    those need a verified same-site ``Origin``/``Referer``.  The report's own callbacks only read.
    """
    server.session_interface = _SessionInterface()
    server.config["SESSION_COOKIE_SAMESITE"] = "Lax"  # Flask presets None, so setdefault did nothing
    server.config["SESSION_COOKIE_HTTPONLY"] = True
    server.config["SESSION_COOKIE_SECURE"] = _flag(environ, ENV_COOKIE_SECURE)
    proxies = trusted_proxies(environ)
    if proxies:
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    ancestors = frame_ancestors(environ, frame_origins)
    csp: dict[str, str] = {}

    @server.before_request
    def refuse_cross_site() -> Response | None:
        if request.method not in UNSAFE_METHODS:
            return None
        if cross_site():
            return _refused("request from another site refused / запрос с другого сайта отклонён")
        if request.path != DASH_UPDATE:
            return None
        payload = request.get_json(silent=True)
        reason = dash_payload_error(payload, dash_app.callback_map)
        if reason is not None:
            return json_error(400, "bad_callback_request", reason)
        if origin_checked(payload["output"]) and not same_origin():
            return _refused("the admin panel's callbacks need an Origin or Referer of this site")
        return None

    @server.after_request
    def security_headers(resp: Response) -> Response:
        if "policy" not in csp:  # after every callback is registered: the inline scripts are known
            csp["policy"] = content_security_policy(list(dash_app.csp_hashes()), ancestors)
        resp.headers["Content-Security-Policy"] = csp["policy"]
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "same-origin"
        if ancestors == "'none'":
            resp.headers["X-Frame-Options"] = "DENY"
        return resp

    @server.errorhandler(Exception)
    def callback_failure(exc: Exception) -> Any:
        if isinstance(exc, HTTPException):
            return exc
        if request.path == DASH_UPDATE and isinstance(exc, PAYLOAD_ERRORS):
            log.warning("callback refused a malformed payload: %r", exc)
            return json_error(400, "bad_callback_request", "callback values of the wrong type or shape")
        log.exception("unhandled error on %s", request.path)
        return json_error(500, "internal_error", "internal error; see the server log")
