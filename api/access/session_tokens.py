"""Short-lived signed session tokens, for requests that cannot send an Authorization header.

A browser's EventSource, `<audio src>` and download links send neither custom headers nor a
body, so the web UI trades its API key for a token (`POST /api/session`), which travels as an
HttpOnly cookie or as `?token=`. A token names the key by its fingerprint, so removing a key
from the configuration ends its sessions at once, and carries its expiry, signed with
HMAC-SHA256 under SESSION_SECRET (a random per-process secret when that is empty).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from api.access.keys import KeyTable, Principal

COOKIE_NAME = "soundscripter_session"
QUERY_PARAMETER = "token"
_VERSION = "v1"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass(frozen=True)
class SessionSigner:
    secret: bytes
    ttl_seconds: int

    @classmethod
    def create(cls, secret: str, ttl_seconds: int) -> SessionSigner:
        raw = secret.encode() if secret else secrets.token_bytes(32)
        return cls(hashlib.sha256(b"soundscripter-session|" + raw).digest(), ttl_seconds)

    def _signature(self, payload: str) -> str:
        return _b64(hmac.new(self.secret, payload.encode(), hashlib.sha256).digest())

    def issue(self, principal: Principal, now: float | None = None) -> tuple[str, int]:
        """A token for this principal and its expiry (Unix seconds)."""
        expires = int((now if now is not None else time.time()) + self.ttl_seconds)
        payload = f"{_VERSION}.{expires}.{principal.fingerprint or '-'}"
        return f"{payload}.{self._signature(payload)}", expires

    def verify(self, token: str, keys: KeyTable, now: float | None = None) -> Principal | None:
        """The principal a valid, unexpired token stands for; None otherwise."""
        if len(token) > 200:
            return None
        parts = token.split(".")
        if len(parts) != 4 or parts[0] != _VERSION:
            return None
        payload = ".".join(parts[:3])
        if not hmac.compare_digest(self._signature(payload), parts[3]):
            return None
        try:
            expires = int(parts[1])
        except ValueError:
            return None
        if expires < (now if now is not None else time.time()):
            return None
        return keys.by_fingerprint(parts[2])
