"""The client's upload body, its displays and what a submission reports."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from python_multipart import parse_form
from rich.console import Console

from cli.api import ApiError
from cli.bars import BarDisplay
from cli.display import LineDisplay
from cli.follow import Follower
from cli.multipart import CHUNK_BYTES, MultipartUpload
from cli.submit import FileOutcome, Submission, refused_lines

pytestmark = pytest.mark.unit

JOB_ID = "3f2a1b2c-0000-4000-8000-000000000001"


def _collect(form: MultipartUpload) -> tuple[bytes, list[int]]:
    counts: list[int] = []

    async def read() -> bytes:
        return b"".join([chunk async for chunk in form.body(counts.append)])

    return asyncio.run(read()), counts


def test_the_body_is_a_form_the_apis_parser_reads(tmp_path: Path) -> None:
    audio = tmp_path / 'odd "name"\r\n.wav'
    payload = bytes(range(256)) * 1000 + b"\r\n--not-a-boundary\r\n"
    audio.write_bytes(payload)
    form = MultipartUpload(audio, {"language": "de", "model": "tiny.en"})
    body, _ = _collect(form)
    assert len(body) == form.length()

    fields: dict[str, bytes] = {}
    files: dict[str, tuple[bytes, bytes]] = {}
    parse_form(
        {"Content-Type": form.content_type.encode(), "Content-Length": str(len(body)).encode()},
        io.BytesIO(body),
        lambda field: fields.__setitem__(field.field_name.decode(), field.value),
        lambda file: files.__setitem__(
            file.field_name.decode(), (file.file_name, file.file_object.getvalue())
        ),
    )
    assert fields == {"language": b"de", "model": b"tiny.en"}
    name, content = files["files"]
    assert content == payload
    assert name == b"odd %22name%22%0D%0A.wav"


def test_fields_go_before_the_file(tmp_path: Path) -> None:
    """A refused field is answered before a byte of the file goes out."""
    audio = tmp_path / "a.wav"
    audio.write_bytes(b"x" * 10)
    body, _ = _collect(MultipartUpload(audio, {"speakers": "auto"}))
    assert body.index(b'name="speakers"') < body.index(b'name="files"')


def test_sent_counts_the_file_bytes_handed_on(tmp_path: Path) -> None:
    audio = tmp_path / "a.wav"
    audio.write_bytes(b"y" * (CHUNK_BYTES * 3 + 17))
    _, counts = _collect(MultipartUpload(audio))
    assert counts == [CHUNK_BYTES, CHUNK_BYTES * 2, CHUNK_BYTES * 3, CHUNK_BYTES * 3 + 17]


def test_sent_is_called_only_once_a_chunk_was_taken(tmp_path: Path) -> None:
    """The count moves when the connection asks for the next chunk, not when one is read."""
    audio = tmp_path / "a.wav"
    audio.write_bytes(b"z" * (CHUNK_BYTES * 2))
    counts: list[int] = []

    async def take_two() -> None:
        body = MultipartUpload(audio).body(counts.append)
        await anext(body)  # the head
        await anext(body)  # the first chunk, handed to the connection
        assert counts == []
        await anext(body)  # the connection asks for more: the first chunk went out
        assert counts == [CHUNK_BYTES]
        await body.aclose()

    asyncio.run(take_two())


# --- displays -----------------------------------------------------------------------------


def test_lines_say_one_thing_per_line() -> None:
    out = io.StringIO()
    with LineDisplay(out) as display:
        display.uploading("0", "a.wav", 234_200)
        display.sent("0", 100_000)
        display.accepted("0", {"id": JOB_ID, "status": "queued"}, follow=True)
        display.event(JOB_ID, "queued", {"progress": 0})
        display.event(JOB_ID, "completed", {"progress": 1, "language": "en"})
        display.uploading("1", "b.wav", 10)
        display.refused("1", ApiError("unsupported_media", "Not media."))
    assert out.getvalue().splitlines() == [
        "a.wav: uploading 234.2 kB",
        f"a.wav: accepted {JOB_ID}",
        "a.wav: queued 0%",
        "a.wav: completed 100% en",
        "b.wav: uploading 10 B",
        "b.wav: refused, error: unsupported_media: Not media.",
    ]


def test_bars_show_the_upload_then_the_transcription() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    with BarDisplay(console) as display:
        display.uploading("0", "a.wav", 2000)
        display.sent("0", 1000)
        display.accepted("0", {"id": JOB_ID, "status": "queued", "progress": 0}, follow=True)
        segment = {"start": 0, "end": 3, "text": "Hello there"}
        display.event(JOB_ID, "progress", {"progress": 0.5, "segment": segment})
        display.event(JOB_ID, "completed", {"progress": 1, "language": "en"})
        display.uploading("1", "bad.wav", 10)
        display.sent("1", 10)
        display.refused("1", ApiError("unsupported_media", "Not media."))
    screen = Console(file=io.StringIO(), record=True, width=120)
    screen.print(display.progress.get_renderable())
    final = screen.export_text().splitlines()
    assert final[0].split()[:4] == ["a.wav", "uploaded", "━" * 28, "100%"]
    assert final[0].split()[-1] == JOB_ID
    assert final[1].split()[2:] == ["completed", "━" * 28, "100%", "en"]
    assert final[2].split()[:5] == ["bad.wav", "refused", "━" * 28, "100%", "error:"]
    assert "unsupported_media" in final[2]
    assert all("━" in line for line in final)


# --- what a submission reports ------------------------------------------------------------


def _submission(*outcomes: FileOutcome, paths: int | None = None) -> Submission:
    names = [o.path for o in outcomes]
    names += [Path(f"more{i}.wav") for i in range((paths or len(names)) - len(names))]
    submission = Submission(names, {}, wait=True)
    submission.outcomes = list(outcomes)
    return submission


def test_exit_code_is_0_only_when_every_file_completed() -> None:
    done = FileOutcome(Path("a.wav"), job={"id": "1"}, end="completed")
    assert _submission(done).exit_code() == 0
    failed = FileOutcome(Path("b.wav"), job={"id": "2"}, end="failed")
    assert _submission(done, failed).exit_code() == 1
    refused = FileOutcome(Path("c.wav"), error=ApiError("unsupported_media", "x"))
    assert _submission(done, refused).exit_code() == 1
    assert _submission(done, paths=2).exit_code() == 1  # a file never sent


def test_an_interruption_names_the_jobs_that_go_on() -> None:
    accepted = FileOutcome(Path("a.wav"), job={"id": JOB_ID})
    cut = FileOutcome(Path("big.wav"))
    lines = _submission(accepted, cut, paths=3).interrupted()
    assert lines[0] == "interrupted: uploads stopped."
    assert f"1 accepted job(s) go on in the service: {JOB_ID}" in lines[1]
    assert f"soundscripter watch {JOB_ID}" in lines[1]
    assert lines[-1] == "2 file(s) not uploaded."


def test_an_interruption_after_the_whole_body_says_the_file_may_be_in() -> None:
    sent = FileOutcome(Path("big.wav"), sent_in_full=True)
    lines = _submission(sent).interrupted()
    assert any("big.wav was sent in full" in line for line in lines)
    assert not any("not uploaded" in line for line in lines)


def test_a_refused_newer_option_is_named() -> None:
    submission = _submission(paths=1)
    submission.fields = {"speakers": "auto"}
    submission.stopped = ApiError("unknown_field", "Unknown field 'speakers'; the fields are …")
    assert refused_lines(submission) == [
        "error: unknown_field: Unknown field 'speakers'; the fields are …",
        "this service does not take --speakers yet; submit without it.",
    ]


# --- following ----------------------------------------------------------------------------


def test_the_follower_passes_each_event_once_in_order() -> None:
    seen: list[tuple[str, str, int]] = []
    follower = Follower(
        None,  # type: ignore[arg-type]  # receiving needs no connection
        lambda job, kind, data: seen.append((job, kind, data["seq"])),
        on_retry=print,
    )
    follower.add(JOB_ID)
    follower._receive("queued", f'{{"id": "{JOB_ID}", "seq": 1}}')
    follower._receive("queued", f'{{"id": "{JOB_ID}", "seq": 1}}')  # again after a reconnect
    follower._receive("progress", f'{{"id": "{JOB_ID}", "seq": 3}}')
    follower._receive("progress", f'{{"id": "{JOB_ID}", "seq": 2}}')  # older than what we have
    follower._receive("progress", f'{{"id": "{JOB_ID}", "seq": 3}}')  # the same again
    follower._receive("queued", '{"id": "someone-else", "seq": 9}')
    # A catch-up: the segments, then the state, both at the job's seq.
    follower._receive("progress", f'{{"id": "{JOB_ID}", "seq": 5}}')
    follower._receive("completed", f'{{"id": "{JOB_ID}", "seq": 5}}')
    follower._receive("progress", f'{{"id": "{JOB_ID}", "seq": 6}}')  # after the end
    assert seen == [
        (JOB_ID, "queued", 1),
        (JOB_ID, "progress", 3),
        (JOB_ID, "progress", 5),
        (JOB_ID, "completed", 5),
    ]
    assert follower.finished == {JOB_ID: "completed"}
    assert follower._since([JOB_ID]) == f"{JOB_ID}:5"
