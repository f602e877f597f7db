"""`python -m bench`: run the benchmarks and write docs/benchmarks.md.

    python -m bench                 # everything, full size (about an hour on 2 cores)
    python -m bench --quick         # smaller sizes and single runs, for a first look
    python -m bench --smoke         # tiny sizes: checks that the harness works (under a minute)
    python -m bench --only memory   # some benchmarks (overhead throughput latency ingest
                                    #   sse search memory openai hosts storage models
                                    #   scheduling splitting)

Only a full run of every benchmark writes docs/benchmarks.md; other runs write their report
under bench/results/ unless --output says where.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

from bench.context import RESULTS, ROOT, SCALES, prepare

NAMES = (
    "overhead",
    "throughput",
    "latency",
    "ingest",
    "sse",
    "search",
    "memory",
    "openai",
    "hosts",
    "storage",
    "diarization",
    "models",
    "allocator",
    "scheduling",
    "splitting",
)
DOCUMENT = ROOT / "docs" / "benchmarks.md"

logger = logging.getLogger("bench")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smaller sizes, single runs")
    size.add_argument("--smoke", action="store_true", help="tiny sizes (harness check)")
    parser.add_argument("--only", nargs="+", choices=NAMES, metavar="NAME", help="run these")
    parser.add_argument("--output", type=Path, help="where to write the Markdown report")
    parser.add_argument("--keep", action="store_true", help="keep the run's folder (logs)")
    return parser.parse_args(argv)


def _output(args: argparse.Namespace, scale: str) -> Path:
    if args.output:
        return Path(args.output)
    if scale == "full" and not args.only:
        return DOCUMENT
    suffix = "-".join([scale, *(args.only or [])])
    return RESULTS / f"benchmarks-{suffix}.md"


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    # Stopped by SIGTERM or SIGINT (even as a background job), the run still stops its
    # processes and drops its database on the way out.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    scale = "smoke" if args.smoke else "quick" if args.quick else "full"
    context = prepare(SCALES[scale], keep=args.keep)
    # Project modules read their settings only now, after `prepare` set the environment.
    from bench.runner import run_all

    try:
        outcome = run_all(context, list(args.only or NAMES))
    finally:
        context.close()
    target = _output(args, scale)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(outcome.document)
    logger.info(
        "report written to %s", target.relative_to(ROOT) if target.is_relative_to(ROOT) else target
    )
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
