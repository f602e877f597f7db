"""Access control: every `/api` request names its principal, or gets 401.

With API keys configured, a request to `/api/...` (all but the liveness probe) or `/metrics`
authenticates with `Authorization: Bearer <key>`; safe requests (GET, HEAD) may instead carry a
session token (`POST /api/session`) as an HttpOnly cookie or as `?token=`, because a browser's
EventSource, `<audio>` and download links cannot send headers. Cookies are never accepted for
requests that change something, so a cross-site form cannot act with them.

The middleware sets `request.state.principal` and `request.state.owner` (the owner filter every
query applies: None for an admin key or anonymous access). Without keys every request is
anonymous; `python -m api` refuses to listen beyond loopback in that case unless
ALLOW_ANONYMOUS is set.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from api.keys import ANONYMOUS_PRINCIPAL, KeyTable, Principal
from api.schemas import ErrorBody, error_body
from api.session_tokens import COOKIE_NAME, QUERY_PARAMETER, SessionSigner
from core.errors import Unauthorized

OPEN_PATHS = frozenset({"/api/health"})
SAFE_METHODS = frozenset({"GET", "HEAD"})


def _protected(path: str, method: str) -> bool:
    if path in OPEN_PATHS or (path == "/api/session" and method == "DELETE"):
        return False
    return path == "/api" or path.startswith("/api/") or path == "/metrics"


def _cookie(headers: Headers) -> str | None:
    for header in headers.getlist("cookie"):
        for pair in header.split(";"):
            name, _, value = pair.strip().partition("=")
            if name == COOKIE_NAME and value:
                return value
    return None


class AccessControl:
    """ASGI middleware: authenticate, then stamp the principal on the request state."""

    def __init__(self, app: ASGIApp, keys: KeyTable, signer: SessionSigner) -> None:
        self.app = app
        self.keys = keys
        self.signer = signer

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
            found, problem = self._authenticate(scope)
            if found is None:
                await _unauthorized(problem, send)
                return
            principal = found
        state["principal"] = principal
        state["owner"] = principal.scope
        await self.app(scope, receive, send)

    def _authenticate(self, scope: Scope) -> tuple[Principal | None, str]:
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
        token = QueryParams(scope.get("query_string", b"")).get(QUERY_PARAMETER) or _cookie(headers)
        if token is None:
            return None, "An API key is required (`Authorization: Bearer <API key>`)."
        principal = self.signer.verify(token, self.keys)
        return principal, "" if principal else "The session has expired; sign in again."


async def _unauthorized(message: str, send: Send) -> None:
    body = json.dumps(error_body("unauthorized", message)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b'Bearer realm="SoundScripter"'),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def principal_of(request: Request) -> Principal:
    principal = getattr(request.state, "principal", None)
    if isinstance(principal, Principal):
        return principal
    keys = getattr(request.state, "keys", None)
    if keys is not None and keys.enabled:
        raise Unauthorized("An API key is required (`Authorization: Bearer <API key>`).")
    return ANONYMOUS_PRINCIPAL


# --- the session endpoints ---------------------------------------------------------------

router = APIRouter(prefix="/api/session", tags=["session"])
UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "API keys are configured and none valid was sent"}
}


class SessionInfo(BaseModel):
    owner: str | None
    """The key's owner name (null for anonymous access)."""
    admin: bool
    """True when every transcription is visible (an admin key, or anonymous access)."""
    auth_required: bool


class SessionToken(SessionInfo):
    token: str
    expires_at: int
    """Unix time (seconds) after which the token is refused."""


def _info(request: Request) -> SessionInfo:
    principal = principal_of(request)
    return SessionInfo(
        owner=principal.stamp,
        admin=principal.admin,
        auth_required=request.state.keys.enabled,
    )


@router.get("", response_model=SessionInfo, responses=UNAUTHORIZED)
def whoami(request: Request) -> SessionInfo:
    """Who the request's key (or session) belongs to; 401 when a key is needed."""
    return _info(request)


@router.post("", response_model=SessionToken, responses=UNAUTHORIZED)
def open_session(request: Request, response: Response) -> SessionToken:
    """Trade the API key for a short-lived token, also set as an HttpOnly cookie, that
    authenticates GET requests a browser cannot add headers to (SSE, media, downloads)."""
    signer: SessionSigner = request.state.signer
    token, expires = signer.issue(principal_of(request))
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=signer.ttl_seconds,
        path="/api",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    response.headers["Cache-Control"] = "no-store"
    return SessionToken(**_info(request).model_dump(), token=token, expires_at=expires)


@router.delete("", status_code=204)
def close_session() -> Response:
    """Forget the session cookie (sign out)."""
    response = Response(status_code=204)
    response.delete_cookie(COOKIE_NAME, path="/api", httponly=True, samesite="strict")
    return response
