"""The API as the client sees it: one async HTTP client, errors as `ApiError` with the API's
code, and the calls the commands make."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from cli.config import Config
from cli.multipart import MultipartUpload

Job = dict[str, Any]


class ApiError(Exception):
    """An error the API answered (with its machine code) or one reaching it."""

    def __init__(self, code: str, message: str, status: int | None = None, body: Any = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.body = body

    @property
    def about_the_file(self) -> bool:
        """The refusal names the file (`rejected` lists it): other files may still go through.
        Any other refusal is about the request itself (a field, the key, a limit)."""
        return isinstance(self.body, dict) and bool(self.body.get("rejected"))


def error_of(response: httpx.Response) -> ApiError:
    """The API's `{"error": {"code", "message"}}`, or a stand-in for a body without it (a
    proxy's error page, say)."""
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        return ApiError(error["code"], str(error.get("message", "")), response.status_code, body)
    reason = response.reason_phrase or "error"
    return ApiError(f"http_{response.status_code}", reason, response.status_code, body)


def unreachable(config: Config, exc: httpx.TransportError) -> ApiError:
    detail = str(exc) or type(exc).__name__
    return ApiError("unreachable", f"cannot reach {config.url}: {detail}")


@dataclass
class Api:
    config: Config
    http: httpx.AsyncClient

    @classmethod
    def open(cls, config: Config) -> Api:
        headers = {"User-Agent": "soundscripter-cli"}
        if config.api_key:
            headers["Authorization"] = f"Bearer {config.api_key}"
        timeout = httpx.Timeout(config.timeout, read=config.timeout)
        http = httpx.AsyncClient(base_url=config.url, headers=headers, timeout=timeout)
        return cls(config, http)

    async def close(self) -> None:
        await self.http.aclose()

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self.http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise unreachable(self.config, exc) from exc
        if response.is_error:
            raise error_of(response)
        return response

    async def upload(self, form: MultipartUpload, sent: Callable[[int], None]) -> Job:
        """One file's upload; the accepted job, or `ApiError` for a refusal."""
        headers = {"Content-Type": form.content_type, "Content-Length": str(form.length())}
        # The read timeout covers the wait for the answer too: probing a long file takes time.
        response = await self.request(
            "POST", "/api/transcriptions", content=form.body(sent), headers=headers
        )
        result = response.json()
        if result.get("items"):
            return dict(result["items"][0])
        rejected = result.get("rejected") or [{}]
        error = rejected[0].get("error") or {"code": "rejected", "message": "refused"}
        raise ApiError(error["code"], error.get("message", ""), response.status_code, result)

    async def job(self, job_id: str) -> Job:
        return dict((await self.request("GET", f"/api/transcriptions/{job_id}")).json())

    async def jobs(self, params: dict[str, str | int]) -> dict[str, Any]:
        return dict((await self.request("GET", "/api/transcriptions", params=params)).json())

    async def transcript(self, job_id: str, fmt: str) -> bytes:
        path = f"/api/transcriptions/{job_id}/transcript"
        return (await self.request("GET", path, params={"format": fmt})).content

    async def change(self, job_id: str, action: str) -> Job | None:
        """`cancel` or `retry` (the job as it is now), or `delete` (nothing)."""
        if action == "delete":
            await self.request("DELETE", f"/api/transcriptions/{job_id}")
            return None
        response = await self.request("POST", f"/api/transcriptions/{job_id}/{action}")
        return dict(response.json())
