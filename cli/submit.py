"""`submit`: upload files one after another, each with its bar, and with `--wait` follow
their jobs to the end on one event stream while the next files upload."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from cli.api import Api, ApiError, Job
from cli.display import Display
from cli.follow import Follower
from cli.formatting import error_line
from cli.multipart import MultipartUpload


@dataclass
class FileOutcome:
    path: Path
    job: Job | None = None
    error: ApiError | None = None
    sent_in_full: bool = False
    """The whole body went out (an interrupted upload may still have been accepted)."""
    end: str | None = None
    """The job's terminal status, once followed to the end."""

    @property
    def ok(self) -> bool:
        return self.error is None and self.job is not None and self.end in (None, "completed")


@dataclass
class Submission:
    """What happened to each file; read after an interruption too."""

    paths: list[Path]
    fields: dict[str, str]
    wait: bool
    outcomes: list[FileOutcome] = field(default_factory=list)
    stopped: ApiError | None = None
    """A refusal of the request itself (a field, the key, a limit): later files were not sent."""

    def accepted(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.job is not None]

    def exit_code(self) -> int:
        every_file = len(self.outcomes) == len(self.paths) and self.stopped is None
        return 0 if every_file and all(o.ok for o in self.outcomes) else 1

    async def run(self, api: Api, display: Display) -> None:
        follower = Follower(api, display.event, on_retry=lambda why: display.note(f"({why})"))
        following = asyncio.create_task(follower.run()) if self.wait else None
        try:
            for index, path in enumerate(self.paths):
                outcome = await self._upload(api, display, str(index), path)
                if outcome.job is not None:
                    follower.add(str(outcome.job["id"]))
                elif outcome.error is not None and not outcome.error.about_the_file:
                    self.stopped = outcome.error
                    break
            follower.seal()
            if following is not None:
                ends = await following
                for outcome in self.accepted():
                    outcome.end = ends.get(str(outcome.job["id"]) if outcome.job else "")
        finally:
            if following is not None and not following.done():
                following.cancel()
                await asyncio.gather(following, return_exceptions=True)

    async def _upload(self, api: Api, display: Display, key: str, path: Path) -> FileOutcome:
        outcome = FileOutcome(path)
        self.outcomes.append(outcome)
        form = MultipartUpload(path, self.fields)
        total = form.file_bytes

        def sent(done: int) -> None:
            outcome.sent_in_full = done >= total
            display.sent(key, done)

        display.uploading(key, path.name, total)
        try:
            outcome.job = await api.upload(form, sent)
        except ApiError as error:
            outcome.error = error
            display.refused(key, error)
        else:
            display.accepted(key, outcome.job, follow=self.wait)
        return outcome

    def summary(self) -> list[str]:
        """A line per file: its job id and how it ended (or why it was not accepted)."""
        lines = []
        for outcome in self.outcomes:
            if outcome.job is not None:
                status = outcome.end or str(outcome.job.get("status", "queued"))
                lines.append(f"{outcome.job['id']}  {status:<10} {outcome.path.name}")
            elif outcome.error is not None:
                lines.append(f"{'-':<36}  {'refused':<10} {outcome.path.name}")
        return lines

    def interrupted(self) -> list[str]:
        """What Ctrl+C left: accepted jobs go on in the service; the rest was not sent."""
        lines = ["interrupted: uploads stopped."]
        jobs = [str(o.job["id"]) for o in self.accepted() if o.job and o.end is None]
        if jobs:
            lines.append(
                f"{len(jobs)} accepted job(s) go on in the service: {' '.join(jobs)}"
                f" (follow them with `soundscripter watch {' '.join(jobs)}`)"
            )
        for outcome in self.outcomes:
            if outcome.job is None and outcome.error is None and outcome.sent_in_full:
                lines.append(
                    f"{outcome.path.name} was sent in full before the interruption: the service "
                    "may have accepted it (see `soundscripter list`)."
                )
        answered_or_sent = [o for o in self.outcomes if o.job or o.error or o.sent_in_full]
        unsent = len(self.paths) - len(answered_or_sent)
        if unsent:
            lines.append(f"{unsent} file(s) not uploaded.")
        return lines


NEWER_FIELDS = {"speakers": "--speakers", "priority": "--priority"}
"""Upload fields that only newer services take: a service that does not know them says
`unknown_field`, and the client says which option that was."""


def refused_lines(submission: Submission) -> list[str]:
    """The refusal that stopped the uploads, and which option caused it when that is clear."""
    error = submission.stopped
    if error is None:
        return []
    lines = [error_line(error)]
    if error.code == "unknown_field":
        named = [flag for name, flag in NEWER_FIELDS.items() if f"'{name}'" in error.message]
        if named and named[0].lstrip("-") in submission.fields:
            lines.append(f"this service does not take {named[0]} yet; submit without it.")
    return lines
