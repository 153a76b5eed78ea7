"""amoCRM credentials: a long-lived token, or a rotating OAuth pair kept in a token file.

OAuth refresh tokens rotate (``AMOCRM.md``): the old pair dies the moment a new one is issued, so
the new pair is written to the token file (atomically, mode 0600) *before* it is used, under a
file lock so that two processes never refresh at once.  Credentials come from the environment
only; config.yaml names the variables.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from etl.extract.errors import AmoError


def jwt_exp(token: str) -> float | None:
    """The ``exp`` claim of a JWT-shaped token (no signature check), or None."""
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
