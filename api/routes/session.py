"""The session endpoints: who a key is, and short-lived tokens for the browser."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from api.access.keys import Principal
from api.access.middleware import session_cookie
from api.access.revocations import revoke
from api.access.session_tokens import COOKIE_NAME, QUERY_PARAMETER
from api.deps import PrincipalDep, ResourcesDep
from api.schemas import UNAUTHORIZED

router = APIRouter(prefix="/api/session", tags=["session"])


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


def _info(principal: Principal, resources: ResourcesDep) -> SessionInfo:
    return SessionInfo(
        owner=principal.stamp, admin=principal.admin, auth_required=resources.keys.enabled
    )


@router.get("", response_model=SessionInfo, responses=UNAUTHORIZED)
def whoami(principal: PrincipalDep, resources: ResourcesDep) -> SessionInfo:
    """Who the request's key (or session) belongs to; 401 when a key is needed."""
    return _info(principal, resources)


@router.post("", response_model=SessionToken, responses=UNAUTHORIZED)
def open_session(
    request: Request, response: Response, principal: PrincipalDep, resources: ResourcesDep
) -> SessionToken:
    """Trade the API key for a short-lived token, also set as an HttpOnly cookie, that
    authenticates GET requests a browser cannot add headers to (SSE, media, downloads)."""
    signer = resources.signer
    token, expires = signer.issue(principal)
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
    return SessionToken(**_info(principal, resources).model_dump(), token=token, expires_at=expires)


@router.delete("", status_code=204)
def close_session(request: Request, resources: ResourcesDep) -> Response:
    """Sign out: the session token (the cookie's, or `?token=`) is refused from now on, by
    every API process, and the cookie is dropped."""
    token = request.query_params.get(QUERY_PARAMETER) or session_cookie(request.headers)
    expires = resources.signer.expiry(token) if token else None
    if token and expires is not None:
        revoke(resources.db, token, expires)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE_NAME, path="/api", httponly=True, samesite="strict")
    return response
