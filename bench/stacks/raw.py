"""(a) raw asyncpg: the same SQL as the generated queries, no tenant context
(no role switch, no RLS), no validation, asyncpg Records out. The floor."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import asyncpg

from bench.database import Fixture
from bench.stacks.base import PAGE
from repositories._generated import agent_states as state_sql
from repositories._generated import project_files as file_sql


async def init_json(conn: asyncpg.Connection[Any]) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(
            name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def cheap_reset(conn: asyncpg.Connection[Any]) -> None:
    # The same reset the Store uses: asyncpg's default costs a round trip per
    # release (RESET ALL and friends), which a floor should not pay.
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def create_pool(url: str, size: int) -> asyncpg.Pool[asyncpg.Record]:
    return await asyncpg.create_pool(
        url, min_size=size, max_size=size, init=init_json, reset=cheap_reset
    )


class RawStack:
    key = "a"

    def __init__(self, pool: asyncpg.Pool[asyncpg.Record]) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, url: str, pool_size: int) -> RawStack:
        return cls(await create_pool(url, pool_size))

    async def close(self) -> None:
        await self.pool.close()

    async def get_file(self, fx: Fixture, path: str) -> int:
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                file_sql.GET_FILE, fx.project_id, fx.user_id, path
            )
        assert row is not None
        return len(row["content"])

    async def put(self, fx: Fixture, path: str, content: str) -> str:
        encoded = content.encode()
        size, sha = len(encoded), hashlib.sha256(encoded).hexdigest()
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                file_sql.PUT_FILE,
                fx.project_id,
                fx.user_id,
                path,
                sha,
                size,
                encoded,
                "text",
            )
        assert row is not None
        outcome: str = row["outcome"]
        return outcome

    async def save_state(
        self, fx: Fixture, state: dict[str, Any], expected_version: int
    ) -> int:
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                state_sql.SWAP_AGENT_STATE,
                json.dumps(state),  # the statement takes JSON text
                fx.project_id,
                fx.user_id,
                expected_version,
            )
        assert row is not None
        version: int = row["version"]
        return version

    async def list_page(self, fx: Fixture, start: str | None) -> int:
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                file_sql.LIST_FILES,
                fx.list_project_id,
                fx.user_id,
                start or "",
                "",
                None,
                PAGE + 1,
            )
        return min(len(rows), PAGE)

    async def deep_start(self, fx: Fixture) -> str:
        return fx.deep_after

    async def state_version(self, fx: Fixture) -> int:
        async with self.pool.acquire() as conn:
            version: int = await conn.fetchval(
                "SELECT version FROM agent_states WHERE project_id = $1",
                fx.project_id,
            )
        return version
