"""Access control: every `/api` request names its principal, or gets 401.

With API keys configured, a request to `/api/...` (all but the liveness probe), `/v1/...`
(the OpenAI-compatible API) or `/metrics` authenticates with `Authorization: Bearer <key>`;
safe requests (GET, HEAD) may instead carry a session token (`POST /api/session`) as an
HttpOnly cookie or as `?token=`, because a browser's EventSource, `<audio>` and download links
cannot send headers. Cookies are never accepted for requests that change something, so a
cross-site form cannot act with them.

The middleware sets `request.state.principal`; routes read it once through `PrincipalDep`, and
every query of transcriptions goes through `api.access.visibility.visible_transcriptions`.
Without keys every request is anonymous; `python -m api` refuses to listen beyond loopback in
that case unless ALLOW_ANONYMOUS is set.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from api.access.keys import ANONYMOUS_PRINCIPAL, KeyTable, Principal
from api.access.revocations import is_revoked
from api.access.session_tokens import COOKIE_NAME, QUERY_PARAMETER, SessionSigner
from api.errors import send_error
from core.db import Database
from core.errors import Unauthorized

OPEN_PATHS = frozenset({"/api/health"})
SAFE_METHODS = frozenset({"GET", "HEAD"})
UNAUTHORIZED_HEADERS = [(b"www-authenticate", b'Bearer realm="SoundScripter"')]


def _protected(path: str, method: str) -> bool:
    if path in OPEN_PATHS or (path == "/api/session" and method == "DELETE"):
        return False
    return path == "/api" or path.startswith(("/api/", "/v1/")) or path in ("/metrics", "/v1")


def session_cookie(headers: Headers) -> str | None:
    """The session token the request's cookie carries, if any."""
    for header in headers.getlist("cookie"):
        for pair in header.split(";"):
            name, _, value = pair.strip().partition("=")
            if name == COOKIE_NAME and value:
                return value
    return None


class AccessControl:
    """ASGI middleware: authenticate, then stamp the principal on the request state."""

    def __init__(self, app: ASGIApp, keys: KeyTable, signer: SessionSigner, db: Database) -> None:
        self.app = app
        self.keys = keys
        self.signer = signer
        self.db = db

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["keys"] = self.keys
        state["signer"] = self.signer
        principal = ANONYMOUS_PRINCIPAL
        if self.keys.enabled:
            if scope["method"] == "OPTIONS" or not _protected(scope["path"], scope["method"]):
                await self.app(scope, receive, send)
                return
            found, problem = await self._authenticate(scope)
            if found is None:
                await send_error(
                    send, 401, "unauthorized", problem, UNAUTHORIZED_HEADERS, path=scope["path"]
                )
                return
            principal = found
        state["principal"] = principal
        await self.app(scope, receive, send)

    async def _authenticate(self, scope: Scope) -> tuple[Principal | None, str]:
        headers = Headers(scope=scope)
        authorization = headers.get("authorization")
        if authorization is not None:
            kind, _, credentials = authorization.partition(" ")
            if kind.lower() != "bearer" or not credentials.strip():
                return None, "Use `Authorization: Bearer <API key>`."
            principal = self.keys.lookup(credentials.strip())
            return principal, "" if principal else "The API key is not valid."
        if scope["method"] not in SAFE_METHODS:
            return None, "An API key is required (`Authorization: Bearer <API key>`)."
        token = QueryParams(scope.get("query_string", b"")).get(QUERY_PARAMETER) or session_cookie(
            headers
        )
        if token is None:
            return None, "An API key is required (`Authorization: Bearer <API key>`)."
        principal = self.signer.verify(token, self.keys)
        if principal is None:
            return None, "The session has expired; sign in again."
        if await run_in_threadpool(is_revoked, self.db, token):
            return None, "The session was signed out; sign in again."
        return principal, ""


def principal_of(request: Request) -> Principal:
    principal = getattr(request.state, "principal", None)
    if isinstance(principal, Principal):
        return principal
    keys = getattr(request.state, "keys", None)
    if keys is not None and keys.enabled:
        raise Unauthorized("An API key is required (`Authorization: Bearer <API key>`).")
    return ANONYMOUS_PRINCIPAL
