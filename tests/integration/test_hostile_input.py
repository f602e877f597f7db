"""Hostile input against a real API and worker: a corpus of bad media made here, file names
built to break paths and headers, malformed form fields, and an upload without Content-Length.

Every item must get a clear 4xx or end as a `failed` job with a reason, nothing outside the
storage folder may be read (a secret file's access time and a listening socket tell), and the
worker must keep serving.
"""

from __future__ import annotations

import os
import random
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import media
from tests.support.private import PrivatePlatform, private_platform

pytestmark = pytest.mark.integration

MAX_DURATION = 1800
TERMINAL = {"completed", "failed", "cancelled"}


@pytest.fixture(scope="module")
def hostile(migrated_db: str, run_dir: Path) -> Iterator[PrivatePlatform]:
    with private_platform(
        run_dir / "hostile",
        MAX_DURATION_SECONDS=str(MAX_DURATION),
        MAX_UPLOAD_MB="64",
        PROBE_TIMEOUT_SECONDS="20",
    ) as platform:
        yield platform


@pytest.fixture(scope="module")
def secret(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A recording outside storage that nothing may read; its access time is set in the past."""
    folder = tmp_path_factory.mktemp("outside-storage")
    path = media.speech("The secret password is swordfish.", folder, name="secret")
    stat = path.stat()
    os.utime(path, (stat.st_mtime - 3 * 86400, stat.st_mtime))
    return path


class Canary:
    """A listening socket that counts connections (a playlist pointing at the network)."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        self.server.close()


def wav_claiming_one_minute(path: Path, hours: float = 10, rate: int = 1000) -> Path:
    """An 8-bit mono WAV whose header says 60 s of data while the file holds `hours` of it."""
    claimed = 60 * rate
    actual = int(hours * 3600 * rate)
    header = b"RIFF" + struct.pack("<I", 36 + claimed) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate, 1, 8)
    header += b"data" + struct.pack("<I", claimed)
    rng = random.Random(7)
    block = bytes(128 + rng.randint(-20, 20) for _ in range(1 << 16))
    with path.open("wb") as out:
        out.write(header)
        written = 0
        while written < actual:
            chunk = block[: min(len(block), actual - written)]
            out.write(chunk)
            written += len(chunk)
    return path


def silent_hour(path: Path, rate: int = 1000) -> Path:
    """An honest 8-bit mono WAV of one hour of silence (3.6 MB at 1 kHz)."""
    size = 3600 * rate
    header = b"RIFF" + struct.pack("<I", 36 + size) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate, 1, 8)
    header += b"data" + struct.pack("<I", size)
    path.write_bytes(header + b"\x80" * size)
    return path


@pytest.fixture(scope="module")
def corpus(
    tmp_path_factory: pytest.TempPathFactory, secret: Path, speech_file: Any
) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile-media")
    speech = speech_file("A perfectly ordinary recording.", name="ordinary")
    full = media.video(speech, folder / "full.mp4")
    rng = random.Random(42)
    files = {
        "zero-bytes.wav": b"",
        "random-bytes.mp3": bytes(rng.getrandbits(8) for _ in range(200_000)),
        "truncated.mp4": full.read_bytes()[: full.stat().st_size // 3],
        "text-as-audio.wav": b"This is a shopping list, not audio.\n" * 500,
        "playlist.m3u8": f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n{secret}\n"
        "#EXT-X-ENDLIST\n".encode(),
        "local.ffconcat": f"ffconcat version 1.0\nfile '{secret}'\n".encode(),
        "plain-list.m3u": f"{secret}\n".encode(),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = folder / name
        paths[name].write_bytes(data)
    paths["wav-named.mp3"] = folder / "wav-named.mp3"
    paths["wav-named.mp3"].write_bytes(speech.read_bytes())
    paths["header-says-1-minute.wav"] = wav_claiming_one_minute(folder / "header.wav")
    paths["silent-hour.wav"] = silent_hour(folder / "silent-hour.wav")
    return paths


def _send(platform: PrivatePlatform, name: str, data: bytes) -> httpx.Response:
    with platform.client(timeout=120) as client:
        return client.post("/api/transcriptions", files=[("files", (name, data))])


def _settle(
    platform: PrivatePlatform, response: httpx.Response
) -> tuple[tuple[str, str], dict[str, Any] | None]:
    """((outcome, code or text), job): the rejection, or the job's final state."""
    if 400 <= response.status_code < 500:
        body = response.json()
        assert body["error"]["code"]
        assert body["error"]["message"]
        return ("rejected", body["error"]["code"]), None
    assert response.status_code == 202, response.text
    body = response.json()
    if body["rejected"]:
        return ("rejected", body["rejected"][0]["error"]["code"]), None
    job = platform.wait_status(body["items"][0]["id"], TERMINAL, timeout=240)
    if job["status"] == "failed":
        assert job["error"]["message"]
        return ("failed", job["error"]["code"]), job
    return (job["status"], job.get("text") or ""), job


def test_hostile_media_corpus(
    hostile: PrivatePlatform, corpus: dict[str, Path], secret: Path
) -> None:
    canary = Canary()
    network = f"#EXTM3U\n#EXTINF:10,\nhttp://127.0.0.1:{canary.port}/audio.wav\n#EXT-X-ENDLIST\n"
    atime = secret.stat().st_atime
    outcomes: dict[str, tuple[str, str]] = {}
    jobs: dict[str, dict[str, Any] | None] = {}
    try:
        for name, path in corpus.items():
            outcomes[name], jobs[name] = _settle(hostile, _send(hostile, name, path.read_bytes()))
        outcomes["network.m3u8"], _ = _settle(
            hostile, _send(hostile, "network.m3u8", network.encode())
        )
    finally:
        canary.close()
    print("hostile corpus:", outcomes)

    expected_rejections = {
        "zero-bytes.wav": {"empty_file"},
        "random-bytes.mp3": {"unsupported_media", "undecodable_audio"},
        "truncated.mp4": {"unsupported_media", "undecodable_audio"},
        "text-as-audio.wav": {"unsupported_media"},
        "playlist.m3u8": {"unsupported_media"},
        "local.ffconcat": {"unsupported_media"},
        "plain-list.m3u": {"unsupported_media"},
        "network.m3u8": {"unsupported_media"},
        "silent-hour.wav": {"duration_exceeded"},
    }
    for name, codes in expected_rejections.items():
        assert outcomes[name][0] == "rejected", (name, outcomes[name])
        assert outcomes[name][1] in codes, (name, outcomes[name])
    # A real recording with the wrong extension is read by its content.
    assert outcomes["wav-named.mp3"][0] == "completed"
    # The WAV header's 60 s bound what is read: the 10 hours after it are never decoded.
    header_job = jobs["header-says-1-minute.wav"]
    if header_job is None:
        assert outcomes["header-says-1-minute.wav"] == ("rejected", "duration_exceeded")
    else:
        assert header_job["duration_seconds"] <= 61
        assert all(s["end"] <= 61 for s in header_job["segments"])

    assert canary.connections == 0
    assert secret.stat().st_atime == atime, "a playlist made the server read a file outside storage"
    assert not any("swordfish" in text.lower() for _, text in outcomes.values())
    _assert_still_serving(hostile)


def _assert_still_serving(platform: PrivatePlatform) -> None:
    worker = platform.processes["worker"]
    assert worker.popen is not None
    assert worker.popen.poll() is None
    clip = media.speech("The worker is still healthy.", platform.workdir, name="healthy")
    outcome, _ = _settle(platform, _send(platform, "healthy.wav", clip.read_bytes()))
    assert outcome[0] == "completed", outcome


HOSTILE_NAMES = {
    "../../etc/passwd.wav": "passwd.wav",
    "..\\..\\windows\\system32\\evil.wav": "evil.wav",
    "/absolute/path/clip.wav": "clip.wav",
    "..": "upload",
    "bell\x07and\x1bescape\x7f.wav": "bellandescape.wav",
    "new\r\nline: injected.wav": "newline: injected.wav",
    'quote"semi;colon.wav': 'quote"semi;colon.wav',
    "\u202eevil\u202dfile\u200b.wav": None,
    "e\u0301cole\U0001f3b5.wav": "\u00e9cole\U0001f3b5.wav",
    "x" * 1000 + ".wav": "x" * 251 + ".wav",
}


def _raw_upload(platform: PrivatePlatform, filename: bytes, data: bytes) -> httpx.Response:
    """A multipart body written by hand, so the file name reaches the server byte for byte."""
    boundary = b"hostileboundary"
    body = (
        b"--" + boundary + b"\r\n"
        b'Content-Disposition: form-data; name="files"; filename="' + filename + b'"\r\n'
        b"Content-Type: audio/wav\r\n\r\n" + data + b"\r\n--" + boundary + b"--\r\n"
    )
    with platform.client() as client:
        return client.post(
            "/api/transcriptions",
            content=body,
            headers={"Content-Type": "multipart/form-data; boundary=hostileboundary"},
        )


def test_hostile_file_names_are_stored_and_shown_safely(
    hostile: PrivatePlatform,
    speech_file: Any,
) -> None:
    clip = speech_file("Names cannot hurt.", name="names").read_bytes()
    storage = Path(hostile.env["STORAGE_DIR"]).resolve()
    for raw, expected in HOSTILE_NAMES.items():
        encoded = raw.replace('"', "%22").replace("\r", "").replace("\n", "").encode()
        response = _raw_upload(hostile, encoded, clip)
        assert response.status_code == 202, (raw, response.text)
        item = response.json()["items"][0]
        name = item["filename"]
        assert "/" not in name
        assert "\\" not in name
        assert name not in {".", ".."}
        assert len(name) <= 255
        assert not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in name)
        if expected is not None:
            assert name == expected.replace('"', "%22") or name == expected, (raw, name)
        with hostile.client() as client:
            audio = client.get(f"/api/transcriptions/{item['id']}/audio")
            transcript = client.get(f"/api/transcriptions/{item['id']}/transcript")
        for response in (audio, transcript):
            disposition = response.headers["content-disposition"]
            assert "\r" not in disposition
            assert "\n" not in disposition
            assert disposition.isascii()
            assert "filename*=UTF-8''" in disposition
    stored = [p.resolve() for p in storage.rglob("*") if p.is_file()]
    assert stored
    assert all(p.is_relative_to(storage) for p in stored)
    assert all(len(p.name) == 32 for p in stored if p.parent.parent.name == "media")


def test_malformed_fields_and_bodies_get_4xx(hostile: PrivatePlatform, speech_file: Any) -> None:
    clip = speech_file("Fields are checked.", name="fields").read_bytes()
    file_part = [("files", ("f.wav", clip))]
    with hostile.client() as client:
        cases: list[tuple[str, httpx.Response]] = [
            ("json body", client.post("/api/transcriptions", json={"files": ["x"]})),
            (
                "broken json",
                client.post(
                    "/api/transcriptions",
                    content=b'{"files": [',
                    headers={"Content-Type": "application/json"},
                ),
            ),
            (
                "no boundary",
                client.post(
                    "/api/transcriptions",
                    content=b"--x\r\n",
                    headers={"Content-Type": "multipart/form-data"},
                ),
            ),
            (
                "garbage multipart",
                client.post(
                    "/api/transcriptions",
                    content=b"\x00\xff" * 100,
                    headers={"Content-Type": "multipart/form-data; boundary=zz"},
                ),
            ),
            (
                "bad bool",
                client.post("/api/transcriptions", files=file_part, data={"vad": "maybe"}),
            ),
            (
                "bad task",
                client.post("/api/transcriptions", files=file_part, data={"task": "\x00"}),
            ),
            (
                "bad language",
                client.post("/api/transcriptions", files=file_part, data={"language": "e\nn"}),
            ),
            (
                "long prompt",
                client.post(
                    "/api/transcriptions", files=file_part, data={"initial_prompt": "x" * 70000}
                ),
            ),
            (
                "bad model",
                client.post("/api/transcriptions", files=file_part, data={"model": "../../x"}),
            ),
            ("wrong field", client.post("/api/transcriptions", files=[("file", ("f.wav", clip))])),
            ("bad limit", client.get("/api/transcriptions", params={"limit": "abc"})),
            ("bad cursor", client.get("/api/transcriptions", params={"cursor": "\u00ff" * 10})),
            ("bad status", client.get("/api/transcriptions", params={"status": "x" * 150})),
            ("bad id", client.get("/api/transcriptions/..%2F..%2Fetc")),
            ("bad format", client.get(f"/api/transcriptions/{'0' * 32}/transcript?format=exe")),
        ]
        invalid_utf8 = (
            b'--b\r\nContent-Disposition: form-data; name="language"\r\n\r\n\xff\xfe\r\n--b--\r\n'
        )
        cases.append(
            (
                "invalid utf-8 field",
                client.post(
                    "/api/transcriptions",
                    content=invalid_utf8,
                    headers={"Content-Type": "multipart/form-data; boundary=b"},
                ),
            )
        )
    for label, response in cases:
        assert 400 <= response.status_code < 500, (label, response.status_code, response.text)
        assert response.json()["error"]["code"], label


def test_size_limit_holds_without_content_length(hostile: PrivatePlatform) -> None:
    storage = Path(hostile.env["STORAGE_DIR"])
    before = {p for p in storage.rglob("*") if p.is_file()}
    sent = 0

    def body() -> Iterator[bytes]:
        nonlocal sent
        yield b'--b\r\nContent-Disposition: form-data; name="files"; filename="big.wav"\r\n\r\n'
        chunk = b"\0" * (1 << 20)
        for _ in range(200):  # 200 MiB, past the 64 MiB limit
            sent += len(chunk)
            yield chunk
        yield b"\r\n--b--\r\n"

    with hostile.client() as client:
        response = client.post(
            "/api/transcriptions",
            content=body(),
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        )
    # The body went past the 64 MiB limit with no Content-Length to go by; the limit was
    # found by counting, and the client is told so.
    assert sent > 64 << 20
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_large"
    after = {p for p in storage.rglob("*") if p.is_file()}
    assert after == before, "a partial upload was left in storage"
