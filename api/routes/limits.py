"""What an upload may be, for the upload form: sizes, length, formats, files per request."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import SettingsDep
from api.schemas import UploadLimits
from core.media import ACCEPTED_EXTENSIONS

router = APIRouter(prefix="/api/limits", tags=["uploads"])


@router.get("", response_model=UploadLimits)
def upload_limits(settings: SettingsDep) -> UploadLimits:
    """The server's upload limits (MAX_UPLOAD_MB, MAX_DURATION_SECONDS,
    MAX_FILES_PER_REQUEST) and the formats it reads."""
    return UploadLimits(
        max_upload_bytes=settings.max_upload_bytes,
        max_duration_seconds=settings.max_duration_seconds,
        max_files_per_upload=settings.max_files_per_request,
        accepted_types=["audio/*", "video/*"],
        accepted_extensions=list(ACCEPTED_EXTENSIONS),
    )
