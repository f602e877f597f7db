"""Everything one API app owns, built from its settings by `create_app`.

Construction connects to nothing (engines, clients and pools connect on first use), so the app
can be built without any service, e.g. to export its OpenAPI schema. `start`/`close` run in the
app's lifespan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from api.access.keys import KeyTable
from api.access.limits import UploadSlots
from api.access.session_tokens import SessionSigner
from api.live.catchup import CatchUpReader
from api.live.hub import EventHub, read_last_seqs
from api.live.options import LiveOptions
from core.db import Database
from core.events import EventPublisher
from core.media import ProbePool
from core.queue import JobQueue
from core.settings import Settings
from core.storage import Storage


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
    live: LiveOptions = field(default_factory=LiveOptions)

    @classmethod
    def build(cls, settings: Settings) -> Resources:
        db = Database.from_url(settings.database_url)
        live = LiveOptions.from_settings(settings)
        return cls(
            settings=settings,
            db=db,
            storage=Storage(settings.storage_dir),
            publisher=EventPublisher(settings.redis_url, settings.redis_prefix),
            jobs=JobQueue(settings),
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
            live=live,
        )

    async def start(self) -> None:
        await self.hub.start()

    async def close(self) -> None:
        await self.hub.stop()
        self.probes.close()
        self.publisher.close()
        self.jobs.close()
        self.db.dispose()
