"""(c) SQLAlchemy Core `text()` on an AsyncConnection, through a querier in
the shape sqlc-gen-python generates: one `engine.begin()` per request."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.database import Fixture
from bench.stacks.base import PAGE
from bench.stacks.core_queries import AsyncQuerier
from bench.stacks.engine import create_engine


class CoreStack:
    key = "c"

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @classmethod
    async def open(cls, url: str, pool_size: int) -> CoreStack:
        return cls(create_engine(url, pool_size))

    async def close(self) -> None:
        await self.engine.dispose()

    async def get_file(self, fx: Fixture, path: str) -> int:
        async with self.engine.begin() as conn:
            found = await AsyncQuerier(conn).get_file(
                project_id=fx.project_id, owner_id=fx.user_id, path=path
            )
        assert found is not None
        return len(found.content)

    async def put(self, fx: Fixture, path: str, content: str) -> str:
        encoded = content.encode()
        size, sha = len(encoded), hashlib.sha256(encoded).hexdigest()
        async with self.engine.begin() as conn:
            written = await AsyncQuerier(conn).put_file(
                project_id=fx.project_id,
                owner_id=fx.user_id,
                path=path,
                sha256=sha,
                size_bytes=size,
                content=encoded,
                kind="text",
            )
        assert written is not None
        return written.outcome

    async def save_state(
        self, fx: Fixture, state: dict[str, Any], expected_version: int
    ) -> int:
        async with self.engine.begin() as conn:
            saved = await AsyncQuerier(conn).swap_agent_state(
                state=json.dumps(state),
                project_id=fx.project_id,
                owner_id=fx.user_id,
                expected_version=expected_version,
            )
        assert saved is not None
        assert isinstance(saved.state, dict)
        return saved.version

    async def list_page(self, fx: Fixture, start: str | None) -> int:
        async with self.engine.begin() as conn:
            found = await AsyncQuerier(conn).list_files(
                project_id=fx.list_project_id,
                owner_id=fx.user_id,
                after_path=start or "",
                prefix="",
                prefix_end=None,
                row_limit=PAGE + 1,
            )
        return min(len(found), PAGE)

    async def deep_start(self, fx: Fixture) -> str:
        return fx.deep_after

    async def state_version(self, fx: Fixture) -> int:
        async with self.engine.connect() as conn:
            version: int = (
                await conn.execute(
                    text("SELECT version FROM agent_states WHERE project_id = :p1"),
                    {"p1": fx.project_id},
                )
            ).scalar_one()
        return version
