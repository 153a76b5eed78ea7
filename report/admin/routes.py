"""Flask side of access control: the viewer gate, the admin login page, the refresh HTTP API.

Checks run on the server for every request (``before_request`` for the viewer key; each admin route
checks the admin itself), so hiding a button is never what protects anything.
"""

from __future__ import annotations

import errno
import html
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import flask
from flask import Response, jsonify, redirect, request, session

from report import backend
from report.admin import auth, jobs, security
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
#: The answer to a refresh the data folder refused: 507 Insufficient Storage for a full disk.
DISK_FULL_STATUS = 507


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
    #: Sign-in failures per client address (after ProxyFix): this process's memory, or Redis.
    throttle: backend.FailureLimiter = field(default_factory=backend.MemoryLimiter, repr=False, compare=False)

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


_json_error = security.json_error


def _unauthorized() -> Response:
    return _json_error(
        401,
        "unauthorized",
        "admin credentials required (HTTP basic auth) / нужны учётные данные администратора",
        {"WWW-Authenticate": 'Basic realm="report admin", charset="UTF-8"'},
    )


def _api_admin(ctx: AdminContext, state_changing: bool = False) -> tuple[str | None, Response | None]:
    """(admin user, None) or (None, the 401/403 answer).

    ``state_changing``: a browser session must also send its CSRF token (basic auth, which a
    scheduler uses, cannot be ridden cross-site past the Origin check, and needs none).
    """
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
        if state_changing and not security.csrf_ok():
            return None, _json_error(403, "csrf_failed", "missing or wrong CSRF token / нет или неверен CSRF-токен")
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
    return _redacted(ctx, jobs.status(ctx.data_dir, ctx.snapshots_dir, ctx.environ))


def start_refresh(ctx: AdminContext, user: str, via: str, full: bool = False, force: bool = False) -> jobs.StartResult:
    return jobs.start_or_join(
        ctx.data_dir,
        who=user,
        via=via,
        config_path=ctx.config_path,
        environ=ctx.environ,
        full=full,
        cancel_timeout_s=ctx.cancel_timeout_s,
        force=force,
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
        token = security.csrf_token()
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


def _logout_page(ctx: AdminContext, lang: str) -> Response:
    """GET /admin/logout: a button that POSTs (a link or an image on another site cannot sign out)."""
    nxt = html.escape(_safe_next(request.args.get("next")))
    body = f"""<form method="post" action="/admin/logout" id="admin-logout-form">
<input type="hidden" name="csrf" value="{html.escape(security.csrf_token())}">
<input type="hidden" name="next" value="{nxt}">
<button class="btn btn-primary" id="admin-logout-submit" type="submit">{_lt("logout", lang)}</button>
<a class="ms-3" href="{nxt}">{_lt("back", lang)}</a></form>"""
    title = html.escape(_lt("logout", lang))
    page = LOGIN_PAGE.format(lang=lang, title=title, css=html.escape(ctx.asset_css), body=body)
    resp = Response(page, mimetype="text/html")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _refresh_failed(exc: jobs.RefreshError) -> Response:
    """507 for a full disk, 500 for another refused write, 503 when it simply could not start."""
    if exc.errno is None:
        return _json_error(503, "not_started", str(exc))
    status = DISK_FULL_STATUS if exc.errno == errno.ENOSPC else 500
    return _json_error(status, "storage_error", str(exc))


def register(server: flask.Flask, ctx: AdminContext) -> None:
    """Add the viewer gate and the /admin/ routes to the app's Flask server."""
    server.config[CONTEXT_KEY] = ctx
    _install_log_filter()

    @server.before_request
    def viewer_gate() -> Response | None:
        return _viewer_gate(ctx)

    @server.route("/admin/login", methods=["GET", "POST"])
    def admin_login() -> Any:
        lang = _lang(ctx)
        if request.method == "GET" or not ctx.settings.admin_enabled:
            return _login_page(ctx, lang)
        if not security.csrf_ok():
            return _login_page(ctx, lang, _lt("csrf", lang), status=400)
        addr = request.remote_addr or "?"
        if ctx.throttle.blocked(addr):
            return _login_page(ctx, lang, _lt("throttled", lang), status=429)
        if not auth.check_admin(ctx.settings, request.form.get("user"), request.form.get("password")):
            ctx.throttle.fail(addr)
            return _login_page(ctx, lang, _lt("bad", lang), status=401)
        session.pop(auth.S_CSRF, None)  # a new token after sign-in
        session[auth.S_ADMIN] = ctx.settings.admin_user
        session[auth.S_ADMIN_MAC] = auth.admin_mac(flask.current_app.secret_key, ctx.settings)
        session[auth.S_ADMIN_AT] = int(time.time())
        session.permanent = True
        return redirect(_safe_next(request.form.get("next")), code=303)

    @server.route("/admin/logout", methods=["GET", "POST"])
    def admin_logout() -> Any:
        if request.method == "GET":
            return _logout_page(ctx, _lang(ctx))
        if not security.csrf_ok():
            return _json_error(403, "csrf_failed", "sign-out needs this session's CSRF token")
        for key in (auth.S_ADMIN, auth.S_ADMIN_MAC, auth.S_ADMIN_AT, auth.S_CSRF):
            session.pop(key, None)
        return redirect(_safe_next(request.values.get("next")), code=303)

    @server.route("/admin/refresh", methods=["POST"])
    def admin_refresh() -> Any:
        user, denied = _api_admin(ctx, state_changing=True)
        if denied is not None:
            return denied
        full, force = (request.args.get(key, "").lower() in ("1", "true", "yes") for key in ("full", "force"))
        via = "http" if request.authorization else "ui"
        try:
            started = start_refresh(ctx, user or "?", via, full, force)
        except jobs.RefreshError as exc:
            return _refresh_failed(exc)
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
        _user, denied = _api_admin(ctx, state_changing=True)
        if denied is not None:
            return denied
        rid = jobs.cancel(ctx.data_dir, ctx.environ)
        if rid is None:
            return _json_error(409, "not_running", "no refresh is running")
        return jsonify({"refresh_id": rid, "cancelling": True})
