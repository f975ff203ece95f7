"""Helpers shared by the test folders (fixtures live in tests/conftest.py):
new users and projects, and what a pooled connection carries when the pool
hands it out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from repositories import Project, Store, User


async def new_user(store: Store, name: str = "Ada") -> User:
    return await store.users.create(email=f"{uuid.uuid4().hex}@example.com", name=name)


async def new_project(store: Store, owner: User, name: str = "Project") -> Project:
    async with store.unit_of_work(owner.id) as uow:
        return await uow.projects.create(name)


@dataclass(frozen=True)
class Session:
    """A connection's session as a query on it sees it."""

    pid: int
    user: str
    actor: str | None
    in_transaction: bool


async def session_of(conn: Any) -> Session:
    row = await conn.fetchrow(
        "SELECT pg_backend_pid() AS pid, current_user AS who,"
        " current_setting('app.user_id', true) AS actor"
    )
    assert row is not None
    return Session(row["pid"], row["who"], row["actor"], conn.is_in_transaction())


class HandedOut:
    """Pass as `Store.open(…, setup=handed_out)`: asyncpg runs `setup` on every
    connection the pool hands out, before the borrower's first statement, so
    `seen` shows what each borrower (a unit of work, store.users) received:
    whatever the previous one left behind. No test reaches into the pool."""

    def __init__(self) -> None:
        self.seen: list[Session] = []

    async def __call__(self, conn: Any) -> None:
        self.seen.append(await session_of(conn))

    async def next_borrower(self, store: Store, user: User) -> Session:
        """What the pool hands to the next borrower: `store.users.get` borrows
        a connection and runs no session setup of its own."""
        await store.users.get(user.id)
        return self.seen[-1]
