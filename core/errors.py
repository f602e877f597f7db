"""One error hierarchy: every expected failure has a machine code and an HTTP status."""

from __future__ import annotations


class DomainError(Exception):
    code = "error"
    status_code = 400

    def __init__(self, message: str, *, code: str | None = None, status_code: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class NotFound(DomainError):
    code = "not_found"
    status_code = 404


class Conflict(DomainError):
    code = "conflict"
    status_code = 409


class InvalidRequest(DomainError):
    code = "invalid_request"
    status_code = 422


class JobRefused(DomainError):
    """The job asks for what its model cannot do (it got past the upload's check, e.g. its
    model changed): the job fails with this code rather than run as something else."""

    code = "unsupported_option"
    status_code = 422


class PayloadTooLarge(DomainError):
    code = "file_too_large"
    status_code = 413


class Unauthorized(DomainError):
    code = "unauthorized"
    status_code = 401


class RateLimited(DomainError):
    code = "rate_limited"
    status_code = 429

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class MediaError(DomainError):
    """The media itself is unusable: the job (or upload) fails with this code."""

    code = "invalid_media"
    status_code = 415


class StorageUnavailable(DomainError):
    """The object store cannot be reached (or refuses our credentials): nothing was stored."""

    code = "storage_unavailable"
    status_code = 503
