"""store.users: what the auth layer calls. Not tenant data: it runs on the
pool's own login role, outside any unit of work."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from generated import models as rows
from generated import users as queries
from repositories import validation
from repositories.database_errors import translated
from repositories.errors import Conflict, NotFound
from repositories.models import User, from_row
from repositories.pooled import pooled

RESOURCE = "user"
# One round trip; the role is transaction-local. A call that fails before
# its COMMIT leaves the transaction to the pool, which rolls it back on
# release.
BEGIN_AS_AUTH_LAYER = "BEGIN; SET LOCAL ROLE app_auth"


def to_user(row: rows.User) -> User:
    return from_row(User, row)


class UsersRepository:
    """`store.users`: the users the auth layer creates and reads. Not tenant
    data: each call takes a pooled connection of its own and runs outside any
    unit of work, in a transaction of its own as the auth layer's role
    `app_auth` (the login role holds no privilege itself)."""

    def __init__(
        self, pool: asyncpg.Pool[asyncpg.Record], acquire_timeout: float
    ) -> None:
        self._pool = pool
        self._acquire_timeout = acquire_timeout

    async def create(self, *, email: str, name: str) -> User:
        """Register a user; the e-mail address is unique in any letter case."""
        checked_email = validation.email(email)
        checked_name = validation.name(name)
        with translated(RESOURCE):
            async with pooled(self._pool, self._acquire_timeout) as conn:
                await conn.execute(BEGIN_AS_AUTH_LAYER)
                try:
                    row = await queries.create_user(
                        conn, email=checked_email, name=checked_name
                    )
                except asyncpg.UniqueViolationError as exc:
                    raise Conflict(
                        RESOURCE, "the e-mail address is already registered"
                    ) from exc
                await conn.execute("COMMIT")
        return to_user(row)

    async def get(self, user_id: UUID) -> User:
        """The user `user_id`."""
        validation.identifier(user_id, "user_id")
        with translated(RESOURCE):
            async with pooled(self._pool, self._acquire_timeout) as conn:
                await conn.execute(BEGIN_AS_AUTH_LAYER)
                row = await queries.get_user(conn, id=user_id)
                await conn.execute("COMMIT")
        if row is None:
            raise NotFound(RESOURCE)
        return to_user(row)
