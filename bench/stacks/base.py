"""What every stack offers the workloads (the registry is bench.stacks)."""

from __future__ import annotations

from typing import Any, Protocol

from bench.database import Fixture

PAGE = 100  # entries per listing page


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
