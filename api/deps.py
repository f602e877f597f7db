"""Request dependencies: the app's parts (built by `create_app`), the caller, one session.

Every dependency reads the app's own `Resources`, so `create_app(settings)` means exactly that
app; tests override these dependencies rather than environment variables or module globals.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from api.access.keys import Principal
from api.access.middleware import principal_of
from api.resources import Resources
from core.settings import Settings
from core.storage import Storage


def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]


def get_settings(resources: ResourcesDep) -> Settings:
    return resources.settings


def get_storage(resources: ResourcesDep) -> Storage:
    return resources.storage


def get_session(resources: ResourcesDep) -> Iterator[Session]:
    """One session per request, committed when the handler returns."""
    with resources.db.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
StorageDep = Annotated[Storage, Depends(get_storage)]
PrincipalDep = Annotated[Principal, Depends(principal_of)]


async def upload_slot(resources: ResourcesDep, principal: PrincipalDep) -> AsyncIterator[None]:
    """Hold one of the principal's concurrent upload slots for the request (the limit of
    waiting jobs is checked once the form is read and the number of files is known)."""
    with resources.upload_slots.hold(principal):
        yield


UploadSlot = Annotated[None, Depends(upload_slot)]
