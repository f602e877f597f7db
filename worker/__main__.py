"""`python -m worker [--node NAME] [--concurrency N]`: run a Celery worker with the configured
pool and queue."""

from __future__ import annotations

import argparse
import os
import socket
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m worker")
    parser.add_argument("--node", default=f"worker-{os.getpid()}", help="Celery node name")
    parser.add_argument(
        "--concurrency", type=int, default=None, help="pool processes (default WORKER_CONCURRENCY)"
    )
    args = parser.parse_args(argv)
    if args.concurrency is not None:
        # Settings derive each model's CPU threads from the number of pool processes.
        os.environ["WORKER_CONCURRENCY"] = str(args.concurrency)

    from worker.app import celery_app, settings

    celery_app.worker_main(
        [
            "worker",
            f"--loglevel={settings.log_level}",
            "--pool=prefork",
            f"--concurrency={settings.worker_concurrency}",
            f"--queues={settings.queue_name}",
            # The queue name keeps node names unique between instances sharing one broker.
            f"--hostname={args.node}.{settings.queue_name}@{socket.gethostname()}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
