"""OpenAI's error shape, for every answer under `/v1`.

OpenAI's SDKs read `{"error": {"message", "type", "param", "code"}}` and choose the exception
by the status: 400 BadRequestError, 401 AuthenticationError, 403 PermissionDeniedError,
404 NotFoundError, 409 ConflictError, 429 RateLimitError, 5xx InternalServerError. The rest
of the API keeps its own shape, `{"error": {"code", "message"}}`; under `/v1` the same errors
are reshaped here: a request the native API refuses with 415 or 422 is a 400 (as OpenAI
answers it), `type` is named after the status, and `param` names the form field at fault
where it is known.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import JSONResponse
from starlette.responses import Response

from core.errors import DomainError

PREFIX = "/v1"

STATUS = {415: 400, 422: 400}
"""Native statuses that OpenAI's API answers as another status."""

CODES = {"unauthorized": "invalid_api_key"}
"""Native codes OpenAI names otherwise."""

PARAMS = {
    "invalid_model": "model",
    "invalid_language": "language",
    "no_files": "file",
    "too_many_files": "file",
    "file_too_large": "file",
    "unknown_field": None,
}
"""The form field an error of a native code is about."""

_HEADERS_REBUILT = frozenset({"content-length", "content-type"})


def applies(path: str) -> bool:
    """Whether a request path is under OpenAI's contract."""
    return path == PREFIX or path.startswith(PREFIX + "/")


def error_type(status: int) -> str:
    if status == 401:
        return "authentication_error"
    if status == 403:
        return "permission_error"
    if status == 429:
        return "rate_limit_error"
    if status >= 500:
        return "server_error"
    return "invalid_request_error"


def openai_body(
    status: int, code: str, message: str, param: str | None = None, **extra: Any
) -> dict[str, Any]:
    error = {"message": message, "type": error_type(status), "param": param, "code": code}
    return {"error": {**error, **extra}}


class OpenAIRequestError(DomainError):
    """A form field OpenAI's contract refuses: a 400 naming the field (`param`)."""

    code = "invalid_value"
    status_code = 400

    def __init__(self, message: str, *, param: str | None, code: str | None = None):
        super().__init__(message, code=code)
        self.param = param


def reshape(
    status: int, native: dict[str, Any], param: str | None = None
) -> tuple[int, dict[str, Any]]:
    """A native error body (and its status) in OpenAI's shape."""
    found = native.get("error")
    error: dict[str, Any] = found if isinstance(found, dict) else {}
    code = str(error.get("code") or "error")
    if param is None:
        param = PARAMS.get(code) or _validated_field(native)
    status = STATUS.get(status, status)
    message = str(error.get("message") or "The request failed.")
    return status, openai_body(status, CODES.get(code, code), message, param)


def _validated_field(native: dict[str, Any]) -> str | None:
    details = native.get("details")
    if isinstance(details, list) and details and isinstance(details[0], dict):
        field = str(details[0].get("field") or "")
        return field.rsplit(".", 1)[-1] or None
    return None


def reshape_response(response: Response, exc: Exception) -> Response:
    """An error response of the native handlers, reshaped (its other headers kept)."""
    try:
        native = json.loads(bytes(response.body))
    except ValueError:
        return response
    if not isinstance(native, dict):
        return response
    status, body = reshape(response.status_code, native, getattr(exc, "param", None))
    headers = {k: v for k, v in response.headers.items() if k.lower() not in _HEADERS_REBUILT}
    return JSONResponse(body, status_code=status, headers=headers)
