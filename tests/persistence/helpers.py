"""Helpers the persistence test modules share: reading whole trees, file
histories and checkpoint listings back, comparing NotFound errors for
foreign and missing ids, and fingerprints of a project's rows."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable

import asyncpg
import pytest

from repositories import (
    Checkpoint,
    FileEntry,
    FileVersion,
    NotFound,
    ProjectFile,
    Store,
    UnitOfWork,
    User,
)


def byte_order(paths: list[str] | set[str]) -> list[str]:
    """Paths in PostgreSQL's COLLATE "C" order: UTF-8 bytes."""
    return sorted(paths, key=lambda p: p.encode("utf-8"))


async def list_all(
    uow: UnitOfWork,
    project_id: uuid.UUID,
    *,
    prefix: str | None = None,
    limit: int = 1000,
) -> list[FileEntry]:
    """Every entry of a listing, following cursors to the end."""
    entries: list[FileEntry] = []
    cursor: str | None = None
    for _ in range(10_000):
        page = await uow.files.list(
            project_id, prefix=prefix, limit=limit, cursor=cursor
        )
        assert len(page.items) <= limit
        entries.extend(page.items)
        if page.next_cursor is None:
            return entries
        cursor = page.next_cursor
    pytest.fail("listing never ended")


async def snapshot(
    store: Store, user: User, project_id: uuid.UUID
) -> dict[str, ProjectFile]:
    """Every file of the project, read back in full (content and metadata)."""
    async with store.unit_of_work(user.id) as uow:
        entries = await list_all(uow, project_id)
        paths = [e.path for e in entries]
        assert len(paths) == len(set(paths)), "a path is listed twice"
        assert paths == byte_order(paths)
        return {path: await uow.files.get(project_id, path) for path in paths}


async def not_found_from(call: Awaitable[object]) -> NotFound:
    with pytest.raises(NotFound) as raised:
        await call
    return raised.value


def without_id(text: str, project_id: uuid.UUID) -> str:
    """The text with the id blanked out, so messages naming different ids compare."""
    return text.replace(str(project_id), "<id>").replace(project_id.hex, "<id>")


def assert_indistinguishable(
    foreign: NotFound, foreign_id: uuid.UUID, missing: NotFound, missing_id: uuid.UUID
) -> None:
    assert type(foreign) is type(missing)
    assert without_id(foreign.resource, foreign_id) == without_id(
        missing.resource, missing_id
    )
    assert without_id(str(foreign), foreign_id) == without_id(str(missing), missing_id)


# ---------------------------------------------------------------------------
# file history, checkpoints and the rows behind them
# ---------------------------------------------------------------------------


async def history_all(
    uow: UnitOfWork, project_id: uuid.UUID, path: str, *, limit: int = 100
) -> list[FileVersion]:
    """Every version of a path, newest first, following cursors to the end."""
    versions: list[FileVersion] = []
    cursor: str | None = None
    for _ in range(10_000):
        page = await uow.files.history(project_id, path, limit=limit, cursor=cursor)
        assert len(page.items) <= limit
        versions.extend(page.items)
        if page.next_cursor is None:
            return versions
        cursor = page.next_cursor
    pytest.fail("history never ended")


async def checkpoints_all(
    uow: UnitOfWork, project_id: uuid.UUID, *, limit: int = 100
) -> list[Checkpoint]:
    """Every checkpoint of a project, newest first, following cursors."""
    found: list[Checkpoint] = []
    cursor: str | None = None
    for _ in range(10_000):
        page = await uow.checkpoints.list(project_id, limit=limit, cursor=cursor)
        assert len(page.items) <= limit
        found.extend(page.items)
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor
    pytest.fail("checkpoint listing never ended")


def content_bytes(content: str | bytes) -> bytes:
    """What a file's sha256 and size_bytes are of: UTF-8 for text."""
    return content.encode("utf-8") if isinstance(content, str) else content


# Tables holding a project's files, their history and checkpoints, each with
# the project's id in `project_id`.
PROJECT_TABLES = (
    "project_files",
    "file_versions",
    "file_contents",
    "agent_states",
    "agent_state_versions",
    "checkpoints",
)


async def project_rows(
    admin: asyncpg.Connection[asyncpg.Record], project_id: uuid.UUID
) -> dict[str, str]:
    """Per table of PROJECT_TABLES, an md5 over the project's rows (every
    column, as text): any change to them changes it. `admin` bypasses RLS."""
    found: dict[str, str] = {}
    for table in PROJECT_TABLES:
        found[table] = await admin.fetchval(
            f"SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, '|'"
            f" ORDER BY t::text), '')) FROM {table} t WHERE project_id = $1",
            project_id,
        )
    return found
