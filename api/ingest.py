"""The upload use-case: receive the files, read the options, probe, reject, create, enqueue.

Files stream into storage while the form is read (`api.uploads`); each is probed in a probe
process. A file that is not usable media is rejected on its own with its error; the good
files of the same request are committed as queued jobs and published to the broker.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from api import publishing
from api.access.keys import Principal
from api.access.limits import check_queue_room, reserve_queue_room
from api.metrics import UPLOADS
from api.resources import Resources
from api.schemas import Rejection
from api.uploads import ReceivedFile, receive_form
from core import lifecycle, media
from core.errors import InvalidRequest, MediaError
from core.events import ErrorOut
from core.models import Transcription
from core.options import FORM_FIELDS, JobOptions, parse_form
from core.storage import Storage

PROBE_PARALLELISM = 4
_MEDIA_TYPE = re.compile(r"(audio|video)/[a-z0-9.+-]{1,100}")

Probed = tuple[ReceivedFile, media.ProbeResult]


@dataclass
class Ingested:
    jobs: list[Transcription] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    first_error: MediaError | None = None
    """The first rejection's error: the answer when no file was accepted."""


async def ingest(
    request: Request, resources: Resources, storage: Storage, principal: Principal
) -> Ingested:
    """Receive an upload request into `storage`; every accepted file becomes a committed,
    enqueued job."""
    settings = resources.settings
    form = await receive_form(
        request,
        storage,
        max_file_bytes=settings.max_upload_bytes,
        max_files=settings.max_files_per_request,
        field_names=FORM_FIELDS,
    )
    try:
        if not form.files:
            raise InvalidRequest("Send at least one file in the field 'files'.", code="no_files")
        options = parse_form(form.fields, models=settings.models_allowed())
        await check_queue_room(
            resources.db, principal, settings.max_queued_jobs_per_key, len(form.files)
        )
        probes = await _probe_all(resources, form.files)
    except BaseException:
        form.discard()
        raise
    result = Ingested()
    accepted: list[Probed] = []
    for item, probe in zip(form.files, probes, strict=True):
        if isinstance(probe, MediaError):
            item.upload.discard()
            result.first_error = result.first_error or probe
            result.rejected.append(
                Rejection(filename=item.filename, error=ErrorOut(**probe.to_dict()))
            )
        else:
            accepted.append((item, probe))
    UPLOADS.labels("rejected").inc(len(result.rejected))
    if accepted:
        result.jobs = await run_in_threadpool(
            _store_jobs, resources, storage, accepted, options, principal
        )
        UPLOADS.labels("accepted").inc(len(result.jobs))
        await publishing.enqueue_jobs(resources, result.jobs)
    return result


async def _probe_all(
    resources: Resources, files: list[ReceivedFile]
) -> list[media.ProbeResult | MediaError]:
    limit = asyncio.Semaphore(PROBE_PARALLELISM)
    settings = resources.settings

    async def one(item: ReceivedFile) -> media.ProbeResult | MediaError:
        async with limit:
            await run_in_threadpool(item.upload.close)
            try:
                result = await run_in_threadpool(
                    resources.probes.probe, item.upload.temp_path, settings.probe_timeout_seconds
                )
                media.check_duration(result.duration_seconds, settings.max_duration_seconds)
            except MediaError as exc:
                return exc
            return result

    return list(await asyncio.gather(*(one(item) for item in files)))


def _content_type(declared: str | None, probe: media.ProbeResult) -> str:
    """The client's media type if it names audio or video, else the one the probe found."""
    if declared and _MEDIA_TYPE.fullmatch(declared.strip().lower()):
        return declared.strip().lower()
    return probe.mime


def _new_job(
    item: ReceivedFile, probe: media.ProbeResult, options: JobOptions, owner: str | None
) -> Transcription:
    return Transcription(
        **options.model_dump(),
        owner=owner,
        filename=item.filename,
        storage_key=item.upload.key,
        content_type=_content_type(item.content_type, probe),
        size_bytes=item.upload.size,
        sha256=item.upload.sha256,
        media_kind=probe.media_kind,
        duration_seconds=probe.duration_seconds,
    )


def _store_jobs(
    resources: Resources,
    storage: Storage,
    accepted: list[Probed],
    options: JobOptions,
    principal: Principal,
) -> list[Transcription]:
    """Move the files under their keys, then commit their jobs (or remove the files again)."""
    for item, _ in accepted:
        item.upload.commit()
    try:
        with resources.db.session() as session:
            reserve_queue_room(
                session, principal, resources.settings.max_queued_jobs_per_key, len(accepted)
            )
            jobs = [_new_job(item, probe, options, principal.stamp) for item, probe in accepted]
            for job in jobs:
                lifecycle.create(session, job)
    except BaseException:
        for item, _ in accepted:
            storage.delete(item.upload.key)
        raise
    return jobs
