"""API keys against a real API process: authentication, owner scoping, sessions and limits."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.platform import ROOT, platform_env
from tests.support.private import PrivatePlatform, private_platform
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

ALICE = "alice-key-0123456789abcdef"
BOB = "bob-key-0123456789abcdef"
CAROL = "carol-key-0123456789abcdef"
ADMIN = "admin-key-0123456789abcdef"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def keyed(migrated_db: str, run_dir: Path) -> Iterator[PrivatePlatform]:
    """An API with three owners' keys and an admin key (no worker: jobs stay queued)."""
    with private_platform(
        run_dir / "access",
        workers=0,
        headers=bearer(ADMIN),
        API_KEYS=f"alice:{ALICE},bob:{BOB},carol:{CAROL}",
        ADMIN_API_KEYS=f"ops:{ADMIN}",
        MAX_QUEUED_JOBS_PER_KEY="3",
        MAX_CONCURRENT_UPLOADS_PER_KEY="1",
    ) as platform:
        yield platform


@pytest.fixture(scope="module")
def jobs(keyed: PrivatePlatform, speech_file) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """One upload by alice and one by bob: owner name → job id."""
    clip = speech_file("Only the owner may read this.", name="private-note")
    ids = {}
    for owner, key in (("alice", ALICE), ("bob", BOB)):
        with keyed.client(headers=bearer(key)) as client:
            response = client.post(
                "/api/transcriptions", files=[("files", (f"{owner}.wav", clip.read_bytes()))]
            )
        assert response.status_code == 202, response.text
        ids[owner] = response.json()["items"][0]["id"]
    return ids


def _endpoints(job_id: str) -> list[tuple[str, str]]:
    return [
        ("GET", f"/api/transcriptions/{job_id}"),
        ("GET", f"/api/transcriptions/{job_id}/transcript?format=srt"),
        ("GET", f"/api/transcriptions/{job_id}/audio"),
        ("GET", f"/api/transcriptions/{job_id}/events"),
        ("POST", f"/api/transcriptions/{job_id}/cancel"),
        ("POST", f"/api/transcriptions/{job_id}/retry"),
        ("DELETE", f"/api/transcriptions/{job_id}"),
    ]


def _first_frame(client: httpx.Client, url: str, **kwargs: Any) -> tuple[int, str]:
    """Status and first SSE frame of a stream (the stream is then closed)."""
    with client.stream("GET", url, timeout=10, **kwargs) as response:
        if response.status_code != 200:
            response.read()
            return response.status_code, response.text
        lines = []
        for line in response.iter_lines():
            if not line and any(x.startswith("data:") for x in lines):
                break
            lines.append(line)
        return 200, "\n".join(lines)


def _stream_events(client: httpx.Client, url: str, count: int) -> list[dict[str, Any]]:
    """The first `count` events of a stream, decoded."""
    events: list[dict[str, Any]] = []
    with client.stream("GET", url, timeout=10) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data:"):
                events.append(json.loads(line.removeprefix("data:")))
                if len(events) == count:
                    break
    return events


def test_every_api_endpoint_needs_a_key(keyed: PrivatePlatform, jobs: dict[str, str]) -> None:
    job_id = jobs["alice"]
    anonymous = httpx.Client(base_url=keyed.base_url, timeout=10)
    with anonymous:
        requests = [
            *_endpoints(job_id),
            ("GET", "/api/transcriptions"),
            ("POST", "/api/transcriptions"),
            ("GET", f"/api/events?ids={job_id}"),
            ("GET", "/api/models"),
            ("GET", "/api/ready"),
            ("GET", "/api/session"),
            ("POST", "/api/session"),
            ("GET", "/metrics"),
            ("GET", "/api/no-such-endpoint"),
        ]
        for method, url in requests:
            for headers in ({}, bearer("wrong-key-0123456789"), {"Authorization": "Basic eDp5"}):
                response = anonymous.request(method, url, headers=headers)
                assert response.status_code == 401, (method, url, headers)
                assert response.headers["www-authenticate"].startswith("Bearer")
                assert response.json()["error"]["code"] == "unauthorized"
        assert anonymous.get("/api/health").status_code == 200
        assert anonymous.get("/openapi.json").status_code == 200
    # Nothing was changed by the refused requests.
    assert keyed.get(job_id)["status"] == "queued"


def test_a_key_sees_only_its_owners_transcriptions(
    keyed: PrivatePlatform, jobs: dict[str, str]
) -> None:
    with keyed.client(headers=bearer(ALICE)) as alice:
        listed = [item["id"] for item in alice.get("/api/transcriptions").json()["items"]]
        assert listed == [jobs["alice"]]
        assert alice.get(f"/api/transcriptions/{jobs['alice']}").status_code == 200
        assert alice.get("/api/session").json() == {
            "owner": "alice",
            "admin": False,
            "auth_required": True,
        }
        for method, url in _endpoints(jobs["bob"]):
            response = alice.request(method, url)
            assert response.status_code == 404, (method, url, response.text)
            assert response.json()["error"]["code"] == "not_found"
        renamed = alice.patch(
            f"/api/transcriptions/{jobs['bob']}", json={"speakers": {"S1": "Mallory"}}
        )
        assert renamed.status_code == 404, renamed.text
        assert renamed.json()["error"]["code"] == "not_found"
        # The multiplexed stream answers for bob's job exactly as for an id that never existed.
        unknown = str(uuid.uuid4())
        seen = _stream_events(alice, f"/api/events?ids={jobs['bob']},{unknown}", count=2)
        assert {event["id"] for event in seen} == {jobs["bob"], unknown}
        for event in seen:
            assert {k: v for k, v in event.items() if k != "id"} == {
                "seq": 1,
                "status": "cancelled",
                "progress": 0.0,
                "type": "cancelled",
                "deleted": True,
            }
    with keyed.client(headers=bearer(BOB)) as bob:
        listed = [item["id"] for item in bob.get("/api/transcriptions").json()["items"]]
        assert listed == [jobs["bob"]]
        assert bob.get(f"/api/transcriptions/{jobs['bob']}").json()["status"] == "queued"


def test_search_and_filters_never_reach_past_the_owner(
    keyed: PrivatePlatform, jobs: dict[str, str]
) -> None:
    with keyed.client(headers=bearer(ALICE)) as alice:
        assert alice.get("/api/transcriptions", params={"q": "bob"}).json()["items"] == []
        queued = alice.get("/api/transcriptions", params={"status": "queued"}).json()["items"]
        assert [item["id"] for item in queued] == [jobs["alice"]]
    with keyed.client(headers=bearer(BOB)) as bob:
        found = bob.get("/api/transcriptions", params={"q": "bob"}).json()["items"]
        assert [item["id"] for item in found] == [jobs["bob"]]


def test_admin_key_sees_every_owner(keyed: PrivatePlatform, jobs: dict[str, str]) -> None:
    with keyed.client() as admin:
        listed = {item["id"] for item in admin.get("/api/transcriptions").json()["items"]}
        assert {jobs["alice"], jobs["bob"]} <= listed
        for job_id in jobs.values():
            assert admin.get(f"/api/transcriptions/{job_id}").status_code == 200
            assert admin.get(f"/api/transcriptions/{job_id}/audio").status_code == 200
        assert admin.get("/api/session").json()["admin"] is True


def test_session_token_works_for_reads_only_and_only_for_its_owner(
    keyed: PrivatePlatform, jobs: dict[str, str]
) -> None:
    with keyed.client(headers=bearer(ALICE)) as alice:
        opened = alice.post("/api/session")
    assert opened.status_code == 200
    session = opened.json()
    assert session["owner"] == "alice"
    assert session["expires_at"] > time.time() + 60
    cookie = opened.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/api" in cookie
    token = session["token"]

    with httpx.Client(base_url=keyed.base_url, timeout=10) as browser:
        browser.cookies.set("soundscripter_session", token)
        assert browser.get(f"/api/transcriptions/{jobs['alice']}").status_code == 200
        assert browser.get(f"/api/transcriptions/{jobs['alice']}/audio").status_code == 200
        assert browser.get(f"/api/transcriptions/{jobs['bob']}").status_code == 404
        status, frame = _first_frame(browser, f"/api/transcriptions/{jobs['alice']}/events")
        assert status == 200
        assert jobs["alice"] in frame
        # A cookie never authorises a change (a cross-site form could send it).
        assert browser.post(f"/api/transcriptions/{jobs['alice']}/cancel").status_code == 401
        assert browser.delete(f"/api/transcriptions/{jobs['alice']}").status_code == 401

    with httpx.Client(base_url=keyed.base_url, timeout=10) as stranger:
        url = f"/api/transcriptions/{jobs['alice']}/events"
        assert _first_frame(stranger, url, params={"token": token})[0] == 200
        bob_url = f"/api/transcriptions/{jobs['bob']}/events"
        assert _first_frame(stranger, bob_url, params={"token": token})[0] == 404
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        assert _first_frame(stranger, url, params={"token": forged})[0] == 401
        expired = token.split(".")
        expired[1] = str(int(time.time()) - 10)
        assert _first_frame(stranger, url, params={"token": ".".join(expired)})[0] == 401

    # Signing out revokes the token: the cookie's, wherever it is used afterwards.
    with httpx.Client(base_url=keyed.base_url, timeout=10) as browser:
        browser.cookies.set("soundscripter_session", token)
        assert browser.delete("/api/session").status_code == 204
        assert browser.get(f"/api/transcriptions/{jobs['alice']}").status_code == 401
    with httpx.Client(base_url=keyed.base_url, timeout=10) as stranger:
        url = f"/api/transcriptions/{jobs['alice']}/events"
        assert _first_frame(stranger, url, params={"token": token})[0] == 401


def test_queued_jobs_limit_answers_429_with_retry_after(
    keyed: PrivatePlatform,
    speech_file,  # type: ignore[no-untyped-def]
) -> None:
    clip = speech_file("Limits apply per key.", name="limits").read_bytes()
    with keyed.client(headers=bearer(CAROL)) as carol:
        two = [("files", (f"part-{n}.wav", clip)) for n in range(2)]
        assert carol.post("/api/transcriptions", files=two).status_code == 202
        too_many = carol.post("/api/transcriptions", files=two)
        assert too_many.status_code == 429
        assert int(too_many.headers["retry-after"]) > 0
        assert too_many.json()["error"]["code"] == "rate_limited"
        one = carol.post("/api/transcriptions", files=two[:1])
        assert one.status_code == 202, one.text
        again = carol.post("/api/transcriptions", files=two[:1])
        assert again.status_code == 429
        assert len(carol.get("/api/transcriptions").json()["items"]) == 3
    with keyed.client(headers=bearer(ALICE)) as alice:  # other owners are not affected
        assert alice.post("/api/transcriptions", files=two[:1]).status_code == 202


def test_concurrent_uploads_limit_answers_429(keyed: PrivatePlatform) -> None:
    release = threading.Event()
    sending = threading.Event()
    answers: list[int] = []

    def slow_body() -> Iterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="files"; filename="a.wav"\r\n\r\n'
        sending.set()  # the headers and the first part are on the wire
        release.wait(20)
        yield b"RIFF\r\n--b--\r\n"

    def upload() -> None:
        with keyed.client(headers=bearer(BOB)) as bob:
            response = bob.post(
                "/api/transcriptions",
                content=slow_body(),
                headers={"Content-Type": "multipart/form-data; boundary=b"},
            )
            answers.append(response.status_code)

    first = threading.Thread(target=upload)
    first.start()
    try:
        assert sending.wait(10)
        assert not answers, f"the slow upload was answered early: {answers}"
        with keyed.client(headers=bearer(BOB)) as bob:
            # Until the slow upload holds the slot, a second one goes through (and is refused
            # as media: "RIFF" alone is no audio); once it does, the second one gets 429.
            def limited() -> httpx.Response | None:
                answer = bob.post("/api/transcriptions", files=[("files", ("b.wav", b"RIFF"))])
                return answer if answer.status_code == 429 else None

            second = wait_until(limited, 15, 0.2, "the concurrent-upload limit")
        # The slow upload holds the slot until its body is released: still unanswered.
        assert not answers, f"the slow upload was answered early: {answers}"
        assert second.headers["retry-after"] == "5"
        assert second.json()["error"]["code"] == "rate_limited"
    finally:
        release.set()
        first.join(30)
    assert answers
    assert answers[0] != 429
    with keyed.client(headers=bearer(BOB)) as bob:  # the slot was given back
        wait_until(
            lambda: (
                bob.post("/api/transcriptions", files=[("files", ("c.wav", b"x"))]).status_code
                == 415
            ),
            10,
            what="the upload slot to be free",
        )


def test_unknown_ids_and_garbage_keys_never_reach_the_handlers(keyed: PrivatePlatform) -> None:
    with keyed.client(headers=bearer(ALICE)) as alice:
        assert alice.get(f"/api/transcriptions/{uuid.uuid4()}").status_code == 404
    weird = httpx.Client(base_url=keyed.base_url, timeout=10)
    with weird:
        for value in ("Bearer", "Bearer  x", "bearer " + "x" * 5000, "Bearer \u00e9\u00e9"):
            response = weird.get(
                "/api/transcriptions", headers={"Authorization": value.encode("utf-8")}
            )
            assert response.status_code == 401


def test_server_refuses_a_public_address_without_keys(run_dir: Path) -> None:
    env = platform_env(API_HOST="0.0.0.0", API_PORT="1", ALLOW_ANONYMOUS="false")
    done = subprocess.run(
        [sys.executable, "-m", "api"], cwd=ROOT, env=env, capture_output=True, timeout=60
    )
    assert done.returncode == 2
    assert b"Refusing to listen on 0.0.0.0:1 without API keys" in done.stderr
    bad_keys = platform_env(API_KEYS="alice:short")
    done = subprocess.run(
        [sys.executable, "-m", "api"], cwd=ROOT, env=bad_keys, capture_output=True, timeout=60
    )
    assert done.returncode == 2
    assert b"at least 16" in done.stderr
