"""The benchmark database: created fresh on the server, seeded, dropped."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from bench import data
from bench.config import Sizes
from devtools import migrate

# A file as the schema stores it: its content once per project in
# file_contents, its version in file_versions, the current row in
# project_files (whose key names that version).
CONTENT_COLUMNS = ("project_id", "owner_id", "sha256", "size_bytes", "content")
VERSION_COLUMNS = (
    "project_id",
    "owner_id",
    "path",
    "version",
    "generation",
    "kind",
    "size_bytes",
    "sha256",
)
FILE_COLUMNS = ("project_id", "owner_id", "path", "kind", "size_bytes", "sha256")
LIST_FILE_BYTES = 256  # listing rows: small content, the heap stays compact


@dataclass(frozen=True)
class Fixture:
    """One stack's own user, projects and files."""

    user_id: UUID
    project_id: UUID
    list_project_id: UUID
    get_path: str
    unchanged_path: str
    unchanged_content: str
    changed_path: str
    changed_contents: tuple[str, str]
    deep_index: int  # how many files come before the deep page
    deep_after: str  # the last of them: the deep page starts after it


@dataclass(frozen=True)
class BenchDatabase:
    url: str
    drop: Callable[[], Awaitable[None]]


async def create(admin_url: str) -> BenchDatabase:
    url, drop = await migrate.create_migrated_database(admin_url, "bench")
    return BenchDatabase(url, drop)


def digest(text: str) -> tuple[int, str]:
    encoded = text.encode("utf-8")
    return len(encoded), hashlib.sha256(encoded).hexdigest()


async def copy_files(
    conn: asyncpg.Connection[Any],
    project: UUID,
    owner: UUID,
    files: Iterable[tuple[str, str]],
) -> None:
    """Text files (path, text) into a project that has none, by COPY: their
    contents (once each), their first versions (generation 0, version 1, as
    a first write of each makes them) and the current rows."""
    contents: dict[str, tuple[Any, ...]] = {}
    versions: list[tuple[Any, ...]] = []
    current: list[tuple[Any, ...]] = []
    for path, text in files:
        encoded = text.encode("utf-8")
        size, sha = len(encoded), hashlib.sha256(encoded).hexdigest()
        contents.setdefault(sha, (project, owner, sha, size, encoded))
        versions.append((project, owner, path, 1, 0, "text", size, sha))
        current.append((project, owner, path, "text", size, sha))
    async with conn.transaction():
        for table, records, columns in (
            ("file_contents", list(contents.values()), CONTENT_COLUMNS),
            ("file_versions", versions, VERSION_COLUMNS),
            ("project_files", current, FILE_COLUMNS),
        ):
            await conn.copy_records_to_table(table, records=records, columns=columns)


async def insert_state(
    conn: asyncpg.Connection[Any], project: UUID, owner: UUID, state: str
) -> None:
    """A project's first agent state (JSON text): its version row, then the
    current row, version 1."""
    async with conn.transaction():
        await conn.execute(
            "INSERT INTO agent_state_versions (project_id, owner_id, version, "
            "generation, state) VALUES ($1, $2, 1, 0, $3::jsonb)",
            project,
            owner,
            state,
        )
        await conn.execute(
            "INSERT INTO agent_states (project_id, owner_id, state) "
            "VALUES ($1, $2, $3::jsonb)",
            project,
            owner,
            state,
        )


async def new_user(conn: asyncpg.Connection[Any], label: str) -> UUID:
    email = f"bench-{label}-{uuid.uuid4().hex[:8]}@example.com"
    found: UUID = await conn.fetchval(
        "INSERT INTO users (email, name) VALUES ($1, $2) RETURNING id", email, label
    )
    return found


async def new_project(conn: asyncpg.Connection[Any], owner: UUID, name: str) -> UUID:
    found: UUID = await conn.fetchval(
        "INSERT INTO projects (owner_id, name) VALUES ($1, $2) RETURNING id",
        owner,
        name,
    )
    return found


async def seed(conn: asyncpg.Connection[Any], label: str, sizes: Sizes) -> Fixture:
    """A user with a request project (three files and an agent state) and a
    listing project of `sizes.list_files` files."""
    user = await new_user(conn, label)
    project = await new_project(conn, user, f"{label} requests")
    listing = await new_project(conn, user, f"{label} listing")
    unchanged = data.content(sizes.file_bytes, f"{label} unchanged")
    files = {
        "src/app/main.py": data.content(sizes.file_bytes, f"{label} get"),
        "src/app/unchanged.py": unchanged,
        "src/app/changed.py": data.content(sizes.file_bytes, f"{label} changed 0"),
    }
    await copy_files(conn, project, user, files.items())
    state = json.dumps(data.agent_state(0, sizes.state_bytes))
    await insert_state(conn, project, user, state)
    paths = data.list_paths(sizes.list_files)
    await copy_files(
        conn, listing, user, ((p, data.content(LIST_FILE_BYTES, p)) for p in paths)
    )
    return Fixture(
        user_id=user,
        project_id=project,
        list_project_id=listing,
        get_path="src/app/main.py",
        unchanged_path="src/app/unchanged.py",
        unchanged_content=unchanged,
        changed_path="src/app/changed.py",
        changed_contents=(
            data.content(sizes.file_bytes, f"{label} changed 1"),
            data.content(sizes.file_bytes, f"{label} changed 2"),
        ),
        deep_index=sizes.deep_index,
        deep_after=paths[sizes.deep_index - 1],
    )


async def settle(conn: asyncpg.Connection[Any]) -> None:
    """Vacuum and analyse after seeding, so autovacuum stays out of the timings
    and the planner knows the table sizes."""
    await conn.execute(
        "VACUUM (ANALYZE) project_files, file_versions, file_contents, projects, "
        "agent_states, agent_state_versions, users"
    )


async def require_bypass_rls(conn: asyncpg.Connection[Any]) -> None:
    """(a) to (c) run without tenant context: the login role must bypass RLS,
    as the embedded server's `postgres` superuser does."""
    bypass = await conn.fetchval(
        "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )
    if not bypass:
        raise SystemExit(
            "bench: the database role must be a superuser or have BYPASSRLS "
            "(stacks a to c run without tenant context)"
        )


async def server_version(conn: asyncpg.Connection[Any]) -> str:
    version: str = await conn.fetchval("SHOW server_version")
    return version
