"""(b) SQLAlchemy 2.x async ORM on the asyncpg driver: a Session per request,
declarative models, ORM-enabled statements (a compare-and-swap UPDATE …
RETURNING, not a load-modify-flush, which would cost one more round trip).
The writes keep history as the schema asks: a put reads the project and
the file, then stores the content, the version and the file (three
INSERTs; the generated statement does it in one), a save adds the state's
version after the UPDATE."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import exists, func, literal, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import load_only

from bench.database import Fixture
from bench.stacks.base import PAGE
from bench.stacks.engine import create_engine
from bench.stacks.orm_models import (
    ENTRY_COLUMNS,
    AgentStateRow,
    AgentStateVersionRow,
    FileContentRow,
    FileRow,
    FileVersionRow,
    ProjectRow,
)


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
        query = (
            select(FileRow, FileContentRow.content)
            .join(
                FileContentRow,
                (FileContentRow.project_id == FileRow.project_id)
                & (FileContentRow.sha256 == FileRow.sha256),
            )
            .where(
                FileRow.project_id == fx.project_id,
                FileRow.owner_id == fx.user_id,
                FileRow.path == path,
            )
        )
        async with self.sessions() as session, session.begin():
            found = (await session.execute(query)).one()
        return len(found.content)

    async def put(self, fx: Fixture, path: str, content: str) -> str:
        """The ORM's way with history: read the project (locked: its
        writers take turns) and the current file; nothing more when the
        content is the same; else store the content unless the project
        holds it, add the version, upsert the file. The foreign keys order
        the inserts (a file names its version, a version its content)."""
        encoded = content.encode()
        size, sha = len(encoded), hashlib.sha256(encoded).hexdigest()
        read = (
            select(
                ProjectRow.file_version_floor,
                ProjectRow.generation,
                FileRow.version,
                FileRow.sha256,
                FileRow.kind,
            )
            .outerjoin(
                FileRow,
                (FileRow.project_id == ProjectRow.id)
                & (FileRow.owner_id == ProjectRow.owner_id)
                & (FileRow.path == path),
            )
            .where(ProjectRow.id == fx.project_id, ProjectRow.owner_id == fx.user_id)
            .with_for_update(of=ProjectRow)
        )
        owner = {"project_id": fx.project_id, "owner_id": fx.user_id}
        async with self.sessions() as session, session.begin():
            found = (await session.execute(read)).one()
            if found.sha256 == sha and found.kind == "text":
                return "unchanged"
            version = (found.version or found.file_version_floor) + 1
            await session.execute(
                insert(FileContentRow)
                .values(**owner, sha256=sha, size_bytes=size, content=encoded)
                .on_conflict_do_nothing(
                    index_elements=[FileContentRow.project_id, FileContentRow.sha256]
                )
            )
            row = {"kind": "text", "size_bytes": size, "sha256": sha}
            await session.execute(
                insert(FileVersionRow).values(
                    **owner,
                    path=path,
                    version=version,
                    generation=found.generation,
                    **row,
                )
            )
            upsert = insert(FileRow).values(**owner, path=path, version=version, **row)
            await session.execute(
                upsert.on_conflict_do_update(
                    index_elements=[FileRow.project_id, FileRow.path],
                    set_={
                        **{key: upsert.excluded[key] for key in row},
                        "version": upsert.excluded.version,
                        "updated_at": func.statement_timestamp(),
                    },
                )
            )
        return "updated" if found.version is not None else "created"

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
        # The state names its version (a foreign key): the version row first,
        # written only when the compare-and-swap will apply.
        source = select(
            ProjectRow.id,
            ProjectRow.owner_id,
            literal(expected_version + 1),
            ProjectRow.generation,
            literal(state, type_=JSONB),
        ).where(
            ProjectRow.id == fx.project_id,
            ProjectRow.owner_id == fx.user_id,
            exists().where(
                AgentStateRow.project_id == ProjectRow.id,
                AgentStateRow.version == expected_version,
            ),
        )
        async with self.sessions() as session, session.begin():
            await session.execute(
                insert(AgentStateVersionRow).from_select(
                    ["project_id", "owner_id", "version", "generation", "state"],
                    source,
                )
            )
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
