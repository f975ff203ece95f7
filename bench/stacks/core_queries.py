"""What the official sqlc-gen-python emits for our queries: SQL constants with
`:pN` parameters run through `sqlalchemy.text()` on an AsyncConnection, and
plain dataclass models built by position. Written by hand from the same
queries (that plugin cannot run here), in its shape."""

from __future__ import annotations

import dataclasses
import datetime
import re
from typing import Any
from uuid import UUID

import sqlalchemy
from sqlalchemy.ext.asyncio import AsyncConnection

from repositories._generated import agent_states as state_sql
from repositories._generated import project_files as file_sql


def named(sql: str) -> str:
    """$N placeholders as :pN, every other colon (`::` casts, the `-- name:
    Name :one` line) escaped for text()."""
    return re.sub(r"\$(\d+)", r":p\1", sql.replace(":", "\\:"))


GET_FILE = named(file_sql.GET_FILE)
PUT_FILE = named(file_sql.PUT_FILE)
LIST_FILES = named(file_sql.LIST_FILES)
SWAP_AGENT_STATE = named(state_sql.SWAP_AGENT_STATE)


@dataclasses.dataclass()
class FileEntryRow:
    project_id: UUID
    path: str
    size_bytes: int
    sha256: str
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    kind: str


@dataclasses.dataclass()
class ProjectFile(FileEntryRow):
    content: bytes


@dataclasses.dataclass()
class PutFileRow(FileEntryRow):
    outcome: str


@dataclasses.dataclass()
class AgentState:
    project_id: UUID
    owner_id: UUID
    state: Any
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class AsyncQuerier:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get_file(
        self, *, project_id: UUID, owner_id: UUID, path: str
    ) -> ProjectFile | None:
        row = (
            await self._conn.execute(
                sqlalchemy.text(GET_FILE),
                {"p1": project_id, "p2": owner_id, "p3": path},
            )
        ).first()
        if row is None:
            return None
        return ProjectFile(
            project_id=row[0],
            path=row[1],
            size_bytes=row[2],
            sha256=row[3],
            version=row[4],
            created_at=row[5],
            updated_at=row[6],
            kind=row[7],
            content=row[8],
        )

    async def put_file(
        self,
        *,
        project_id: UUID,
        owner_id: UUID,
        path: str,
        sha256: str,
        size_bytes: int,
        content: bytes,
        kind: str,
    ) -> PutFileRow | None:
        row = (
            await self._conn.execute(
                sqlalchemy.text(PUT_FILE),
                {
                    "p1": project_id,
                    "p2": owner_id,
                    "p3": path,
                    "p4": sha256,
                    "p5": size_bytes,
                    "p6": content,
                    "p7": kind,
                },
            )
        ).first()
        if row is None:
            return None
        return PutFileRow(
            project_id=row[0],
            path=row[1],
            size_bytes=row[2],
            sha256=row[3],
            version=row[4],
            created_at=row[5],
            updated_at=row[6],
            kind=row[7],
            outcome=row[8],
        )

    async def list_files(
        self,
        *,
        project_id: UUID,
        owner_id: UUID,
        after_path: str,
        prefix: str,
        prefix_end: str | None,
        row_limit: int,
    ) -> list[FileEntryRow]:
        result = await self._conn.execute(
            sqlalchemy.text(LIST_FILES),
            {
                "p1": project_id,
                "p2": owner_id,
                "p3": after_path,
                "p4": prefix,
                "p5": prefix_end,
                "p6": row_limit,
            },
        )
        return [
            FileEntryRow(
                project_id=row[0],
                path=row[1],
                size_bytes=row[2],
                sha256=row[3],
                version=row[4],
                created_at=row[5],
                updated_at=row[6],
                kind=row[7],
            )
            for row in result
        ]

    async def swap_agent_state(
        self, *, state: str, project_id: UUID, owner_id: UUID, expected_version: int
    ) -> AgentState | None:
        row = (
            await self._conn.execute(
                sqlalchemy.text(SWAP_AGENT_STATE),
                {"p1": state, "p2": project_id, "p3": owner_id, "p4": expected_version},
            )
        ).first()
        if row is None:
            return None
        return AgentState(
            project_id=row[0],
            owner_id=row[1],
            state=row[2],
            version=row[3],
            created_at=row[4],
            updated_at=row[5],
        )
