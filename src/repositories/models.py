"""The models routes receive: frozen pydantic v2, fields as in the contract."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Final, Generic, Literal, NamedTuple, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from repositories._generated import check_row_model, from_database

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class Unset(enum.Enum):
    """UNSET, this type's one value, marks a field a partial update leaves
    as it is. Typed, so a PATCH route passes `body.name if "name" in
    body.model_fields_set else UNSET` and mypy --strict checks it."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET


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
    # "text" (content is a str) or "binary" (bytes).
    kind: str


class ProjectFile(FileEntry):
    """A file with its content: a str for a text file, bytes for a binary
    one."""

    content: str | bytes


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


class FileVersion(_Frozen):
    """One version of a path, as `uow.files.history` lists it; `deleted_at`
    is set on the version a delete, move, sync or restore took off the
    path."""

    project_id: UUID
    path: str
    version: int
    kind: str
    size_bytes: int
    sha256: str
    created_at: datetime
    deleted_at: datetime | None


class Checkpoint(_Frozen):
    """A named state of a project (every file and the agent state) that
    `uow.checkpoints.restore` brings back."""

    id: UUID
    project_id: UUID
    label: str | None
    created_at: datetime


AgentStateOutcome = Literal["restored", "unchanged", "deleted"]


class RestoreResult(_Frozen):
    """What `uow.checkpoints.restore` did: the files' counts as a sync
    gives them, and what became of the agent state."""

    created: int
    updated: int
    unchanged: int
    deleted: int
    agent_state: AgentStateOutcome


class CheckpointDiff(_Frozen):
    """The paths that differ between two states of a project, each list in
    byte-wise order."""

    added: list[str]
    changed: list[str]
    removed: list[str]


class RetentionPolicy(_Frozen):
    """What `uow.retention.prune` keeps. A version (of a file or of the
    agent state) goes only when it is beyond the newest `keep_versions` of
    its path, older than `keep_for`, not current, and no checkpoint needs
    it. Checkpoints go only when `keep_checkpoints` is set: those beyond the
    newest `keep_checkpoints` and older than `keep_checkpoints_for`."""

    keep_versions: int = Field(default=20, ge=0)
    keep_for: timedelta = Field(default=timedelta(days=30))
    keep_checkpoints: int | None = Field(default=None, ge=0)
    keep_checkpoints_for: timedelta = Field(default=timedelta(0))

    @field_validator("keep_for", "keep_checkpoints_for")
    @classmethod
    def _not_negative(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError("must not be negative")
        return value


class PruneResult(_Frozen):
    """What `uow.retention.prune` (or `reclaim`) removed."""

    versions_removed: int
    agent_state_versions_removed: int
    checkpoints_removed: int
    contents_reclaimed: int
    bytes_reclaimed: int


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


class PoolStats(_Frozen):
    """One connection pool of a Store at one moment, as `store.stats()`
    reads it from the pool itself (no round trip)."""

    max_size: int
    size: int
    in_use: int
    idle: int
    waiting: int


class StoreStats(_Frozen):
    """What `store.stats()` returns: the tenant pool (units of work and
    `store.ping`) and the auth pool (`store.users`; None without
    `auth_dsn`)."""

    tenant: PoolStats
    auth: PoolStats | None


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
    # dict(row): a model's (name, value) pairs, pydantic's public way in.
    values = {**dict(row), **extra} if extra else dict(row)
    names, same = _fields(model, type(row))
    if same and not extra:  # the row's fields are the contract's
        return from_database(model, values)
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


class RowModels(NamedTuple):
    """Which generated row models build which contract models, as each
    repository module declares them (its ROW_MODELS)."""

    # Built by the generated `*_into` functions.
    filled_directly: tuple[tuple[type[BaseModel], type[BaseModel]], ...] = ()
    # Built by from_row: (contract model, row model, fields the repository
    # adds or narrows itself, which are not compared).
    picked_from: tuple[
        tuple[type[BaseModel], type[BaseModel], frozenset[str]], ...
    ] = ()


def check_row_models(declared: Iterable[RowModels]) -> None:
    """Refuse, naming both models and the fields that differ, a contract
    model that a generated row model no longer fits: `filled_directly`
    pairs are built by the generated `*_into` functions (the same fields in
    the same order); `picked_from` pairs by from_row (the contract's
    fields, less those the repository adds or narrows itself, among the
    row's, with the same types). Store.open runs it, so a schema change that the
    contract models do not follow fails at start-up, not on a first call."""
    problems: list[str] = []
    filled_directly = [pair for each in declared for pair in each.filled_directly]
    picked_from = [triple for each in declared for triple in each.picked_from]
    for model, row in filled_directly:
        try:
            check_row_model(model, row)
        except TypeError as exc:
            problems.append(f"{_named(model)} and {_named(row)}: {exc}")
    for model, row, added in picked_from:
        wanted = {
            name: field.annotation
            for name, field in model.model_fields.items()
            if name not in added
        }
        found = {name: field.annotation for name, field in row.model_fields.items()}
        differing = sorted(
            name for name, kind in wanted.items() if found.get(name) != kind
        )
        if differing:
            problems.append(
                f"{_named(model)} cannot be built from {_named(row)}: these "
                f"fields are missing or of another type there: {differing}"
            )
    if problems:
        raise TypeError(
            "the contract models do not fit the generated row models (regenerate "
            "with `nox -s generate` and update repositories/models.py): "
            + "; ".join(problems)
        )


def _named(model: type[BaseModel]) -> str:
    return f"{model.__module__}.{model.__name__}"
