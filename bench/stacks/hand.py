"""(h) a raw stack written by hand: plain asyncpg and SQL of this module's
own, the way a competent engineer writes it without the repositories; no
generated code, no project lock.

It runs as the application runs: logged in as the least-privileged login
role (app_login), each unit of work one transaction that switches to
app_user with the actor's id set, so row-level security binds every
statement as it binds the repositories'. The transaction has the unit of
work's shape (src/repositories/unit_of_work.py, `begin_as`): the BEGIN
and the three SET LOCALs in one simple-query round trip, the statement(s),
then COMMIT, as a unit of work that ran only the repositories' statements
ends. A test checks the begin text stays the same.

- put: one INSERT … ON CONFLICT (project_id, path) DO UPDATE … WHERE the
  sha256 differs RETURNING version, size and sha256 computed here. No row
  back means the content was stored already (nothing written). New rows
  start at version 1, an update adds 1.
- get: one SELECT by primary key; list: one keyset SELECT of 100 entries
  without content; agent state: an upsert (or, for the request workload's
  compare-and-swap, one UPDATE … WHERE version = expected).
- sync: one transaction, one upsert of the whole tree from arrays
  (unnest), then one DELETE of the paths not in it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from uuid import UUID

import asyncpg

from bench.database import Fixture
from bench.stacks.base import PAGE
from devtools.database import app_login_url


def begin(user_id: UUID) -> str:
    """BEGIN as the actor: read committed, read-write, the tenant role, a
    pinned search_path and app.user_id, which the RLS policies read. The
    id is the UUID's own text (a UUID object, never caller text)."""
    actor = UUID(int=user_id.int)
    return (
        "BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE; SET LOCAL ROLE app_user; "
        "SET LOCAL search_path = public, pg_temp; "
        f"SET LOCAL app.user_id = '{actor}'"
    )


# The end of a unit of work: its statements leave no session state.
COMMIT = "COMMIT"

PUT = """
INSERT INTO project_files AS f (project_id, owner_id, path, content, size_bytes, sha256)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (project_id, path) DO UPDATE
SET content = excluded.content,
    size_bytes = excluded.size_bytes,
    sha256 = excluded.sha256,
    version = f.version + 1,
    updated_at = excluded.updated_at
WHERE f.sha256 <> excluded.sha256
RETURNING version, xmax = 0 AS created
"""

GET = """
SELECT project_id, path, content, size_bytes, sha256, version, created_at, updated_at
FROM project_files
WHERE project_id = $1 AND path = $2
"""

LIST = """
SELECT path, size_bytes, sha256, version, created_at, updated_at
FROM project_files
WHERE project_id = $1 AND path > $2
ORDER BY path
LIMIT $3
"""

SAVE_STATE = """
INSERT INTO agent_states AS s (project_id, owner_id, state)
VALUES ($1, $2, $3::jsonb)
ON CONFLICT (project_id) DO UPDATE
SET state = excluded.state,
    version = s.version + 1,
    updated_at = excluded.updated_at
RETURNING version
"""

SWAP_STATE = """
UPDATE agent_states
SET state = $2::jsonb, version = version + 1, updated_at = statement_timestamp()
WHERE project_id = $1 AND version = $3
RETURNING version
"""

STATE_VERSION = "SELECT version FROM agent_states WHERE project_id = $1"

SYNC_UPSERT = """
WITH written AS (
    INSERT INTO project_files AS f (project_id, owner_id, path, content, size_bytes, sha256)
    SELECT $1, $2, t.path, t.content, t.size_bytes, t.sha256
    FROM unnest($3::text[], $4::text[], $5::bigint[], $6::text[])
        AS t(path, content, size_bytes, sha256)
    ON CONFLICT (project_id, path) DO UPDATE
    SET content = excluded.content,
        size_bytes = excluded.size_bytes,
        sha256 = excluded.sha256,
        version = f.version + 1,
        updated_at = excluded.updated_at
    WHERE f.sha256 <> excluded.sha256
    RETURNING xmax = 0 AS created
)
SELECT count(*) FILTER (WHERE created) AS created,
    count(*) FILTER (WHERE NOT created) AS updated
FROM written
"""

SYNC_DELETE = (
    "DELETE FROM project_files WHERE project_id = $1 AND path <> ALL($2::text[])"
)


def digest(content: str) -> tuple[int, str]:
    encoded = content.encode("utf-8")
    return len(encoded), hashlib.sha256(encoded).hexdigest()


async def _rollback_if_open(conn: asyncpg.Connection[Any]) -> None:
    # The pool's reset: only a unit of work that failed leaves a transaction
    # open.
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


class HandStack:
    key = "h"

    def __init__(self, pool: asyncpg.Pool[asyncpg.Record]) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, url: str, pool_size: int) -> HandStack:
        """A pool of `pool_size` connections as app_login, on the database
        of `url` (the owner's URL, as the other stacks get)."""
        login = await app_login_url(url)
        pool = await asyncpg.create_pool(
            login, min_size=pool_size, max_size=pool_size, reset=_rollback_if_open
        )
        return cls(pool)

    async def close(self) -> None:
        await self.pool.close()

    # The operations, for any user and project.

    async def put_file(
        self, user: UUID, project: UUID, path: str, content: str
    ) -> tuple[str, int | None]:
        """(outcome, version): created, updated, or unchanged (version None:
        nothing was written, so nothing came back)."""
        size, sha = digest(content)
        async with self.pool.acquire() as conn:
            await conn.execute(begin(user))
            row = await conn.fetchrow(PUT, project, user, path, content, size, sha)
            await conn.execute(COMMIT)
        if row is None:
            return "unchanged", None
        version: int = row["version"]
        return ("created" if row["created"] else "updated"), version

    async def get_file_of(
        self, user: UUID, project: UUID, path: str
    ) -> asyncpg.Record | None:
        async with self.pool.acquire() as conn:
            await conn.execute(begin(user))
            row = await conn.fetchrow(GET, project, path)
            await conn.execute(COMMIT)
        return row

    async def list_files(
        self, user: UUID, project: UUID, after: str, limit: int = PAGE
    ) -> list[asyncpg.Record]:
        async with self.pool.acquire() as conn:
            await conn.execute(begin(user))
            rows = await conn.fetch(LIST, project, after, limit)
            await conn.execute(COMMIT)
        return rows

    async def upsert_state(
        self, user: UUID, project: UUID, state: dict[str, Any]
    ) -> int:
        text = json.dumps(state)
        async with self.pool.acquire() as conn:
            await conn.execute(begin(user))
            version: int = await conn.fetchval(SAVE_STATE, project, user, text)
            await conn.execute(COMMIT)
        return version

    async def sync_tree(
        self, user: UUID, project: UUID, tree: dict[str, str]
    ) -> tuple[int, int, int]:
        """Make the project's files `tree`: (created, updated, deleted)."""
        paths = list(tree)
        contents = list(tree.values())
        digests = [digest(text) for text in contents]
        async with self.pool.acquire() as conn:
            await conn.execute(begin(user))
            row = await conn.fetchrow(
                SYNC_UPSERT,
                project,
                user,
                paths,
                contents,
                [size for size, _ in digests],
                [sha for _, sha in digests],
            )
            status = await conn.execute(SYNC_DELETE, project, paths)
            await conn.execute(COMMIT)
        assert row is not None
        return row["created"], row["updated"], int(status.split()[-1])

    # The request workloads' Stack protocol (bench.stacks.base).

    async def get_file(self, fx: Fixture, path: str) -> int:
        row = await self.get_file_of(fx.user_id, fx.project_id, path)
        assert row is not None
        return len(row["content"])

    async def put(self, fx: Fixture, path: str, content: str) -> str:
        outcome, _ = await self.put_file(fx.user_id, fx.project_id, path, content)
        return outcome

    async def save_state(
        self, fx: Fixture, state: dict[str, Any], expected_version: int
    ) -> int:
        text = json.dumps(state)
        async with self.pool.acquire() as conn:
            await conn.execute(begin(fx.user_id))
            version: int | None = await conn.fetchval(
                SWAP_STATE, fx.project_id, text, expected_version
            )
            await conn.execute(COMMIT)
        assert version is not None, "the compare-and-swap did not apply"
        return version

    async def list_page(self, fx: Fixture, start: str | None) -> int:
        rows = await self.list_files(fx.user_id, fx.list_project_id, start or "")
        return len(rows)

    async def deep_start(self, fx: Fixture) -> str:
        return fx.deep_after

    async def state_version(self, fx: Fixture) -> int:
        async with self.pool.acquire() as conn:
            await conn.execute(begin(fx.user_id))
            version: int = await conn.fetchval(STATE_VERSION, fx.project_id)
            await conn.execute(COMMIT)
        return version
