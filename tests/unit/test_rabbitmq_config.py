"""deploy/rabbitmq/: the broker settings the Compose stack mounts."""

from __future__ import annotations

import pytest

from core.settings import Settings
from tests.support.deploy_files import ROOT, setting

pytestmark = pytest.mark.unit

RABBITMQ_DIR = ROOT / "deploy" / "rabbitmq"


def test_consumer_timeout_exceeds_the_longest_job() -> None:
    conf = (RABBITMQ_DIR / "rabbitmq.conf").read_text(encoding="utf-8")
    timeout_ms = int(setting(r"^consumer_timeout\s*=\s*(\d+)", conf))
    longest = Settings.model_fields["max_duration_seconds"].default
    assert timeout_ms > longest * 1000 * 2, "allow for transcription slower than real time"


def test_management_dashboard_is_enabled() -> None:
    plugins = (RABBITMQ_DIR / "enabled_plugins").read_text(encoding="utf-8")
    assert "rabbitmq_management" in plugins
