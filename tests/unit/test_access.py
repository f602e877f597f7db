"""Key parsing, session tokens and the start-up refusal, without services."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.__main__ import is_loopback, refusal
from api.access.keys import KeyConfigError, KeyTable, key_digest
from api.access.session_tokens import SessionSigner
from core.settings import Settings

pytestmark = pytest.mark.unit

KEY = "k" * 24


def test_keys_plain_and_hashed_map_to_owners() -> None:
    table = KeyTable.from_settings(
        Settings(
            api_keys=f"alice:{KEY},bob:sha256:{key_digest('b' * 20)}",
            admin_api_keys=f"ops:{'o' * 20}",
        )
    )
    alice, bob, ops = table.lookup(KEY), table.lookup("b" * 20), table.lookup("o" * 20)
    assert alice is not None
    assert (alice.name, alice.scope, alice.stamp) == (
        "alice",
        "alice",
        "alice",
    )
    assert bob is not None
    assert bob.name == "bob"
    assert ops is not None
    assert (ops.scope, ops.stamp) == (None, "ops")
    assert table.lookup("k" * 23) is None


@pytest.mark.parametrize(
    "entry",
    ["nokey", ":" + KEY, "alice:short", f"al ice:{KEY}", "alice:sha256:1234", f"a:{KEY} x"],
)
def test_malformed_keys_are_refused(entry: str) -> None:
    with pytest.raises(KeyConfigError):
        KeyTable.from_settings(Settings(api_keys=entry))


def test_duplicate_key_is_refused() -> None:
    with pytest.raises(KeyConfigError, match="twice"):
        KeyTable.from_settings(Settings(api_keys=f"a:{KEY}", admin_api_keys=f"b:{KEY}"))


def test_session_tokens_expire_and_follow_key_removal() -> None:
    table = KeyTable.from_settings(Settings(api_keys=f"alice:{KEY}"))
    signer = SessionSigner.create("s" * 32, ttl_seconds=60)
    alice = table.lookup(KEY)
    assert alice is not None
    token, expires = signer.issue(alice, now=1000)
    assert expires == 1060
    assert signer.verify(token, table, now=1059) == alice
    assert signer.verify(token, table, now=1061) is None
    assert signer.verify(token + "x", table, now=1000) is None
    other = SessionSigner.create("t" * 32, ttl_seconds=60)
    assert other.verify(token, table, now=1000) is None
    without_alice = KeyTable.from_settings(Settings(api_keys=f"bob:{'b' * 20}"))
    assert signer.verify(token, without_alice, now=1000) is None
    assert signer.verify("v2.9999999999.-.n.x", table) is None


def test_a_token_reaching_past_now_plus_the_ttl_is_refused() -> None:
    table = KeyTable.from_settings(Settings(api_keys=f"alice:{KEY}"))
    alice = table.lookup(KEY)
    assert alice is not None
    # Signed with the same secret under a TTL of a day, then checked under a TTL of a minute.
    long_lived = SessionSigner.create("s" * 32, ttl_seconds=86400)
    token, _ = long_lived.issue(alice, now=1000)
    signer = SessionSigner.create("s" * 32, ttl_seconds=60)
    assert signer.verify(token, table, now=1000) is None
    assert signer.expiry(token, now=1000) is None
    # Past the TTL by less than the clock skew allowed between API processes: still valid.
    near, expires = SessionSigner.create("s" * 32, ttl_seconds=63).issue(alice, now=1000)
    assert signer.expiry(near, now=1000) == expires


def test_refusal_to_serve_beyond_loopback_without_keys() -> None:
    assert refusal(Settings(api_host="127.0.0.1")) is None
    assert refusal(Settings(api_host="::1")) is None
    assert refusal(Settings(api_host="localhost")) is None
    assert "Refusing" in (refusal(Settings(api_host="0.0.0.0")) or "")
    assert "Refusing" in (refusal(Settings(api_host="192.0.2.7")) or "")
    assert refusal(Settings(api_host="0.0.0.0", allow_anonymous=True)) is None
    assert refusal(Settings(api_host="0.0.0.0", api_keys=f"a:{KEY}")) is None
    assert is_loopback("127.0.0.2")
    assert not is_loopback("example.org")


@pytest.mark.parametrize("origins", ["*", "example.org", "https://a.example,*"])
def test_cors_needs_explicit_origins(origins: str) -> None:
    with pytest.raises(ValidationError):
        Settings(cors_origins=origins)
    assert Settings(cors_origins="https://a.example/").cors_origins == ["https://a.example"]
