"""Security headers on every response, whichever part of the app (or middleware) made it.

- Pages (the web UI, `/docs`) get `PAGE_POLICY`: scripts, styles, media and connections from this
  origin only, no plugins, no framing by another site. The built web UI is external files only
  (Vite writes no inline script), so it runs under it unchanged.
- API responses (`/api/...`, `/v1/...`, `/metrics`, `/openapi.json`) are data, never a page:
  `DATA_POLICY` makes a browser that is tricked into opening one as a document (an uploaded
  HTML or SVG file served as media, a transcript) run it in a sandbox with nothing allowed.
- Every response: `X-Content-Type-Options: nosniff` (a browser takes the declared type, never
  guesses HTML from an upload's bytes) and `Referrer-Policy: no-referrer` (session tokens in a
  URL never leak to another site).

A response that sets its own `Content-Security-Policy` keeps it (the API docs page needs a
slightly wider one). Pure ASGI: only the response start is touched, so streams are unaffected.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = "default-src 'self'; frame-ancestors 'none'; object-src 'none'"
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"
DATA_PREFIXES = ("/api/", "/v1/", "/metrics", "/openapi.json")
COMMON = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]


def policy_for(path: str) -> str:
    return DATA_POLICY if path == "/api" or path.startswith(DATA_PREFIXES) else PAGE_POLICY


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = policy_for(scope["path"]).encode()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                added = [(n, v) for n, v in COMMON if n not in names]
                if b"content-security-policy" not in names:
                    added.append((b"content-security-policy", policy))
                message = {**message, "headers": headers + added}
            await send(message)

        await self.app(scope, receive, send_with_headers)
