"""Flask side of access control: the viewer gate, the admin login page, the refresh HTTP API.

Checks run on the server for every request (``before_request`` for the viewer key; each admin route
checks the admin itself), so hiding a button is never what protects anything.
"""

from __future__ import annotations

import collections
import html
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import flask
from flask import Response, jsonify, redirect, request, session

from report.admin import auth, jobs
from report.admin.texts import t

CONTEXT_KEY = "REPORT_ADMIN"
#: Paths a viewer without the key may still fetch: static code and styles, no data.
OPEN_PREFIXES = ("/assets/", "/_dash-component-suites/", "/_favicon.ico", "/favicon.ico")
ADMIN_PREFIX = "/admin/"
#: The admin routes check the admin themselves, so they pass the viewer gate (any other /admin/…
#: path would be Dash's catch-all page and stays gated).
ADMIN_ROUTES = frozenset(
    {"/admin/login", "/admin/logout", "/admin/refresh", "/admin/refresh/status", "/admin/refresh/cancel"}
)


class FailureThrottle:
    """Per-address brake on password guessing: after ``limit`` failures within ``window_s``, refuse.

    In memory, per process (each gunicorn worker counts its own): enough to turn an online guess
    into a slow crawl without any shared state.
    """

    def __init__(self, limit: int = 5, window_s: float = 300.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._fails: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, addr: str, now: float) -> collections.deque[float]:
        q = self._fails.setdefault(addr, collections.deque())
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

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


@dataclass(frozen=True)
class AdminContext:
    """Everything the admin routes and callbacks need, fixed at install time."""

    settings: auth.AccessSettings
    data_dir: Path
    snapshots_dir: Path
    config_path: str | None
    default_lang: str
    environ: dict[str, str] = field(repr=False)
    asset_css: str = "/assets/bootstrap.min.css"
    cancel_timeout_s: float = jobs.DEFAULT_CANCEL_TIMEOUT_S
    throttle: FailureThrottle = field(default_factory=FailureThrottle, repr=False, compare=False)

    @property
    def redact_values(self) -> tuple[str, ...]:
        amo = tuple(
            v for k, v in self.environ.items() if k.startswith("AMOCRM_") and ("TOKEN" in k or "SECRET" in k) and v
        )
        return self.settings.secrets() + amo


def context(app: flask.Flask | None = None) -> AdminContext | None:
    app = app or (flask.current_app if flask.has_app_context() else None)
    return None if app is None else app.config.get(CONTEXT_KEY)


def current_admin(ctx: AdminContext) -> str | None:
    """The signed-in admin of this request's session, checked on the server."""
    if not flask.has_request_context():
        return None
    return auth.session_admin(session, flask.current_app.secret_key, ctx.settings)


def _lang(ctx: AdminContext) -> str:
    lang = request.args.get("lang") or request.form.get("lang") or ctx.default_lang
    return "en" if lang == "en" else "ru"


def _referrer_path() -> str | None:
    """The view the admin came from (same host only), so signing in returns to it with its filters."""
    ref = request.referrer
    if not ref:
        return None
    parts = urlsplit(ref)
    if parts.netloc != request.host or parts.path.startswith(ADMIN_PREFIX):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _safe_next(value: str | None) -> str:
    """Only a local path: a login link must not redirect the admin to another site."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


# ---------------------------------------------------------------------------------------------
# Viewer gate
# ---------------------------------------------------------------------------------------------

FORBIDDEN_PAGE = """<!doctype html><html lang="ru"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><title>Нет доступа / No access</title>
<link rel="stylesheet" href="{css}"></head><body class="bg-light"><main class="container py-5" style="max-width:40rem">
<h1 class="h4">Нет доступа к отчёту</h1>
<p>Этот отчёт открывается только по ссылке с ключом доступа (<code>?key=…</code>). Попросите ссылку у того,
кто ведёт отчёт; ключ запомнится в этом браузере.</p>
<hr><h2 class="h6 text-muted">No access</h2>
<p class="text-muted">This report opens only from a link carrying its access key (<code>?key=…</code>). Ask the person
who runs the report for the link; this browser will remember the key.</p>
<p class="small"><a href="/admin/login">Вход для администратора / Admin sign-in</a></p>
</main></body></html>"""


def _viewer_gate(ctx: AdminContext) -> Response | None:
    settings = ctx.settings
    if not settings.viewer_key_required:
        return None
    path = request.path
    if path in ADMIN_ROUTES or path.startswith(OPEN_PREFIXES):
        return None
    secret_key = flask.current_app.secret_key
    if auth.session_viewer(session, secret_key, settings) or current_admin(ctx):
        return None
    key = request.args.get("key")
    if key is not None and auth.check_viewer_key(settings, key):
        session[auth.S_VIEWER] = auth.viewer_mac(secret_key, settings)
        session.permanent = True
        if request.method == "GET":  # drop the key from the address bar; the session remembers it
            rest = [(k, v) for k, v in request.args.items(multi=True) if k != "key"]
            return redirect(request.path + ("?" + urlencode(rest) if rest else ""), code=303)
        return None
    if path.startswith("/_dash-"):
        return Response(
            '{"error": "forbidden", "message": "viewer key required / нужен ключ доступа"}',
            status=403,
            mimetype="application/json",
        )
    return Response(FORBIDDEN_PAGE.format(css=html.escape(ctx.asset_css)), status=403, mimetype="text/html")


class _RedactKeyFilter(logging.Filter):
    """The dev server logs request lines; a ``?key=`` in them must not reach the log."""

    pattern = re.compile(r"([?&]key=)[^&\s\"]*")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(self.pattern.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str) and "key=" in record.msg:
            record.msg = self.pattern.sub(r"\1***", record.msg)
        return True


def _install_log_filter() -> None:
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, _RedactKeyFilter) for f in logger.filters):
        logger.addFilter(_RedactKeyFilter())


# ---------------------------------------------------------------------------------------------
# Admin API
# ---------------------------------------------------------------------------------------------


def _json_error(status: int, error: str, message: str, headers: dict[str, str] | None = None) -> Response:
    resp = jsonify({"error": error, "message": message})
    resp.status_code = status
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def _unauthorized() -> Response:
    return _json_error(
        401,
        "unauthorized",
        "admin credentials required (HTTP basic auth) / нужны учётные данные администратора",
        {"WWW-Authenticate": 'Basic realm="report admin", charset="UTF-8"'},
    )


def _api_admin(ctx: AdminContext) -> tuple[str | None, Response | None]:
    """(admin user, None) or (None, the 401/403 answer)."""
    settings = ctx.settings
    if not settings.admin_enabled:
        return None, _json_error(
            403,
            "admin_disabled",
            "admin access over the web is disabled (no REPORT_ADMIN_PASSWORD set); refresh from the command line",
        )
    creds = request.authorization
    if creds is not None and creds.type == "basic":
        addr = request.remote_addr or "?"
        if ctx.throttle.blocked(addr):
            return None, _json_error(429, "too_many_failures", "too many failed sign-ins; try again later")
        if auth.check_admin(settings, creds.username, creds.password):
            return settings.admin_user, None
        ctx.throttle.fail(addr)
        return None, _unauthorized()
    user = current_admin(ctx)
    if user:
        return user, None
    secret_key = flask.current_app.secret_key
    is_viewer = settings.viewer_key_required and (
        auth.session_viewer(session, secret_key, settings) or auth.check_viewer_key(settings, request.args.get("key"))
    )
    if is_viewer:
        return None, _json_error(403, "forbidden", "viewers cannot refresh; admin credentials required")
    return None, _unauthorized()


def _redacted(ctx: AdminContext, value: Any) -> Any:
    """Child-process texts pass through here before any page or JSON shows them."""
    if isinstance(value, str):
        return auth.redact(value, ctx.redact_values)
    if isinstance(value, dict):
        return {k: _redacted(ctx, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(ctx, v) for v in value]
    return value


def refresh_status(ctx: AdminContext) -> dict[str, Any]:
    return _redacted(ctx, jobs.status(ctx.data_dir, ctx.snapshots_dir))


def start_refresh(ctx: AdminContext, user: str, via: str, full: bool = False) -> jobs.StartResult:
    return jobs.start_or_join(
        ctx.data_dir,
        who=user,
        via=via,
        config_path=ctx.config_path,
        environ=ctx.environ,
        full=full,
        cancel_timeout_s=ctx.cancel_timeout_s,
    )


# ---------------------------------------------------------------------------------------------
# Login page
# ---------------------------------------------------------------------------------------------

LOGIN_PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><title>{title}</title>
<link rel="stylesheet" href="{css}"></head><body class="bg-light"><main class="container py-5" style="max-width:26rem">
<h1 class="h4 mb-3">{title}</h1>{body}</main></body></html>"""

LOGIN_TEXTS = {
    "user": ("Имя пользователя", "User name"),
    "password": ("Пароль", "Password"),
    "submit": ("Войти", "Sign in"),
    "bad": ("Неверное имя пользователя или пароль.", "Wrong user name or password."),
    "csrf": ("Форма устарела, попробуйте ещё раз.", "The form expired; please try again."),
    "throttled": (
        "Слишком много неудачных попыток входа; попробуйте через несколько минут.",
        "Too many failed sign-ins; try again in a few minutes.",
    ),
    "disabled": (
        "Вход администратора отключён: пароль администратора не задан (REPORT_ADMIN_PASSWORD или "
        "REPORT_ADMIN_PASSWORD_HASH). Обновлять данные можно только из командной строки: "
        "<code>python -m report.admin refresh</code>.",
        "Admin sign-in is disabled: no admin password is set (REPORT_ADMIN_PASSWORD or "
        "REPORT_ADMIN_PASSWORD_HASH). Data can be refreshed from the command line only: "
        "<code>python -m report.admin refresh</code>.",
    ),
    "signed_in": ("Вы вошли как {user}.", "Signed in as {user}."),
    "back": ("Вернуться к отчёту", "Back to the report"),
    "logout": ("Выйти", "Sign out"),
}


def _lt(key: str, lang: str) -> str:
    ru, en = LOGIN_TEXTS[key]
    return en if lang == "en" else ru


def _login_page(ctx: AdminContext, lang: str, error: str | None = None, status: int = 200) -> Response:
    title = t("login", lang)
    if not ctx.settings.admin_enabled:
        body = f'<div class="alert alert-secondary" id="admin-login-disabled">{_lt("disabled", lang)}</div>'
        body += f'<p><a href="/">{_lt("back", lang)}</a></p>'
    else:
        token = session.get(auth.S_CSRF)
        if not isinstance(token, str):
            token = secrets.token_urlsafe(24)
            session[auth.S_CSRF] = token
        nxt = html.escape(_safe_next(request.values.get("next") or _referrer_path()))
        alert = f'<div class="alert alert-danger" id="admin-login-error">{html.escape(error)}</div>' if error else ""
        body = f"""{alert}<form method="post" action="/admin/login" id="admin-login-form">
<input type="hidden" name="csrf" value="{html.escape(token)}"><input type="hidden" name="next" value="{nxt}">
<input type="hidden" name="lang" value="{lang}">
<div class="mb-3"><label class="form-label" for="admin-login-user">{_lt("user", lang)}</label>
<input class="form-control" id="admin-login-user" name="user" autocomplete="username" required></div>
<div class="mb-3"><label class="form-label" for="admin-login-password">{_lt("password", lang)}</label>
<input class="form-control" id="admin-login-password" name="password" type="password"
autocomplete="current-password" required></div>
<button class="btn btn-primary" id="admin-login-submit" type="submit">{_lt("submit", lang)}</button>
<a class="ms-3" href="{nxt}">{_lt("back", lang)}</a></form>"""
    page = LOGIN_PAGE.format(lang=lang, title=html.escape(title), css=html.escape(ctx.asset_css), body=body)
    resp = Response(page, status=status, mimetype="text/html")
    resp.headers["Cache-Control"] = "no-store"
    return resp


# ---------------------------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------------------------


def register(server: flask.Flask, ctx: AdminContext) -> None:
    """Add the viewer gate and the /admin/ routes to the app's Flask server."""
    server.config[CONTEXT_KEY] = ctx
    server.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")  # no cross-site POST carries the session
    server.config["SESSION_COOKIE_HTTPONLY"] = True
    if ctx.environ.get("REPORT_COOKIE_SECURE", "").strip() in ("1", "true", "yes"):
        server.config["SESSION_COOKIE_SECURE"] = True
    _install_log_filter()

    @server.before_request
    def viewer_gate() -> Response | None:
        return _viewer_gate(ctx)

    @server.route("/admin/login", methods=["GET", "POST"])
    def admin_login() -> Any:
        lang = _lang(ctx)
        if request.method == "GET" or not ctx.settings.admin_enabled:
            return _login_page(ctx, lang)
        token = session.get(auth.S_CSRF)
        if not isinstance(token, str) or not secrets.compare_digest(token, request.form.get("csrf", "")):
            return _login_page(ctx, lang, _lt("csrf", lang), status=400)
        addr = request.remote_addr or "?"
        if ctx.throttle.blocked(addr):
            return _login_page(ctx, lang, _lt("throttled", lang), status=429)
        if not auth.check_admin(ctx.settings, request.form.get("user"), request.form.get("password")):
            ctx.throttle.fail(addr)
            return _login_page(ctx, lang, _lt("bad", lang), status=401)
        session.pop(auth.S_CSRF, None)
        session[auth.S_ADMIN] = ctx.settings.admin_user
        session[auth.S_ADMIN_MAC] = auth.admin_mac(flask.current_app.secret_key, ctx.settings)
        session[auth.S_ADMIN_AT] = int(time.time())
        session.permanent = True
        return redirect(_safe_next(request.form.get("next")), code=303)

    @server.route("/admin/logout", methods=["GET", "POST"])
    def admin_logout() -> Any:
        for key in (auth.S_ADMIN, auth.S_ADMIN_MAC, auth.S_ADMIN_AT):
            session.pop(key, None)
        return redirect(_safe_next(request.values.get("next")), code=303)

    @server.route("/admin/refresh", methods=["POST"])
    def admin_refresh() -> Any:
        user, denied = _api_admin(ctx)
        if denied is not None:
            return denied
        full = request.args.get("full", "").lower() in ("1", "true", "yes")
        via = "http" if request.authorization else "ui"
        try:
            started = start_refresh(ctx, user or "?", via, full)
        except jobs.RefreshError as exc:
            return _json_error(503, "not_started", str(exc))
        resp = jsonify(started.as_dict())
        resp.status_code = 200 if started.joined else 202
        return resp

    @server.route("/admin/refresh/status", methods=["GET"])
    def admin_refresh_status() -> Any:
        _user, denied = _api_admin(ctx)
        if denied is not None:
            return denied
        resp = jsonify(refresh_status(ctx))
        resp.headers["Cache-Control"] = "no-store"
        return resp

    @server.route("/admin/refresh/cancel", methods=["POST"])
    def admin_refresh_cancel() -> Any:
        _user, denied = _api_admin(ctx)
        if denied is not None:
            return denied
        rid = jobs.cancel(ctx.data_dir)
        if rid is None:
            return _json_error(409, "not_running", "no refresh is running")
        return jsonify({"refresh_id": rid, "cancelling": True})
