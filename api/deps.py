"""Request dependencies: one session per request, committed when the handler returns."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Annotated

from fastapi import Depends
from sqlmodel import Session

from core.db import session_scope
from core.settings import Settings, get_settings
from core.storage import Storage


def get_session() -> Iterator[Session]:
    with session_scope() as session:
        yield session


@lru_cache
def get_storage() -> Storage:
    return Storage(get_settings().storage_dir)


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
StorageDep = Annotated[Storage, Depends(get_storage)]
