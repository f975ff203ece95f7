"""(d) this project's repositories: Store and unit_of_work, with validation,
row-level security (SET LOCAL ROLE app_user) and pydantic models."""

from __future__ import annotations

from typing import Any

from bench.database import Fixture
from bench.stacks.base import PAGE
from devtools.database import app_login_url, auth_login_url
from repositories import Store


class RepoStack:
    key = "d"

    def __init__(self, store: Store) -> None:
        self.store = store

    @classmethod
    async def open(cls, url: str, pool_size: int) -> RepoStack:
        # As in production: the least-privileged login role, not the owner.
        login = await app_login_url(url)
        auth = await auth_login_url(url)
        store = await Store.open(
            login, auth_dsn=auth, min_size=pool_size, max_size=pool_size
        )
        return cls(store)

    async def close(self) -> None:
        await self.store.close()

    async def get_file(self, fx: Fixture, path: str) -> int:
        async with self.store.unit_of_work(fx.user_id) as uow:
            found = await uow.files.get(fx.project_id, path)
        return len(found.content)

    async def put(self, fx: Fixture, path: str, content: str) -> str:
        async with self.store.unit_of_work(fx.user_id) as uow:
            write = await uow.files.put(fx.project_id, path, content)
        return write.outcome

    async def save_state(
        self, fx: Fixture, state: dict[str, Any], expected_version: int
    ) -> int:
        async with self.store.unit_of_work(fx.user_id) as uow:
            saved = await uow.agent_states.save(
                fx.project_id, state, expected_version=expected_version
            )
        return saved.version

    async def list_page(self, fx: Fixture, start: str | None) -> int:
        async with self.store.unit_of_work(fx.user_id) as uow:
            page = await uow.files.list(fx.list_project_id, limit=PAGE, cursor=start)
        return len(page.items)

    async def deep_start(self, fx: Fixture) -> str:
        """Walk the listing with the largest pages to the cursor a client
        would hold at the deep position."""
        cursor: str | None = None
        remaining = fx.deep_index
        last = ""
        while remaining:
            async with self.store.unit_of_work(fx.user_id) as uow:
                page = await uow.files.list(
                    fx.list_project_id, limit=min(remaining, 1000), cursor=cursor
                )
            remaining -= len(page.items)
            last = page.items[-1].path
            cursor = page.next_cursor
        assert last == fx.deep_after, last
        assert cursor is not None
        return cursor

    async def state_version(self, fx: Fixture) -> int:
        async with self.store.unit_of_work(fx.user_id) as uow:
            current = await uow.agent_states.get(fx.project_id)
        return current.version
