"""Everything one API app owns, built from its settings by `create_app`.

Construction connects to nothing (engines, clients and pools connect on first use), so the app
can be built without any service, e.g. to export its OpenAPI schema. `start`/`close` run in the
app's lifespan.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import partial

import anyio

from api.access.keys import KeyTable
from api.access.limits import UploadSlots
from api.access.session_tokens import SessionSigner
from api.live.catchup import CatchUpReader
from api.live.hub import EventHub, read_last_seqs
from api.live.options import LiveOptions
from core.db import Database
from core.dispatch_loop import Dispatcher
from core.errors import StorageUnavailable
from core.events import EventPublisher
from core.media import ProbePool
from core.orphans import OrphanScan
from core.queue import JobQueue
from core.settings import Settings
from core.storage import Storage, build_storage
from core.workers import WorkerDirectory

logger = logging.getLogger(__name__)


@dataclass
class Resources:
    settings: Settings
    db: Database
    storage: Storage
    publisher: EventPublisher
    jobs: JobQueue
    probes: ProbePool
    hub: EventHub
    catch_ups: CatchUpReader
    keys: KeyTable
    signer: SessionSigner
    upload_slots: UploadSlots
    workers: WorkerDirectory
    dispatcher: Dispatcher
    live: LiveOptions = field(default_factory=LiveOptions)
    orphans: OrphanScan = field(default_factory=OrphanScan)

    @classmethod
    def build(cls, settings: Settings) -> Resources:
        db = Database.from_url(settings.database_url)
        live = LiveOptions.from_settings(settings)
        publisher = EventPublisher(settings.redis_url, settings.redis_prefix)
        jobs = JobQueue(settings)
        workers = WorkerDirectory(settings)
        return cls(
            settings=settings,
            db=db,
            storage=build_storage(settings),
            publisher=publisher,
            jobs=jobs,
            probes=ProbePool(),
            hub=EventHub(
                settings.redis_url,
                settings.redis_prefix,
                live,
                seq_reader=partial(read_last_seqs, db),
            ),
            catch_ups=CatchUpReader(db, live.catch_up_concurrency),
            keys=KeyTable.from_settings(settings),
            signer=SessionSigner.create(settings.session_secret, settings.session_ttl_seconds),
            upload_slots=UploadSlots(settings.max_concurrent_uploads_per_key),
            workers=workers,
            dispatcher=Dispatcher(settings, db, jobs, workers, publisher),
            live=live,
        )

    async def start(self) -> None:
        await self.hub.start()
        try:
            await anyio.to_thread.run_sync(self.storage.prepare)
        except StorageUnavailable as exc:  # uploads answer 503 until the store is back
            logger.warning("media store not ready at start: %s", exc.message)

    async def close(self) -> None:
        await self.hub.stop()
        self.probes.close()
        self.publisher.close()
        self.jobs.close()
        self.workers.close()
        self.storage.close()
        self.db.dispose()
