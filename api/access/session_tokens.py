"""Short-lived signed session tokens, for requests that cannot send an Authorization header.

A browser's EventSource, `<audio src>` and download links send neither custom headers nor a
body, so the web UI trades its API key for a token (`POST /api/session`), which travels as an
HttpOnly cookie or as `?token=`. A token names the key by its fingerprint, so removing a key
from the configuration ends its sessions at once, and carries its expiry and a random nonce,
signed with HMAC-SHA256 under SESSION_SECRET (a random per-process secret when that is empty).
A token whose expiry lies further ahead than SESSION_TTL_SECONDS allows is refused, and one
signed out (`DELETE /api/session`) is refused by every API process (`api.access.revocations`).
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
_VERSION = "v2"
CLOCK_SKEW_SECONDS = 5
"""How far a token's expiry may lie past now + TTL (API processes' clocks differ a little)."""


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
        # The nonce makes every token its own, so signing one out leaves the others be.
        nonce = secrets.token_urlsafe(9)
        payload = f"{_VERSION}.{expires}.{principal.fingerprint or '-'}.{nonce}"
        return f"{payload}.{self._signature(payload)}", expires

    def expiry(self, token: str, now: float | None = None) -> int | None:
        """When a token this signer issued expires; None for a token with a bad signature,
        one that has expired, and one whose expiry lies further ahead than this signer's TTL
        allows (signed under a longer TTL, or forged with a leaked secret)."""
        if len(token) > 200:
            return None
        parts = token.split(".")
        if len(parts) != 5 or parts[0] != _VERSION:
            return None
        payload = ".".join(parts[:4])
        if not hmac.compare_digest(self._signature(payload), parts[4]):
            return None
        try:
            expires = int(parts[1])
        except ValueError:
            return None
        now = now if now is not None else time.time()
        if expires < now or expires > now + self.ttl_seconds + CLOCK_SKEW_SECONDS:
            return None
        return expires

    def verify(self, token: str, keys: KeyTable, now: float | None = None) -> Principal | None:
        """The principal a valid, unexpired token stands for; None otherwise."""
        if self.expiry(token, now) is None:
            return None
        return keys.by_fingerprint(token.split(".")[2])
