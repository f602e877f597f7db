"""Requests must name this API by a host it expects, and changes must come from its own pages.

Two attacks reach an API that is only bound to loopback, through the browser of someone who
uses it:

- *DNS rebinding*: a page on `evil.example` makes its name resolve to 127.0.0.1, then reads and
  deletes through the victim's browser as if it were same-origin. Its requests carry
  `Host: evil.example`, so an API that accepts only the names it is known by is immune.
- *Cross-site writes*: a `no-cors` `fetch` or a form on another site can POST an upload or a
  DELETE without reading the answer. Browsers say where such a request comes from (`Origin`,
  `Sec-Fetch-Site`), so the API refuses a state-changing request whose origin is another site.

Which Host values are accepted (`HostPolicy.from_settings`): loopback names and addresses
always (`localhost`, `*.localhost`, 127.0.0.0/8, ::1: only a client that really aimed at
loopback sends them), plus `ALLOWED_HOSTS` when it is set. Without `ALLOWED_HOSTS`, anonymous
access (no API key configured) accepts loopback names only; with API keys, or with
`ALLOW_ANONYMOUS=true` (served beyond loopback on purpose), any Host is accepted, since a
rebinding page holds no key and anyone who can reach such an API needs no browser trick.

State-changing requests (anything but GET, HEAD and OPTIONS) are refused with 403 when their
`Origin` is neither this API's own (same host and port as the `Host` header) nor listed in
`CORS_ORIGINS`, or, lacking an `Origin`, when `Sec-Fetch-Site` says `cross-site` or `same-site`.
Clients that are not browsers send neither header and are not affected.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import send_error
from core.settings import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_PORTS = {"http": "80", "https": "443"}


def host_name(host: str) -> str | None:
    """The name in a Host header (`example.org:8000`, `[::1]:8000`), lower case, without the
    port; None when it is not a host name or address."""
    host = host.strip().lower()
    if host.startswith("["):
        address, bracket, rest = host[1:].partition("]")
        if not bracket or not (rest == "" or (rest[0] == ":" and rest[1:].isdigit())):
            return None
        try:
            return str(ipaddress.IPv6Address(address))
        except ValueError:
            return None
    name, _, port = host.partition(":")
    if (port and not port.isdigit()) or not name:
        return None
    if any(not (c.isalnum() or c in "-._") for c in name):
        return None
    return name.rstrip(".")


def is_loopback(name: str) -> bool:
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class HostPolicy:
    """The Host values a request may carry."""

    allowed: tuple[str, ...] = ()
    """Names, or `*.domain` for every subdomain of a domain (loopback is always allowed)."""
    any_host: bool = False

    @classmethod
    def from_settings(cls, settings: Settings, *, keys_enabled: bool) -> HostPolicy:
        allowed = tuple(settings.allowed_hosts)
        any_host = not allowed and (keys_enabled or settings.allow_anonymous)
        return cls(allowed, any_host)

    def allows(self, name: str) -> bool:
        if self.any_host or is_loopback(name):
            return True
        for pattern in self.allowed:
            if pattern.startswith("*."):
                if name.endswith(pattern[1:]):
                    return True
            elif name == pattern:
                return True
        return False


def _netloc(scheme: str, netloc: str) -> str:
    netloc = netloc.lower()
    default = DEFAULT_PORTS.get(scheme)
    if default and netloc.endswith(f":{default}"):
        netloc = netloc[: -len(default) - 1]
    return netloc


def same_origin(origin: str, host: str) -> bool:
    """`origin` names the host and port of the Host header (the scheme is not compared: behind
    a TLS proxy the API may see plain HTTP)."""
    parts = urlsplit(origin)
    if parts.scheme not in DEFAULT_PORTS or not parts.netloc:
        return False
    return _netloc(parts.scheme, parts.netloc) == _netloc(parts.scheme, host)


class RequestGuard:
    """ASGI middleware: refuse unexpected Host values (400) and cross-site changes (403)."""

    def __init__(self, app: ASGIApp, hosts: HostPolicy, trusted_origins: Iterable[str]) -> None:
        self.app = app
        self.hosts = hosts
        self.trusted_origins = frozenset(o.lower() for o in trusted_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        problem = self._host_problem(host) or self._origin_problem(scope, headers, host)
        if problem is None:
            await self.app(scope, receive, send)
            return
        status, code, message = problem
        await send_error(
            send, status, code, message, [(b"connection", b"close")], path=scope["path"]
        )

    def _host_problem(self, host: str) -> tuple[int, str, str] | None:
        name = host_name(host) if host else None
        if name is not None and self.hosts.allows(name):
            return None
        shown = host[:100] or "(none)"
        return (
            400,
            "host_not_allowed",
            f"This API does not answer to the host {shown!r}. Open it by a loopback address "
            "(127.0.0.1, localhost), or add the name to ALLOWED_HOSTS.",
        )

    def _origin_problem(
        self, scope: Scope, headers: Headers, host: str
    ) -> tuple[int, str, str] | None:
        if scope["method"] in SAFE_METHODS:
            return None
        origin = headers.get("origin")
        if origin is not None:
            origin = origin.strip().rstrip("/").lower()
            if origin in self.trusted_origins or same_origin(origin, host):
                return None
        elif headers.get("sec-fetch-site", "").lower() not in ("cross-site", "same-site"):
            return None
        return (
            403,
            "cross_site_request",
            "Changes are accepted only from this site's own pages (or an origin listed in "
            "CORS_ORIGINS).",
        )
