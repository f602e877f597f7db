"""The built web UI (web/dist), served by the API at `/`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse

from api.schemas import error_body
from core.settings import PROJECT_ROOT

WEB_DIST = PROJECT_ROOT / "web" / "dist"


def serve_web_ui(app: FastAPI, dist: Path = WEB_DIST) -> None:
    """Serve the built single-page app: real files as they are, other paths get index.html."""
    root = dist.resolve()

    @app.get("/{path:path}", include_in_schema=False)
    async def web(path: str) -> Any:
        if path.startswith("api/") or path == "api":
            return JSONResponse(error_body("not_found", "No such endpoint."), status_code=404)
        index = root / "index.html"
        if not index.is_file():
            return JSONResponse(
                error_body("web_ui_not_built", "The web UI is not built (run `make web`)."),
                status_code=404,
            )
        # A NUL byte cannot name a file (the OS refuses it): such a path is the app's route.
        candidate = (root / path.replace("\x00", "")).resolve()
        if path and "\x00" not in path and candidate.is_file() and candidate.is_relative_to(root):
            cache = (
                "public, max-age=31536000, immutable" if "/assets/" in f"/{path}" else "no-cache"
            )
            return FileResponse(candidate, headers={"Cache-Control": cache})
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
