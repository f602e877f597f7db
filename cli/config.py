"""Where the API is and how to sign in: flags first, then the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_URL = "http://127.0.0.1:8000"
URL_VARIABLE = "SOUNDSCRIPTER_URL"
KEY_VARIABLE = "SOUNDSCRIPTER_API_KEY"


@dataclass(frozen=True)
class Config:
    url: str = DEFAULT_URL
    api_key: str | None = None
    timeout: float = 300.0
    """Seconds to wait for an answer (an upload's answer comes after the file is probed)."""

    @classmethod
    def of(
        cls,
        url: str | None,
        api_key: str | None,
        environ: Mapping[str, str] | None = None,
    ) -> Config:
        env = os.environ if environ is None else environ
        chosen = url or env.get(URL_VARIABLE) or DEFAULT_URL
        key = api_key or env.get(KEY_VARIABLE) or None
        return cls(url=chosen.rstrip("/"), api_key=key)
