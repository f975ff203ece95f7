"""What every stack offers the workloads."""

from __future__ import annotations

from typing import Any, Protocol

from bench.database import Fixture

PAGE = 100  # entries per listing page

STACKS: dict[str, str] = {
    "a": "raw asyncpg",
    "b": "SQLAlchemy ORM",
    "c": "SQLAlchemy Core text()",
    "d": "repositories",
}


class Stack(Protocol):
    key: str

    async def close(self) -> None: ...

    async def get_file(self, fx: Fixture, path: str) -> int:
        """The file's content length."""
        ...

    async def put(self, fx: Fixture, path: str, content: str) -> str:
        """created, updated or unchanged."""
        ...

    async def save_state(
        self, fx: Fixture, state: dict[str, Any], expected_version: int
    ) -> int:
        """Compare-and-swap; the new version."""
        ...

    async def list_page(self, fx: Fixture, start: str | None) -> int:
        """One page of the listing project; the number of entries.
        `start` is what deep_start returned, or None for the first page."""
        ...

    async def deep_start(self, fx: Fixture) -> str:
        """Where the deep page starts, in this stack's terms (a path or a cursor)."""
        ...

    async def state_version(self, fx: Fixture) -> int: ...


async def open_stack(key: str, url: str, pool_size: int) -> Stack:
    if key == "a":
        from bench.stacks.raw import RawStack

        return await RawStack.open(url, pool_size)
    if key == "b":
        from bench.stacks.orm import OrmStack

        return await OrmStack.open(url, pool_size)
    if key == "c":
        from bench.stacks.core import CoreStack

        return await CoreStack.open(url, pool_size)
    if key == "d":
        from bench.stacks.repo import RepoStack

        return await RepoStack.open(url, pool_size)
    raise ValueError(f"unknown stack {key!r}")
