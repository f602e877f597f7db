"""The interactive API docs (`/docs`, Swagger UI; `/redoc`, ReDoc), served by the API itself.

FastAPI's own pages load Swagger UI and ReDoc from a public CDN, so they stay blank on a
machine without internet access and let a third party run script on the API's origin. The
`fastapi-offline` package ships both builds; the API serves them under `/docs/assets/`. The
pages hold no inline script (each starts its viewer from a small script file served beside it),
so they run under the page security policy; each widens it only by what its viewer needs.
"""

from __future__ import annotations

import json
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from api.security_headers import PAGE_POLICY

ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS_URL = "/docs/assets"
# Swagger UI's stylesheet draws its icons as data: images.
SWAGGER_POLICY = f"{PAGE_POLICY}; img-src 'self' data:"
# ReDoc styles itself with <style> elements it writes and searches in a blob: worker.
REDOC_POLICY = f"{SWAGGER_POLICY}; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:"

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="{assets}/favicon.png">
{head}
</head>
<body>
{body}
</body>
</html>
"""


def _page(title: str, head: str, body: str, policy: str) -> HTMLResponse:
    html = _PAGE.format(title=title, assets=ASSETS_URL, head=head, body=body)
    return HTMLResponse(
        html, headers={"Content-Security-Policy": policy, "Cache-Control": "no-cache"}
    )


def swagger_start(openapi_url: str) -> str:
    """The script that starts Swagger UI (FastAPI's settings for it)."""
    options = {
        "url": openapi_url,
        "dom_id": "#swagger-ui",
        "layout": "BaseLayout",
        "deepLinking": True,
        "showExtensions": True,
        "showCommonExtensions": True,
    }
    return (
        f"window.ui = SwaggerUIBundle(Object.assign({json.dumps(options)}, {{\n"
        "  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],\n"
        "}));\n"
    )


def serve_docs(app: FastAPI) -> None:
    """Add `/docs`, `/redoc` and their assets (the app is built with FastAPI's own off)."""
    openapi_url = app.openapi_url or "/openapi.json"
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return _page(
            f"{app.title} API",
            f'<link rel="stylesheet" href="{ASSETS_URL}/swagger-ui.css">',
            f'<div id="swagger-ui"></div>\n<script src="{ASSETS_URL}/swagger-ui-bundle.js">'
            '</script>\n<script src="/docs/start.js"></script>',
            SWAGGER_POLICY,
        )

    @app.get("/docs/start.js", include_in_schema=False)
    async def swagger_ui_start() -> Response:
        return Response(
            swagger_start(openapi_url),
            media_type="text/javascript",
            headers={"Cache-Control": "no-cache"},
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return _page(
            f"{app.title} API",
            "",
            f'<redoc spec-url="{openapi_url}"></redoc>\n'
            f'<script src="{ASSETS_URL}/redoc.standalone.js"></script>',
            REDOC_POLICY,
        )
