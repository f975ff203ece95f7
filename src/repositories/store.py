"""Store: the asyncpg pool and the entry points routes use."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterator
from types import TracebackType
from typing import Any, TypeVar
from uuid import UUID

import asyncpg

from repositories import _generated as generated
from repositories import (
    _login_role,
    _retry,
    agent_states,
    project_files,
    projects,
    users,
    validation,
)
from repositories._database import PINNED_SETTINGS
from repositories._generated import settings as settings_queries
from repositories._pooled import Connections, reset
from repositories._translate import translated
from repositories.cursors import CursorCodec
from repositories.errors import (
    InvalidInput,
    PrivilegedLogin,
    RepositoryError,
    Unavailable,
    UnsafeLoginSettings,
)
from repositories.models import StoreStats, check_row_models
from repositories.settings import UnitOfWorkSettings
from repositories.unit_of_work import UnitOfWork
from repositories.users import UsersRepository

R = TypeVar("R")


@contextlib.contextmanager
def _opening_errors() -> Iterator[None]:
    # asyncpg parses the DSN lazily and says ValueError for a malformed one;
    # its connect timeout is a TimeoutError: no server answered in time.
    try:
        yield
    except TimeoutError as exc:
        raise Unavailable(detail=f"connecting timed out: {exc!r}") from exc
    except ValueError as exc:
        raise InvalidInput(
            "dsn", "is not a valid PostgreSQL URL", detail=str(exc)
        ) from exc


async def _create_pool(
    dsn: str, purpose: _login_role.Purpose, allow_privileged: bool, **options: Any
) -> asyncpg.Pool[asyncpg.Record]:
    """A pool on `dsn` whose login role has been checked for `purpose`."""
    caller_settings = options.pop("server_settings", None) or {}
    with translated("database"), _opening_errors():
        pool = await asyncpg.create_pool(
            dsn,
            init=generated.init_connection,
            reset=reset,
            server_settings={**caller_settings, **PINNED_SETTINGS},
            **options,
        )
    try:
        with translated("database"), _opening_errors():
            async with pool.acquire() as conn:
                role, stored = await _login_role.stored_settings(conn)
                found: list[str] = []
                if not stored and not allow_privileged:
                    role, found = await _login_role.problems(conn, purpose)
    except BaseException:
        await pool.close()
        raise
    if stored:
        await pool.close()
        raise UnsafeLoginSettings(role, stored)
    if found:
        await pool.close()
        raise PrivilegedLogin(role, found)
    return pool


async def _stored_cursor_key(pool: asyncpg.Pool[asyncpg.Record]) -> bytes:
    """The key every process of the application signs cursors with, made
    once by the migrations (cursor_signing_key)."""
    with translated("cursor signing key"):
        async with pool.acquire() as conn:
            key = await settings_queries.get_cursor_signing_key(conn)
    if key is None:
        raise RepositoryError(
            "the database has no cursor signing key: apply the migrations "
            "(nox -s migrate), or pass cursor_key"
        )
    return key


AUTH_POOL_MAX_SIZE = 4
# Every repository's declaration of the row models it builds contract
# models from.
ROW_MODELS = (
    projects.ROW_MODELS,
    project_files.ROW_MODELS,
    agent_states.ROW_MODELS,
    users.ROW_MODELS,
)


class Store:
    """Owns the connection pool and hands out units of work; `store.users`
    works outside them. Open it with `await Store.open(dsn)` or
    `async with Store.open(dsn) as store:`."""

    def __init__(
        self,
        pool: asyncpg.Pool[asyncpg.Record],
        *,
        auth_pool: asyncpg.Pool[asyncpg.Record] | None = None,
        settings: UnitOfWorkSettings,
    ) -> None:
        # Private: routes reach the database only through the repositories.
        self._pool = pool
        self._auth_pool = auth_pool
        self._settings = settings
        self._connections = Connections(pool, settings.acquire_timeout)
        self._auth_connections = (
            None
            if auth_pool is None
            else Connections(auth_pool, settings.acquire_timeout, "auth")
        )
        self.users = UsersRepository(self._auth_connections)

    @classmethod
    def open(
        cls,
        dsn: str,
        *,
        auth_dsn: str | None = None,
        min_size: int = 1,
        max_size: int = 10,
        acquire_timeout: float = 10.0,
        command_timeout: float | None = 30.0,
        statement_cache_size: int = 100,
        max_content_bytes: int = validation.DEFAULT_MAX_CONTENT_BYTES,
        max_sync_files: int = validation.DEFAULT_MAX_SYNC_FILES,
        max_sync_bytes: int = validation.DEFAULT_MAX_SYNC_BYTES,
        cursor_key: bytes | None = None,
        allow_privileged_login_unsafe: bool = False,
        slow_unit_of_work: float = 1.0,
        **pool_options: Any,
    ) -> _OpeningStore:
        """Open a pool on `dsn` and return the Store: awaitable
        (`await Store.open(dsn)`) and an async context manager that closes it
        on exit (`async with Store.open(dsn) as store:`).

        auth_dsn is the auth layer's login (app_auth_login): store.users runs
        on a small pool of its own there; without it store.users raises
        RepositoryError. The tenant login cannot become the auth layer's role
        and the auth login cannot become a tenant.

        Every argument is checked at the call, before any connection:
        InvalidInput names the one that makes no sense (a size or limit
        below 1, min_size above max_size, a timeout that is not a positive
        finite number, a cursor_key that is not bytes of at least 32).

        statement_cache_size=0 makes it safe behind PgBouncer in transaction
        pooling mode. cursor_key signs listing cursors; by default the key the
        migrations stored in the database (cursor_signing_key) is read once
        here, so every process and restart accepts the others' cursors.
        The login roles are checked once, when the pools start: a superuser,
        a BYPASSRLS role, the owner of a tenant table, a role with privileges
        on tenant tables, one that can create temporary tables, or one that
        can switch to a role stronger than its purpose needs raises
        PrivilegedLogin, unless allow_privileged_login_unsafe=True
        (maintenance scripts only); settings stored on a login or its
        database that would change every unit of work and that the Store
        cannot pin raise UnsafeLoginSettings. search_path, the transaction
        defaults, row_security and the server's time limits are pinned at
        every connection's start (PINNED_SETTINGS), over anything stored with
        ALTER ROLE … SET. Further keyword arguments go to asyncpg.create_pool
        (server_settings are merged under the pinned ones). max_sync_files
        and max_sync_bytes bound one files.sync: its number of files and its
        paths and content in bytes of UTF-8 (the backend holds about four
        times a tree while it syncs it). A unit of work that takes
        slow_unit_of_work seconds or more logs a warning when it ends.
        """
        if not isinstance(dsn, str):
            raise InvalidInput("dsn", f"must be a str, not {type(dsn).__name__}")
        if auth_dsn is not None and not isinstance(auth_dsn, str):
            raise InvalidInput(
                "auth_dsn", f"must be a str or None, not {type(auth_dsn).__name__}"
            )
        validation.option(min_size, "min_size", least=0)
        validation.option(max_size, "max_size")
        if min_size > max_size:
            raise InvalidInput("min_size", "must not be above max_size")
        validation.seconds(acquire_timeout, "acquire_timeout")
        if command_timeout is not None:
            validation.seconds(command_timeout, "command_timeout")
        validation.option(statement_cache_size, "statement_cache_size", least=0)
        validation.option(max_content_bytes, "max_content_bytes")
        validation.option(max_sync_files, "max_sync_files")
        validation.option(max_sync_bytes, "max_sync_bytes")
        checked_key = validation.cursor_key(cursor_key)
        slow_after = validation.seconds(
            slow_unit_of_work, "slow_unit_of_work", zero=True
        )
        if not isinstance(allow_privileged_login_unsafe, bool):
            raise InvalidInput("allow_privileged_login_unsafe", "must be a bool")
        # Before any connection: a contract model that a regenerated row
        # model no longer fits fails here, naming both, not on a first call.
        check_row_models(ROW_MODELS)

        async def create() -> Store:
            pool = await _create_pool(
                dsn,
                "tenant",
                allow_privileged_login_unsafe,
                min_size=min_size,
                max_size=max_size,
                command_timeout=command_timeout,
                statement_cache_size=statement_cache_size,
                **pool_options,
            )
            auth_pool = None
            if auth_dsn is not None:
                try:
                    # The auth layer's calls are single statements: a few
                    # connections, opened when first needed.
                    auth_pool = await _create_pool(
                        auth_dsn,
                        "auth",
                        allow_privileged_login_unsafe,
                        min_size=0,
                        max_size=min(max_size, AUTH_POOL_MAX_SIZE),
                        command_timeout=command_timeout,
                        statement_cache_size=statement_cache_size,
                        **pool_options,
                    )
                except BaseException:
                    await pool.close()
                    raise
            try:
                key = checked_key or await _stored_cursor_key(pool)
            except BaseException:
                await pool.close()
                if auth_pool is not None:
                    await auth_pool.close()
                raise
            settings = UnitOfWorkSettings(
                acquire_timeout=float(acquire_timeout),
                cursors=CursorCodec(key),
                max_content_bytes=max_content_bytes,
                max_sync_files=max_sync_files,
                max_sync_bytes=max_sync_bytes,
                slow_unit_of_work=slow_after,
            )
            return cls(pool, auth_pool=auth_pool, settings=settings)

        return _OpeningStore(create)

    def unit_of_work(self, user_id: UUID) -> UnitOfWork:
        """A unit of work acting as the user `user_id`: one transaction on one
        pooled connection, entered with `async with`."""
        return UnitOfWork(self._connections, user_id, self._settings)

    async def retrying(
        self,
        user_id: UUID,
        work: Callable[[UnitOfWork], Awaitable[R]],
        *,
        attempts: int = 3,
        base_delay: float = 0.05,
        max_delay: float = 1.0,
    ) -> R:
        """Run `await work(uow)` in a unit of work of `user_id` and commit it,
        returning what `work` returned. When the database rolled the unit of
        work back (Contention, Timeout: nothing of it remains), wait and run
        `work` again in a new one, at most `attempts` times in all; then
        raise the last error."""
        user_id = validation.identifier(user_id, "user_id")
        if not callable(work):
            raise InvalidInput("work", "must be a callable taking the unit of work")
        _retry.checked(attempts, base_delay, max_delay)
        return await _retry.retrying(
            lambda: self.unit_of_work(user_id),
            work,
            attempts,
            float(base_delay),
            float(max_delay),
        )

    async def ping(self) -> None:
        """One round trip to the server on a connection of the pool; returns
        when the server answers. For a health check: it raises Unavailable
        when the server cannot be reached or does not answer within
        command_timeout, PoolExhausted when no connection frees up."""
        with translated("database"):
            async with self._connections.borrowed() as conn:
                try:
                    await conn.execute("SELECT 1")
                except TimeoutError as exc:
                    raise Unavailable(
                        detail=f"no answer within command_timeout: {exc!r}"
                    ) from exc

    def stats(self) -> StoreStats:
        """The pools' connections now: open, in use, idle, and the callers
        waiting for one. Read from the pools themselves: no round trip, so
        not async."""
        return StoreStats(
            tenant=self._connections.stats(),
            auth=None
            if self._auth_connections is None
            else self._auth_connections.stats(),
        )

    async def close(self) -> None:
        """Close the pool and its connections (`async with Store.open(…)`
        does it on exit)."""
        try:
            if self._auth_pool is not None:
                await self._auth_pool.close()
        finally:
            await self._pool.close()


class _OpeningStore:
    """Awaitable (`await Store.open(…)`) and an async context manager that
    closes the Store on exit (`async with Store.open(…) as store`)."""

    def __init__(self, create: Callable[[], Coroutine[Any, Any, Store]]) -> None:
        self._create = create
        self._store: Store | None = None

    def __await__(self) -> Generator[Any, None, Store]:
        return self._create().__await__()

    async def __aenter__(self) -> Store:
        self._store = await self._create()
        return self._store

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._store is not None:
            await self._store.close()
