"""The models routes receive: frozen pydantic v2, fields as in the contract."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, JsonValue

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class User(_Frozen):
    """A registered user."""

    id: UUID
    email: str
    name: str
    created_at: datetime
    updated_at: datetime


class Project(_Frozen):
    """A project, owned by one user."""

    id: UUID
    owner_id: UUID
    name: str
    description: str | None
    created_at: datetime
    updated_at: datetime


class FileEntry(_Frozen):
    """A file without its content, as listings return it."""

    project_id: UUID
    path: str
    size_bytes: int
    sha256: str
    version: int
    created_at: datetime
    updated_at: datetime


class ProjectFile(FileEntry):
    """A file with its content."""

    content: str


FileOutcome = Literal["created", "updated", "unchanged"]


class FileWrite(_Frozen):
    """What `uow.files.put` did, and the file as stored."""

    file: ProjectFile
    outcome: FileOutcome


class SyncResult(_Frozen):
    """What `uow.files.sync` did: how many paths each outcome counted."""

    created: int
    updated: int
    unchanged: int
    deleted: int


class AgentState(_Frozen):
    """A project's agent state: a JSON object and its version."""

    project_id: UUID
    state: dict[str, JsonValue]
    version: int
    created_at: datetime
    updated_at: datetime


class Page(_Frozen, Generic[T]):
    """One page of a listing, and the cursor of the next (None on the last)."""

    items: list[T]
    next_cursor: str | None


def from_row(model: type[M], row: BaseModel, **extra: object) -> M:
    """A contract model from a generated row: its fields plus `extra`; fields
    the contract does not show (owner_id, flags) are ignored. Validating a
    plain dict is pydantic's fast path (model_construct is several times slower)."""
    fields = {**row.__dict__, **extra} if extra else row.__dict__
    return model.model_validate(fields)
