"""The models routes receive: frozen pydantic v2, fields as in the contract."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, JsonValue

from repositories._generated import from_database

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


def page(kind: type[Page[T]], items: list[T], next_cursor: str | None) -> Page[T]:
    """`kind` (Page[FileEntry], …) holding items this layer has just built.
    Not validated: validating a page checks every item again, a cost per row
    for models that are right by construction."""
    return from_database(kind, {"items": items, "next_cursor": next_cursor})


def from_row(model: type[M], row: BaseModel, **extra: object) -> M:
    """A contract model from a generated row: its fields plus `extra`; fields
    the contract does not show (owner_id, flags) are left out.

    Built once, without validation: the row's values are what asyncpg decoded
    from columns the schema constrains, already of the contract's types (a
    test compares every such model with its validated twin). Inputs from
    callers are validated in full, before any SQL."""
    values = {**row.__dict__, **extra} if extra else row.__dict__
    names, same = _fields(model, type(row))
    if same and not extra:  # the row's fields are the contract's
        return from_database(model, values.copy())
    return from_database(model, {name: values[name] for name in names})


def _fields(
    model: type[BaseModel], row: type[BaseModel]
) -> tuple[tuple[str, ...], bool]:
    """The contract's field names, and whether the row's are the same."""
    known = _FIELDS.get((model, row))
    if known is None:
        names = tuple(model.model_fields)
        known = _FIELDS[(model, row)] = (names, names == tuple(row.model_fields))
    return known


_FIELDS: dict[
    tuple[type[BaseModel], type[BaseModel]], tuple[tuple[str, ...], bool]
] = {}
