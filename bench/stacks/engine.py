"""The SQLAlchemy engine the ORM (b) and Core (c) stacks share."""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def create_engine(url: str, pool_size: int) -> AsyncEngine:
    """An engine on the same DSN as the other stacks (asyncpg parses it)."""

    async def connect() -> asyncpg.Connection[Any]:
        return await asyncpg.connect(url)

    return create_async_engine(
        "postgresql+asyncpg://",
        async_creator=connect,
        pool_size=pool_size,
        max_overflow=0,
    )
