"""Shared pieces of the reliability tests: superuser access, Stores with
special pool options, and reading a project back."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from repositories import Store, User
from tests.support import text_of

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
) -> dict[str, str]:
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
        tree: dict[str, str] = {}
        for path in paths:
            tree[path] = text_of(await uow.files.get(project_id, path))
    assert len(tree) == len(paths), "a path was listed twice"
    return tree


async def rows_of_project(database_url: str, project_id: uuid.UUID) -> dict[str, int]:
    """How many rows each tenant table holds for the project (as superuser)."""
    async with superuser(database_url) as conn:
        counts: dict[str, int] = {}
        for table, column in (
            ("projects", "id"),
            ("project_files", "project_id"),
            ("agent_states", "project_id"),
        ):
            value = await conn.fetchval(
                f"SELECT count(*) FROM {table} WHERE {column} = $1", project_id
            )
            assert isinstance(value, int)
            counts[table] = value
        return counts


async def files_as_superuser(
    database_url: str, project_id: uuid.UUID
) -> dict[str, tuple[str | bytes, int]]:
    """path -> (content, version), read past row-level security: a text
    file's content as str, a binary one's as bytes."""
    async with superuser(database_url) as conn:
        rows = await conn.fetch(
            "SELECT f.path, f.kind, c.content, f.version FROM project_files f"
            " JOIN file_contents c ON c.project_id = f.project_id"
            " AND c.sha256 = f.sha256 WHERE f.project_id = $1",
            project_id,
        )
    return {
        row["path"]: (
            row["content"].decode() if row["kind"] == "text" else row["content"],
            row["version"],
        )
        for row in rows
    }


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
