"""A file whose header tells a fraction of its length is refused at upload when the whole of
it passes the duration limit (chained Ogg, concatenated MPEG-TS and FLAC)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.media import CHAINED_CODECS, chained
from tests.support.private import PrivatePlatform, private_platform

pytestmark = pytest.mark.integration

LINK_SECONDS = 10
LINKS = 3
LIMIT = LINK_SECONDS * 2  # one link fits; the three links together do not


@pytest.fixture(scope="module")
def platform(migrated_db: str, run_dir: Path) -> Iterator[PrivatePlatform]:
    with private_platform(
        run_dir / "chained", workers=0, MAX_DURATION_SECONDS=str(LIMIT)
    ) as platform:
        yield platform


@pytest.mark.parametrize("fmt", sorted(CHAINED_CODECS))
def test_a_chained_file_over_the_limit_is_refused(
    platform: PrivatePlatform, tmp_path: Path, fmt: str
) -> None:
    path = chained(tmp_path, fmt, link_seconds=LINK_SECONDS, links=LINKS)
    assert LINK_SECONDS < LIMIT < LINK_SECONDS * LINKS
    response = platform.upload(path)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"]["code"] == "duration_exceeded"
    assert body["rejected"][0]["filename"] == path.name
