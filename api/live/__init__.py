"""Live progress over Server-Sent Events.

One `EventHub` per API process holds a single Redis pattern subscription and fans each job
event out to the streams following that job. A stream subscribes before it reads its snapshot
from Postgres, then relays live events, dropping those its snapshot already covered (by `seq`)
and repairing any gap from Postgres. `docs/live-progress.md` explains the whole design.
"""

from api.live.hub import EventHub
from api.live.options import LiveOptions

__all__ = ["EventHub", "LiveOptions"]
