"""Shared pieces of the reliability tests: superuser access, Stores with
special pool options, and reading a project back."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, NamedTuple

import asyncpg

from repositories import Store, User

# Hang guard for anything that must not block forever; never a speed claim.
HANG_GUARD_S = 30.0


@asynccontextmanager
async def superuser(database_url: str) -> AsyncIterator[asyncpg.Connection[Any]]:
    """A direct connection with the URL's (superuser) role: no pool, no RLS."""
    conn = await asyncpg.connect(database_url)
    try:
        yield conn
    finally:
        await conn.close()


@asynccontextmanager
async def opened_store(
    app_url: str, auth_url: str | None = None, **options: Any
) -> AsyncIterator[Store]:
    """A Store on `app_url`, the application's login (the `app_url` fixture,
    or a proxy in front of it), with store.users on `auth_url` if given."""
    async with Store.open(app_url, auth_dsn=auth_url, **options) as opened:
        yield opened


async def tree_via_repositories(
    store: Store, owner: User, project_id: uuid.UUID
) -> dict[str, str | bytes]:
    """The whole tree as the API shows it: every listing page, then each file."""
    paths: list[str] = []
    async with store.unit_of_work(owner.id) as uow:
        cursor: str | None = None
        for _ in range(10_000):  # bounded: far more pages than any test makes
            page = await uow.files.list(project_id, limit=100, cursor=cursor)
            paths.extend(entry.path for entry in page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        else:  # pragma: no cover - would mean a cursor loop
            raise AssertionError("listing did not end")
        tree: dict[str, str | bytes] = {}
        for path in paths:
            tree[path] = (await uow.files.get(project_id, path)).content
    assert len(tree) == len(paths), "a path was listed twice"
    return tree


# Every table that holds rows of a project, and the column naming it.
PROJECT_TABLES = (
    ("projects", "id"),
    ("project_files", "project_id"),
    ("agent_states", "project_id"),
    ("file_contents", "project_id"),
    ("file_versions", "project_id"),
    ("agent_state_versions", "project_id"),
    ("checkpoints", "project_id"),
)


async def rows_of_project(database_url: str, project_id: uuid.UUID) -> dict[str, int]:
    """How many rows each tenant table holds for the project (as superuser):
    the current rows, their history, their content and the checkpoints."""
    async with superuser(database_url) as conn:
        counts: dict[str, int] = {}
        for table, column in PROJECT_TABLES:
            value = await conn.fetchval(
                f"SELECT count(*) FROM {table} WHERE {column} = $1", project_id
            )
            assert isinstance(value, int)
            counts[table] = value
        return counts


def stored_content(kind: str, content: bytes) -> str | bytes:
    """A file's stored bytes as the API hands them back: a str for a text
    file (its UTF-8), the bytes for a binary one."""
    if kind == "text":
        return content.decode("utf-8")
    assert kind == "binary", f"unknown kind {kind!r}"
    return content


# A current file's content lives in file_contents, named by the project and
# the hash of its bytes.
FILES_WITH_CONTENT = (
    "SELECT f.path, f.kind, f.version, c.content"
    " FROM project_files f JOIN file_contents c"
    " ON c.project_id = f.project_id AND c.sha256 = f.sha256"
    " WHERE f.project_id = $1"
)


async def files_as_superuser(
    database_url: str, project_id: uuid.UUID
) -> dict[str, tuple[str | bytes, int]]:
    """path -> (content, version), read past row-level security."""
    async with superuser(database_url) as conn:
        rows = await conn.fetch(FILES_WITH_CONTENT, project_id)
        current = await conn.fetchval(
            "SELECT count(*) FROM project_files WHERE project_id = $1", project_id
        )
    # The join drops no row: every current file's content is stored.
    assert len(rows) == current, "a current file without its content"
    return {
        row["path"]: (stored_content(row["kind"], row["content"]), row["version"])
        for row in rows
    }


class History(NamedTuple):
    """The rows a project's history holds, as superuser: each file version
    (path, version, generation, sha256, deleted_generation), each content's
    hash, each agent state version (version, deleted_generation) and each
    checkpoint's generation."""

    file_versions: list[tuple[str, int, int, str, int | None]]
    file_contents: list[str]
    agent_state_versions: list[tuple[int, int | None]]
    checkpoints: list[int]


async def history_as_superuser(database_url: str, project_id: uuid.UUID) -> History:
    async with superuser(database_url) as conn:
        versions = await conn.fetch(
            "SELECT path, version, generation, sha256, deleted_generation"
            " FROM file_versions WHERE project_id = $1 ORDER BY path, version",
            project_id,
        )
        contents = await conn.fetch(
            "SELECT sha256 FROM file_contents WHERE project_id = $1 ORDER BY sha256",
            project_id,
        )
        states = await conn.fetch(
            "SELECT version, deleted_generation FROM agent_state_versions"
            " WHERE project_id = $1 ORDER BY version",
            project_id,
        )
        checkpoints = await conn.fetch(
            "SELECT generation FROM checkpoints WHERE project_id = $1"
            " ORDER BY generation",
            project_id,
        )
    return History(
        file_versions=[
            (
                row["path"],
                row["version"],
                row["generation"],
                row["sha256"],
                row["deleted_generation"],
            )
            for row in versions
        ],
        file_contents=[row["sha256"] for row in contents],
        agent_state_versions=[
            (row["version"], row["deleted_generation"]) for row in states
        ],
        checkpoints=[row["generation"] for row in checkpoints],
    )


async def agent_state_as_superuser(
    database_url: str, project_id: uuid.UUID
) -> tuple[str, int] | None:
    """(state as JSON text, version), or None."""
    async with superuser(database_url) as conn:
        row = await conn.fetchrow(
            "SELECT state::text AS state, version FROM agent_states WHERE project_id = $1",
            project_id,
        )
    if row is None:
        return None
    return row["state"], row["version"]


async def terminate_backend(database_url: str, pid: int) -> None:
    """Kill a backend and wait (bounded) until it has gone, so that the next
    statement on its connection fails for certain, not by timing luck.

    The backend leaves pg_stat_activity just before its process exits and
    its socket closes; the short pause lets the client's event loop read
    the FATAL message *and* the end of the stream. (Reading only the first
    is a separate case, pinned down by tests/reliability/proxy.py; either
    way the contract's answer is Unavailable.)"""
    async with superuser(database_url) as conn:
        # ::int: Citus adds pg_terminate_backend(bigint) for its global pids,
        # which leaves an untyped parameter ambiguous.
        assert await conn.fetchval("SELECT pg_terminate_backend($1::int)", pid) is True
        deadline = time.monotonic() + HANG_GUARD_S
        while await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid
        ):
            if time.monotonic() > deadline:
                raise AssertionError(f"backend {pid} did not exit")
            await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)
