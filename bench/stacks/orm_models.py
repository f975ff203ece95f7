"""Declarative SQLAlchemy models mapped onto the schema's tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, DateTime, LargeBinary, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class ProjectRow(Base):
    __tablename__ = "projects"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    owner_id: Mapped[UUID]
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    file_version_floor: Mapped[int] = mapped_column(BigInteger)
    agent_state_version_floor: Mapped[int] = mapped_column(BigInteger)
    generation: Mapped[int] = mapped_column(BigInteger)


class FileRow(Base):
    """The current file: its content is in file_contents, its version in
    file_versions."""

    __tablename__ = "project_files"

    project_id: Mapped[UUID] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(Text, primary_key=True)
    owner_id: Mapped[UUID]
    kind: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FileContentRow(Base):
    __tablename__ = "file_contents"

    project_id: Mapped[UUID] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(Text, primary_key=True)
    owner_id: Mapped[UUID]
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FileVersionRow(Base):
    __tablename__ = "file_versions"

    project_id: Mapped[UUID] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    owner_id: Mapped[UUID]
    generation: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_generation: Mapped[int | None] = mapped_column(BigInteger)


class AgentStateRow(Base):
    __tablename__ = "agent_states"

    project_id: Mapped[UUID] = mapped_column(primary_key=True)
    owner_id: Mapped[UUID]
    state: Mapped[dict[str, Any]] = mapped_column(JSONB)
    version: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AgentStateVersionRow(Base):
    __tablename__ = "agent_state_versions"

    project_id: Mapped[UUID] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    owner_id: Mapped[UUID]
    generation: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_generation: Mapped[int | None] = mapped_column(BigInteger)


ENTRY_COLUMNS = (
    FileRow.project_id,
    FileRow.path,
    FileRow.size_bytes,
    FileRow.sha256,
    FileRow.version,
    FileRow.created_at,
    FileRow.updated_at,
    FileRow.kind,
)
