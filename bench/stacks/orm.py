"""(b) SQLAlchemy 2.x async ORM on the asyncpg driver: a Session per request,
declarative models, ORM-enabled statements that send the same SQL as the
other stacks (an upsert and a compare-and-swap UPDATE … RETURNING, not a
load-modify-flush, which would cost one more round trip)."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Insert, func, literal, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import load_only

from bench.database import Fixture
from bench.stacks.base import PAGE
from bench.stacks.engine import create_engine
from bench.stacks.orm_models import ENTRY_COLUMNS, AgentStateRow, FileRow, ProjectRow


class OrmStack:
    key = "b"

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)

    @classmethod
    async def open(cls, url: str, pool_size: int) -> OrmStack:
        return cls(create_engine(url, pool_size))

    async def close(self) -> None:
        await self.engine.dispose()

    async def get_file(self, fx: Fixture, path: str) -> int:
        query = select(FileRow).where(
            FileRow.project_id == fx.project_id,
            FileRow.owner_id == fx.user_id,
            FileRow.path == path,
        )
        async with self.sessions() as session, session.begin():
            found = (await session.execute(query)).scalar_one()
        return len(found.content)

    async def put(self, fx: Fixture, path: str, content: str) -> str:
        encoded = content.encode()
        size, sha = len(encoded), hashlib.sha256(encoded).hexdigest()
        source = select(
            ProjectRow.id,
            ProjectRow.owner_id,
            literal(path),
            literal(content),
            literal(size),
            literal(sha),
        ).where(ProjectRow.id == fx.project_id, ProjectRow.owner_id == fx.user_id)
        upsert = insert(FileRow).from_select(
            ["project_id", "owner_id", "path", "content", "size_bytes", "sha256"],
            source,
        )
        statement: Insert = upsert.on_conflict_do_update(
            index_elements=[FileRow.project_id, FileRow.path],
            set_={
                "content": upsert.excluded.content,
                "size_bytes": upsert.excluded.size_bytes,
                "sha256": upsert.excluded.sha256,
                "version": FileRow.version + 1,
                "updated_at": func.statement_timestamp(),
            },
            where=FileRow.sha256 != upsert.excluded.sha256,
        ).returning(*ENTRY_COLUMNS, literal_column("(xmax = 0)").label("inserted"))
        async with self.sessions() as session, session.begin():
            written = (await session.execute(statement)).first()
            if written is not None:
                return "created" if written.inserted else "updated"
            entry = (
                await session.execute(
                    select(FileRow)
                    .options(load_only(*ENTRY_COLUMNS))
                    .where(
                        FileRow.project_id == fx.project_id,
                        FileRow.owner_id == fx.user_id,
                        FileRow.path == path,
                    )
                )
            ).scalar_one()
        assert entry.sha256 == sha
        return "unchanged"

    async def save_state(
        self, fx: Fixture, state: dict[str, Any], expected_version: int
    ) -> int:
        statement = (
            update(AgentStateRow)
            .where(
                AgentStateRow.project_id == fx.project_id,
                AgentStateRow.owner_id == fx.user_id,
                AgentStateRow.version == expected_version,
            )
            .values(
                state=state,
                version=AgentStateRow.version + 1,
                updated_at=func.statement_timestamp(),
            )
            .returning(AgentStateRow)
        )
        async with self.sessions() as session, session.begin():
            saved = (await session.execute(statement)).scalar_one()
        return saved.version

    async def list_page(self, fx: Fixture, start: str | None) -> int:
        query = (
            select(FileRow)
            .options(load_only(*ENTRY_COLUMNS))
            .where(
                FileRow.project_id == fx.list_project_id,
                FileRow.owner_id == fx.user_id,
                FileRow.path > (start or ""),
            )
            .order_by(FileRow.path)
            .limit(PAGE + 1)
        )
        async with self.sessions() as session, session.begin():
            found = (await session.scalars(query)).all()
        return min(len(found), PAGE)

    async def deep_start(self, fx: Fixture) -> str:
        return fx.deep_after

    async def state_version(self, fx: Fixture) -> int:
        async with self.sessions() as session:
            version = await session.scalar(
                select(AgentStateRow.version).where(
                    AgentStateRow.project_id == fx.project_id
                )
            )
        assert version is not None
        return version
