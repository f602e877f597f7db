"""API keys and the principals they stand for.

`API_KEYS` and `ADMIN_API_KEYS` list comma-separated `owner:key` entries (or `owner:sha256:<hex>`
to keep only the key's SHA-256 in the configuration). A key sees its owner's transcriptions; an
admin key sees every transcription. Keys are looked up by their SHA-256, so a key is never kept
in memory in the clear and a lookup does not compare secrets character by character.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from core.settings import Settings

MIN_KEY_LENGTH = 16
_OWNER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,199}")
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
ANONYMOUS = "anonymous"


class KeyConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Principal:
    """Who sends a request: the owner name stamped on uploads, and whether it sees everything."""

    name: str
    admin: bool
    fingerprint: str = ""
    """First hex digits of the key's SHA-256 (empty for anonymous access)."""

    @property
    def scope(self) -> str | None:
        """Owner filter for queries: None sees every transcription."""
        return None if self.admin else self.name

    @property
    def stamp(self) -> str | None:
        """Owner written on new transcriptions (none for anonymous access)."""
        return None if self.name == ANONYMOUS and not self.fingerprint else self.name


ANONYMOUS_PRINCIPAL = Principal(ANONYMOUS, admin=True)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _parse(entry: str, *, admin: bool) -> tuple[str, Principal]:
    owner, sep, secret = entry.partition(":")
    label = "ADMIN_API_KEYS" if admin else "API_KEYS"
    if not sep or not _OWNER.fullmatch(owner):
        raise KeyConfigError(
            f"{label}: each entry is owner:key with an owner name of letters, digits and ._@+-"
        )
    if secret.startswith("sha256:"):
        digest = secret.removeprefix("sha256:").lower()
        if not _HEX_DIGEST.fullmatch(digest):
            raise KeyConfigError(f"{label}: owner {owner!r} has a malformed sha256 digest")
    else:
        if len(secret) < MIN_KEY_LENGTH or not secret.isprintable() or " " in secret:
            raise KeyConfigError(
                f"{label}: the key of owner {owner!r} must be at least {MIN_KEY_LENGTH} "
                "printable characters without spaces (e.g. `openssl rand -hex 24`)"
            )
        digest = key_digest(secret)
    return digest, Principal(owner, admin=admin, fingerprint=digest[:16])


@dataclass(frozen=True)
class KeyTable:
    by_digest: dict[str, Principal]

    @property
    def enabled(self) -> bool:
        return bool(self.by_digest)

    def lookup(self, key: str) -> Principal | None:
        return self.by_digest.get(key_digest(key))

    def by_fingerprint(self, fingerprint: str) -> Principal | None:
        for digest, principal in self.by_digest.items():
            if digest.startswith(fingerprint) and principal.fingerprint == fingerprint:
                return principal
        return None

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyTable:
        table: dict[str, Principal] = {}
        entries = [(e, False) for e in settings.api_keys] + [
            (e, True) for e in settings.admin_api_keys
        ]
        for entry, admin in entries:
            digest, principal = _parse(entry, admin=admin)
            if digest in table:
                raise KeyConfigError("The same key is configured twice.")
            table[digest] = principal
        return cls(table)
