"""OAuth and JWT-shaped tokens as amoCRM issues them (HS256, ``exp`` readable by clients).

Access tokens live a day, refresh tokens 90 days and rotate (a used one is dead), authorization
codes 20 minutes; a static token given on the command line lives five years unless it says otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

STATIC_TOKEN_TTL_S = 5 * 365 * 86400
ACCESS_TTL_S = 86400
REFRESH_TTL_S = 90 * 86400
CODE_TTL_S = 20 * 60


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
