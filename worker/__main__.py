"""`python -m worker [--node NAME] [--concurrency N]`: run a Celery worker with the configured
pool, consuming the queues of the models it serves (`WORKER_MODELS`)."""

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

    from core.settings import Settings

    if Settings().worker_malloc_tuning:  # before any thread starts (worker/allocator.py)
        from worker import allocator

        allocator.tune()

    from core.queue import model_queue_name
    from worker.app import celery_app, settings

    queues = [model_queue_name(settings, model) for model in settings.models_served()]

    celery_app.worker_main(
        [
            "worker",
            f"--loglevel={settings.log_level}",
            "--pool=prefork",
            f"--concurrency={settings.worker_concurrency}",
            # Only the queues of the models this group serves (WORKER_MODELS).
            f"--queues={','.join(queues)}",
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
