"""store.users: what the auth layer calls. Not tenant data: it runs on a
pool of its own, logged in as the auth layer's login role (app_auth_login,
a member of app_auth), outside any unit of work. The tenant login cannot
reach app_auth, and the auth login cannot reach app_user."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from repositories import validation
from repositories._database import AUTH_LOGIN
from repositories._generated import models as rows
from repositories._generated import users as queries
from repositories._pooled import Connections
from repositories._translate import translated
from repositories.errors import EmailTaken, NotFound, RepositoryError
from repositories.models import RowModels, User, from_row

RESOURCE = "user"
NOT_CONFIGURED = "store.users is not configured: Store.open was given no auth_dsn"
NOT_CONFIGURED_DETAIL = (
    "store.users needs the auth layer's login: "
    f"Store.open(dsn, auth_dsn=<URL of {AUTH_LOGIN}>) (README, Production)"
)


ROW_MODELS = RowModels(picked_from=((User, rows.User, frozenset()),))


def to_user(row: rows.User) -> User:
    return from_row(User, row)


class UsersRepository:
    """`store.users`: the users the auth layer creates and reads. Not tenant
    data: each call is one statement on a connection of the auth pool
    (`Store.open(…, auth_dsn=…)`), logged in as app_auth_login, outside any
    unit of work. Without an auth_dsn every call raises RepositoryError."""

    def __init__(self, connections: Connections | None) -> None:
        self._connections = connections

    def _auth_pool(self) -> Connections:
        if self._connections is None:
            raise RepositoryError(NOT_CONFIGURED, detail=NOT_CONFIGURED_DETAIL)
        return self._connections

    async def create(self, *, email: str, name: str) -> User:
        """Register a user; the e-mail address is unique in any letter case."""
        checked_email = validation.email(email)
        checked_name = validation.name(name)
        with translated(RESOURCE):
            async with self._auth_pool().borrowed() as conn:
                try:
                    row = await queries.create_user(
                        conn, email=checked_email, name=checked_name
                    )
                except asyncpg.UniqueViolationError as exc:
                    raise EmailTaken(
                        RESOURCE, "the e-mail address is already registered"
                    ) from exc
        return to_user(row)

    async def get(self, user_id: UUID) -> User:
        """The user `user_id`."""
        user_id = validation.identifier(user_id, "user_id")
        with translated(RESOURCE):
            async with self._auth_pool().borrowed() as conn:
                row = await queries.get_user(conn, id=user_id)
        if row is None:
            raise NotFound(RESOURCE)
        return to_user(row)
