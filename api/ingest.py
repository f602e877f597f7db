"""The upload use-case: receive the files, read the options, probe, reject, create, enqueue.

Files stream into local partial files while the form is read (`api.uploads`); each is probed
there in a probe process. A file that is not usable media is rejected on its own with its
error; the good files of the same request are stored under their keys (moved into place, or
uploaded to the object store), committed as queued jobs and published to the broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from api import publishing
from api.access.keys import Principal
from api.access.limits import check_queue_room, reserve_queue_room
from api.metrics import UPLOADS
from api.resources import Resources
from api.schemas import Rejection
from api.uploads import ReceivedFile, ReceivedForm, receive_form
from core import dedup, lifecycle, media, model_catalog, webhooks
from core.errors import InvalidRequest, MediaError, StorageUnavailable
from core.events import ErrorOut, state_event
from core.models import Transcription
from core.options import FORM_FIELDS, JobOptions, UploadChoices, parse_choices, parse_form
from core.settings import Settings
from core.storage import Storage
from core.workers import PoolView

PROBE_PARALLELISM = 4
_MEDIA_TYPE = re.compile(r"(audio|video)/[a-z0-9.+-]{1,100}")

Probed = tuple[ReceivedFile, media.ProbeResult]
OptionsReader = Callable[[ReceivedForm, PoolView, Settings], JobOptions]


def native_options(form: ReceivedForm, pools: PoolView, settings: Settings) -> JobOptions:
    """The options of `POST /api/transcriptions`: the models offered now, the first the
    default; what the chosen model cannot do is refused."""
    offered = pools.offered(settings)
    multilingual = {m: model_catalog.multilingual(m, pools.multilingual.get(m)) for m in offered}
    return parse_form(form.fields, models=offered, multilingual=multilingual)


@dataclass(frozen=True)
class UploadForm:
    """How a request's form is read: the field its files come in, its text fields, how many
    files one request may send (None: MAX_FILES_PER_REQUEST), and how the text fields become
    the job's options (read before any file is probed, so a bad field costs no probe)."""

    file_field: str = "files"
    field_names: frozenset[str] = FORM_FIELDS
    read_options: OptionsReader = native_options
    max_files: int | None = None


NATIVE_FORM = UploadForm()


@dataclass
class Ingested:
    jobs: list[Transcription] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    first_error: MediaError | None = None
    """The first rejection's error: the answer when no file was accepted."""
    pools: PoolView | None = None
    """The live workers when the form was read (models offered, waiting_for_worker)."""
    form: ReceivedForm = field(default_factory=ReceivedForm)
    """The request's form (its text fields, for a caller with fields of its own)."""


async def ingest(
    request: Request,
    resources: Resources,
    storage: Storage,
    principal: Principal,
    spec: UploadForm = NATIVE_FORM,
) -> Ingested:
    """Receive an upload request into `storage`; every accepted file becomes a committed,
    enqueued job."""
    settings = resources.settings
    form = await receive_form(
        request,
        storage,
        max_file_bytes=settings.max_upload_bytes,
        max_files=spec.max_files or settings.max_files_per_request,
        field_names=spec.field_names,
        file_field=spec.file_field,
    )
    try:
        if not form.files:
            raise InvalidRequest(
                f"Send at least one file in the field {spec.file_field!r}.", code="no_files"
            )
        pools = await run_in_threadpool(resources.workers.view)
        options = spec.read_options(form, pools, settings)
        choices = await run_in_threadpool(_read_choices, settings, form.fields, principal)
        await check_queue_room(
            resources.db, principal, settings.max_queued_jobs_per_key, len(form.files)
        )
        probes = await _probe_all(resources, form.files)
    except BaseException:
        form.discard()
        raise
    result = Ingested(pools=pools, form=form)
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
            _store_jobs, resources, storage, accepted, options, principal, choices
        )
        UPLOADS.labels("accepted").inc(len(result.jobs))
        reused = [job for job in result.jobs if job.reused_from]
        await publishing.publish(resources, (state_event(job) for job in reused))
        await publishing.enqueue_jobs(resources, [j for j in result.jobs if not j.reused_from])
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


def _read_choices(
    settings: Settings, fields: dict[str, str], principal: Principal
) -> UploadChoices:
    """The upload's `callback_url` (checked: it resolves to public addresses or is allowed)
    resolved to the job's webhook URL (else the owner's default), `dedup`, and `priority`
    (else the owner's default: API_KEY_PRIORITIES)."""
    choices = parse_choices(fields)
    if choices.callback_url:
        webhooks.check_target(settings, choices.callback_url)
    url = webhooks.target_for(settings, choices.callback_url, principal.stamp)
    priority = choices.priority or settings.default_priority(principal.stamp)
    return choices.model_copy(update={"callback_url": url, "priority": priority})


def _new_job(
    item: ReceivedFile,
    probe: media.ProbeResult,
    options: JobOptions,
    owner: str | None,
    choices: UploadChoices,
) -> Transcription:
    return Transcription(
        **options.model_dump(),
        owner=owner,
        webhook_url=choices.callback_url,
        priority=choices.priority or "normal",
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
    choices: UploadChoices,
) -> list[Transcription]:
    """Store the files under their keys, then commit their jobs. If storing or the commit
    fails, nothing of the request stays: the files stored so far are removed again (or, with
    the store down, left as orphans for the sweeper), every partial file is discarded, and the
    error answers the whole request (`storage_unavailable`: every file would meet the same
    store). A file identical to a completed transcription of its owner is completed from it
    (`core.dedup`) unless the upload says `dedup=false`."""
    stored: list[str] = []
    try:
        for item, _ in accepted:
            stored.append(item.upload.commit())
        with resources.db.session() as session:
            reserve_queue_room(
                session, principal, resources.settings.max_queued_jobs_per_key, len(accepted)
            )
            owner = principal.stamp
            jobs = [_new_job(item, probe, options, owner, choices) for item, probe in accepted]
            for job in jobs:
                source = choices.dedup and dedup.find_reusable(session, owner, job.sha256, options)
                if source:
                    dedup.complete_from(session, job, source)
                else:
                    lifecycle.create(session, job)
    except BaseException:
        for item, _ in accepted:
            item.upload.discard()
        for key in stored:
            with contextlib.suppress(StorageUnavailable):
                storage.delete(key)
        raise
    return jobs
