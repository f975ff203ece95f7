"""The benchmark database: created fresh on the server, seeded, dropped."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from bench import data
from bench.config import Sizes
from devtools import migrate

FILE_COLUMNS = ("project_id", "owner_id", "path", "content", "size_bytes", "sha256")
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


def file_record(project: UUID, owner: UUID, path: str, text: str) -> tuple[Any, ...]:
    return (project, owner, path, text, *digest(text))


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
    await conn.copy_records_to_table(
        "project_files",
        records=[file_record(project, user, p, t) for p, t in files.items()],
        columns=FILE_COLUMNS,
    )
    state = json.dumps(data.agent_state(0, sizes.state_bytes))
    await conn.execute(
        "INSERT INTO agent_states (project_id, owner_id, state) VALUES ($1, $2, $3::jsonb)",
        project,
        user,
        state,
    )
    paths = data.list_paths(sizes.list_files)
    await conn.copy_records_to_table(
        "project_files",
        records=(
            file_record(listing, user, p, data.content(LIST_FILE_BYTES, p))
            for p in paths
        ),
        columns=FILE_COLUMNS,
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
    await conn.execute("VACUUM (ANALYZE) project_files, projects, agent_states, users")


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
