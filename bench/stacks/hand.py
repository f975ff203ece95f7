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

It keeps history as the schema asks (schema.sql: file_contents,
file_versions, agent_state_versions), in the same statement as each write:

- put: one statement: the content INSERT … ON CONFLICT DO NOTHING (stored
  once per project), the INSERT … ON CONFLICT (project_id, path) DO
  UPDATE … WHERE the sha256 differs RETURNING version, and the version
  row from what it returned; size and sha256 computed here. No row back
  means the content was stored already (nothing written). A file new at
  a path starts above the path's highest version in the history (1 for a
  path never used), an update adds 1.
- get: one SELECT by primary key joined to its content; list: one keyset
  SELECT of 100 entries without content; agent state: an upsert (or, for
  the request workload's compare-and-swap, one UPDATE … WHERE version =
  expected), each adding the state's version row.
- sync: one transaction, one upsert of the whole tree from arrays
  (unnest: contents, files, versions), then one DELETE of the paths not
  in it that marks their versions deleted.
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

# History, as the schema keeps it: a write stores the content unless the
# project holds it (ON CONFLICT DO NOTHING), upserts the current row and
# adds that version to file_versions, stamped with the project's
# generation; a file new at a path starts above the path's highest version
# in the history (versions never repeat for a path). One statement: the
# current row names its version, the version its content, and the foreign
# keys are checked at its end.
PUT = """
WITH stored AS (
    INSERT INTO file_contents (project_id, owner_id, sha256, size_bytes, content)
    VALUES ($1, $2, $6, $5, $4)
    ON CONFLICT (project_id, sha256) DO NOTHING
), written AS (
    INSERT INTO project_files AS f
        (project_id, owner_id, path, kind, size_bytes, sha256, version)
    VALUES ($1, $2, $3, 'text', $5, $6, (
        SELECT coalesce(max(v.version), 0) + 1 FROM file_versions AS v
        WHERE v.project_id = $1 AND v.path = $3
    ))
    ON CONFLICT (project_id, path) DO UPDATE
    SET kind = excluded.kind,
        size_bytes = excluded.size_bytes,
        sha256 = excluded.sha256,
        version = f.version + 1,
        updated_at = excluded.updated_at
    WHERE f.sha256 <> excluded.sha256 OR f.kind <> excluded.kind
    RETURNING version, kind, size_bytes, sha256, xmax = 0 AS created
), versioned AS (
    INSERT INTO file_versions
        (project_id, owner_id, path, version, generation, kind, size_bytes, sha256)
    SELECT $1, $2, $3, w.version, p.generation, w.kind, w.size_bytes, w.sha256
    FROM written AS w CROSS JOIN projects AS p
    WHERE p.id = $1
)
SELECT version, created FROM written
"""

GET = """
SELECT f.project_id, f.path, f.kind, c.content, f.size_bytes, f.sha256, f.version,
    f.created_at, f.updated_at
FROM project_files AS f
JOIN file_contents AS c ON c.project_id = f.project_id AND c.sha256 = f.sha256
WHERE f.project_id = $1 AND f.path = $2
"""

LIST = """
SELECT path, kind, size_bytes, sha256, version, created_at, updated_at
FROM project_files
WHERE project_id = $1 AND path > $2
ORDER BY path
LIMIT $3
"""

SAVE_STATE = """
WITH written AS (
    INSERT INTO agent_states AS s (project_id, owner_id, state, version)
    VALUES ($1, $2, $3::jsonb, (
        SELECT coalesce(max(v.version), 0) + 1 FROM agent_state_versions AS v
        WHERE v.project_id = $1
    ))
    ON CONFLICT (project_id) DO UPDATE
    SET state = excluded.state,
        version = s.version + 1,
        updated_at = excluded.updated_at
    RETURNING version, state
), versioned AS (
    INSERT INTO agent_state_versions (project_id, owner_id, version, generation, state)
    SELECT $1, $2, w.version, p.generation, w.state
    FROM written AS w CROSS JOIN projects AS p
    WHERE p.id = $1
)
SELECT version FROM written
"""

SWAP_STATE = """
WITH written AS (
    UPDATE agent_states
    SET state = $2::jsonb, version = version + 1, updated_at = statement_timestamp()
    WHERE project_id = $1 AND version = $3
    RETURNING owner_id, version, state
), versioned AS (
    INSERT INTO agent_state_versions (project_id, owner_id, version, generation, state)
    SELECT $1, w.owner_id, w.version, p.generation, w.state
    FROM written AS w CROSS JOIN projects AS p
    WHERE p.id = $1
)
SELECT version FROM written
"""

STATE_VERSION = "SELECT version FROM agent_states WHERE project_id = $1"

SYNC_UPSERT = """
WITH given AS (
    SELECT t.path, t.content, t.size_bytes, t.sha256
    FROM unnest($3::text[], $4::bytea[], $5::bigint[], $6::text[])
        AS t(path, content, size_bytes, sha256)
), stored AS (
    INSERT INTO file_contents (project_id, owner_id, sha256, size_bytes, content)
    SELECT DISTINCT ON (g.sha256) $1, $2, g.sha256, g.size_bytes, g.content
    FROM given AS g
    ORDER BY g.sha256
    ON CONFLICT (project_id, sha256) DO NOTHING
), written AS (
    INSERT INTO project_files AS f
        (project_id, owner_id, path, kind, size_bytes, sha256, version)
    SELECT $1, $2, g.path, 'text', g.size_bytes, g.sha256, (
        SELECT coalesce(max(v.version), 0) + 1 FROM file_versions AS v
        WHERE v.project_id = $1 AND v.path = g.path
    )
    FROM given AS g
    ON CONFLICT (project_id, path) DO UPDATE
    SET kind = excluded.kind,
        size_bytes = excluded.size_bytes,
        sha256 = excluded.sha256,
        version = f.version + 1,
        updated_at = excluded.updated_at
    WHERE f.sha256 <> excluded.sha256 OR f.kind <> excluded.kind
    RETURNING path, version, kind, size_bytes, sha256, xmax = 0 AS created
), versioned AS (
    INSERT INTO file_versions
        (project_id, owner_id, path, version, generation, kind, size_bytes, sha256)
    SELECT $1, $2, w.path, w.version, p.generation, w.kind, w.size_bytes, w.sha256
    FROM written AS w CROSS JOIN projects AS p
    WHERE p.id = $1
)
SELECT count(*) FILTER (WHERE created) AS created,
    count(*) FILTER (WHERE NOT created) AS updated
FROM written
"""

# The paths not in the tree leave it; their versions are marked deleted.
SYNC_DELETE = """
WITH removed AS (
    DELETE FROM project_files
    WHERE project_id = $1 AND path <> ALL($2::text[])
    RETURNING path, version
), marked AS (
    UPDATE file_versions AS v
    SET deleted_at = statement_timestamp(), deleted_generation = p.generation
    FROM removed AS r, projects AS p
    WHERE v.project_id = $1 AND v.path = r.path AND v.version = r.version
      AND p.id = $1
)
SELECT count(*) FROM removed
"""


def digest(content: str) -> tuple[int, str]:
    """Size and hex SHA-256 of the text's UTF-8 bytes."""
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
        encoded = content.encode("utf-8")
        size, sha = len(encoded), hashlib.sha256(encoded).hexdigest()
        async with self.pool.acquire() as conn:
            await conn.execute(begin(user))
            row = await conn.fetchrow(PUT, project, user, path, encoded, size, sha)
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
        contents = [text.encode("utf-8") for text in tree.values()]
        async with self.pool.acquire() as conn:
            await conn.execute(begin(user))
            row = await conn.fetchrow(
                SYNC_UPSERT,
                project,
                user,
                paths,
                contents,
                [len(content) for content in contents],
                [hashlib.sha256(content).hexdigest() for content in contents],
            )
            deleted: int = await conn.fetchval(SYNC_DELETE, project, paths)
            await conn.execute(COMMIT)
        assert row is not None
        return row["created"], row["updated"], deleted

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
