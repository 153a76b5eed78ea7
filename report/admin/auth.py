"""Who may do what: the viewer key, the admin credentials, the signed session that remembers them.

Everything is decided on the server from the environment (never from config.yaml, never from what
the page shows).  The Flask session cookie is signed, not encrypted, so it only ever holds HMACs of
secrets under the server's secret key, never a key, a password or a hash of one.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from werkzeug.security import check_password_hash

ENV_ADMIN_USER = "REPORT_ADMIN_USER"
ENV_ADMIN_PASSWORD = "REPORT_ADMIN_PASSWORD"
ENV_ADMIN_PASSWORD_HASH = "REPORT_ADMIN_PASSWORD_HASH"
ENV_VIEWER_KEY = "REPORT_VIEWER_KEY"
ENV_SECRET_KEY = "REPORT_SECRET_KEY"
ENV_ADMIN_SESSION_HOURS = "REPORT_ADMIN_SESSION_HOURS"
SECRET_KEY_FILE = ".secret_key"
DEFAULT_ADMIN_USER = "admin"
DEFAULT_ADMIN_SESSION_HOURS = 12.0

# Session keys (values are HMACs, user names and times; never secrets).
S_VIEWER = "viewer"
S_ADMIN = "admin_user"
S_ADMIN_MAC = "admin_mac"
S_ADMIN_AT = "admin_at"
S_CSRF = "csrf"


class AuthConfigError(ValueError):
    """The access-control environment is wrong (the message names the variable, never its value)."""


@dataclass(frozen=True)
class AccessSettings:
    """Access control of one report process, read once from the environment."""

    admin_user: str = DEFAULT_ADMIN_USER
    admin_password: str | None = field(default=None, repr=False)
    admin_password_hash: str | None = field(default=None, repr=False)
    viewer_key: str | None = field(default=None, repr=False)
    admin_session_hours: float = DEFAULT_ADMIN_SESSION_HOURS

    @property
    def admin_enabled(self) -> bool:
        """No admin password configured = no admin over the web (refresh only from the CLI)."""
        return bool(self.admin_password or self.admin_password_hash)

    @property
    def viewer_key_required(self) -> bool:
        return bool(self.viewer_key)

    def secrets(self) -> tuple[str, ...]:
        """Values that must never be shown anywhere (for redaction of child-process messages)."""
        return tuple(s for s in (self.admin_password, self.admin_password_hash, self.viewer_key) if s)


def load_settings(environ: Mapping[str, str]) -> AccessSettings:
    """Read the access settings; empty variables count as unset."""

    def get(name: str) -> str | None:
        value = environ.get(name, "")
        return value if value.strip() else None

    pw_hash = get(ENV_ADMIN_PASSWORD_HASH)
    if pw_hash is not None and "$" not in pw_hash:
        raise AuthConfigError(
            f"{ENV_ADMIN_PASSWORD_HASH} is not a werkzeug password hash (expected 'method$salt$hash', "
            'made by: python -c "from werkzeug.security import generate_password_hash as g; print(g(input()))")'
        )
    hours_raw = get(ENV_ADMIN_SESSION_HOURS)
    try:
        hours = float(hours_raw) if hours_raw is not None else DEFAULT_ADMIN_SESSION_HOURS
    except ValueError as exc:
        raise AuthConfigError(f"{ENV_ADMIN_SESSION_HOURS} must be a number of hours") from exc
    if hours <= 0:
        raise AuthConfigError(f"{ENV_ADMIN_SESSION_HOURS} must be positive")
    return AccessSettings(
        admin_user=(get(ENV_ADMIN_USER) or DEFAULT_ADMIN_USER).strip(),
        admin_password=get(ENV_ADMIN_PASSWORD),
        admin_password_hash=pw_hash,
        viewer_key=get(ENV_VIEWER_KEY),
        admin_session_hours=hours,
    )


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8")).digest()


def check_admin(settings: AccessSettings, user: str | None, password: str | None) -> bool:
    """True for the configured admin; both parts are always compared, in constant time."""
    if not settings.admin_enabled or user is None or password is None:
        return False
    user_ok = hmac.compare_digest(_digest(user), _digest(settings.admin_user))
    if settings.admin_password_hash:
        try:
            pw_ok = check_password_hash(settings.admin_password_hash, password)
        except (ValueError, TypeError):  # an unknown method in the hash: treat as a wrong password
            pw_ok = False
    else:
        pw_ok = hmac.compare_digest(_digest(password), _digest(settings.admin_password or ""))
    return user_ok and pw_ok


def check_viewer_key(settings: AccessSettings, key: str | None) -> bool:
    if not settings.viewer_key or key is None:
        return False
    return hmac.compare_digest(_digest(key), _digest(settings.viewer_key))


def _mac(secret_key: str | bytes, purpose: str, value: str) -> str:
    key = secret_key.encode("utf-8") if isinstance(secret_key, str) else secret_key
    return hmac.new(key, f"{purpose}\0{value}".encode(), hashlib.sha256).hexdigest()[:32]


def viewer_mac(secret_key: str | bytes, settings: AccessSettings) -> str:
    """What the session remembers of the viewer key: changing the key logs every viewer out."""
    return _mac(secret_key, "viewer", settings.viewer_key or "")


def admin_mac(secret_key: str | bytes, settings: AccessSettings) -> str:
    """What the session remembers of the admin credentials: changing them logs the admin out."""
    credential = settings.admin_password_hash or settings.admin_password or ""
    return _mac(secret_key, "admin", f"{settings.admin_user}\0{credential}")


def session_admin(
    session: Mapping[str, object], secret_key: str | bytes, settings: AccessSettings, now: float | None = None
) -> str | None:
    """The admin's user name when the session is a live admin session, else None."""
    if not settings.admin_enabled:
        return None
    user, mac, at = session.get(S_ADMIN), session.get(S_ADMIN_MAC), session.get(S_ADMIN_AT)
    if not isinstance(user, str) or not isinstance(mac, str) or not isinstance(at, int | float):
        return None
    if not hmac.compare_digest(mac, admin_mac(secret_key, settings)):
        return None
    now = time.time() if now is None else now
    if not (0 <= now - float(at) <= settings.admin_session_hours * 3600):
        return None
    return user


def session_viewer(session: Mapping[str, object], secret_key: str | bytes, settings: AccessSettings) -> bool:
    mac = session.get(S_VIEWER)
    return isinstance(mac, str) and hmac.compare_digest(mac, viewer_mac(secret_key, settings))


def load_secret_key(environ: Mapping[str, str], data_dir: Path) -> str:
    """``REPORT_SECRET_KEY``, else one random key per data folder, shared by every worker.

    The file is created once (write to a temp file, then ``os.link``, which fails if another worker
    won the race) with mode 0600, so all workers sign sessions with the same key.
    """
    value = environ.get(ENV_SECRET_KEY, "").strip()
    if value:
        return value
    path = Path(data_dir) / SECRET_KEY_FILE
    try:
        existing = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):  # another worker was first: use its key
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text(encoding="ascii").strip()


def redact(text: str, secret_values: tuple[str, ...]) -> str:
    """Replace any secret that slipped into a message (e.g. a child's error text) with ``***``."""
    for s in secret_values:
        if s and len(s) >= 4:
            text = text.replace(s, "***")
    return text
