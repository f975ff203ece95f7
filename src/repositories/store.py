"""Store: the asyncpg pool and the entry points routes use."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Generator, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar
from uuid import UUID

import asyncpg

from repositories import _generated as generated
from repositories import (
    _login_role,
    _retry,
    agent_states,
    checkpoints,
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

AUTH_POOL_MAX_SIZE = 4
# Arguments of asyncpg.create_pool that the Store sets itself, so a caller's
# would take its place: the JSON codecs, and the session reset.
STORE_POOL_OPTIONS = ("init", "reset")
# Every repository's declaration of the row models it builds contract
# models from.
ROW_MODELS = (
    projects.ROW_MODELS,
    project_files.ROW_MODELS,
    agent_states.ROW_MODELS,
    checkpoints.ROW_MODELS,
    users.ROW_MODELS,
)


@dataclass(frozen=True, slots=True)
class _Options:
    """What Store.open was given, checked (`_checked_options`)."""

    dsn: str
    auth_dsn: str | None
    min_size: int
    max_size: int
    acquire_timeout: float
    command_timeout: float | None
    statement_cache_size: int
    max_content_bytes: int
    max_sync_files: int
    max_sync_bytes: int
    cursor_key: bytes | None
    allow_privileged_login_unsafe: bool
    slow_unit_of_work: float
    server_settings: dict[str, str]
    pool_options: dict[str, Any]


def _checked_options(
    dsn: object,
    *,
    auth_dsn: object,
    min_size: object,
    max_size: object,
    acquire_timeout: object,
    command_timeout: object,
    statement_cache_size: object,
    max_content_bytes: object,
    max_sync_files: object,
    max_sync_bytes: object,
    cursor_key: object,
    allow_privileged_login_unsafe: object,
    slow_unit_of_work: object,
    pool_options: dict[str, Any],
) -> _Options:
    """Every argument of Store.open, each checked by its rule in
    `validation` and named by its parameter: InvalidInput for the first
    that makes no sense, before anything is opened."""
    options = _Options(
        dsn=validation.url(dsn, "dsn"),
        auth_dsn=None if auth_dsn is None else validation.url(auth_dsn, "auth_dsn"),
        min_size=validation.option(min_size, "min_size", least=0),
        max_size=validation.option(max_size, "max_size"),
        acquire_timeout=validation.seconds(acquire_timeout, "acquire_timeout"),
        command_timeout=None
        if command_timeout is None
        else validation.seconds(command_timeout, "command_timeout"),
        statement_cache_size=validation.option(
            statement_cache_size, "statement_cache_size", least=0
        ),
        max_content_bytes=validation.option(max_content_bytes, "max_content_bytes"),
        max_sync_files=validation.option(max_sync_files, "max_sync_files"),
        max_sync_bytes=validation.option(max_sync_bytes, "max_sync_bytes"),
        cursor_key=validation.cursor_key(cursor_key, "cursor_key"),
        allow_privileged_login_unsafe=validation.flag(
            allow_privileged_login_unsafe, "allow_privileged_login_unsafe"
        ),
        slow_unit_of_work=validation.seconds(
            slow_unit_of_work, "slow_unit_of_work", zero=True
        ),
        server_settings=validation.server_settings(
            pool_options.get("server_settings"), "server_settings"
        ),
        pool_options={
            name: value
            for name, value in pool_options.items()
            if name != "server_settings"
        },
    )
    if options.min_size > options.max_size:
        raise InvalidInput("min_size", "must not be above max_size")
    for name in STORE_POOL_OPTIONS:
        if name in options.pool_options:
            raise InvalidInput(name, "is the Store's own: it cannot be replaced")
    return options


@contextlib.contextmanager
def _opening_errors(option: str) -> Iterator[None]:
    # asyncpg parses the DSN lazily and says ValueError for a malformed one;
    # its connect timeout is a TimeoutError: no server answered in time.
    try:
        yield
    except TimeoutError as exc:
        raise Unavailable(detail=f"connecting timed out: {exc!r}") from exc
    except ValueError as exc:
        raise InvalidInput(
            option, "is not a valid PostgreSQL URL", detail=str(exc)
        ) from exc


async def _checked_pool(
    opened: contextlib.AsyncExitStack,
    dsn: str,
    *,
    option: str,
    purpose: _login_role.Purpose,
    options: _Options,
    min_size: int,
    max_size: int,
) -> asyncpg.Pool[asyncpg.Record]:
    """A pool on `dsn` (the argument `option`) whose login role has been
    checked for `purpose`; `opened` closes it when a later step of the
    opening fails."""
    try:
        # Not connected yet: asyncpg checks its own options here.
        pool = asyncpg.create_pool(
            dsn,
            init=generated.init_connection,
            reset=reset,
            server_settings={**options.server_settings, **PINNED_SETTINGS},
            min_size=min_size,
            max_size=max_size,
            command_timeout=options.command_timeout,
            statement_cache_size=options.statement_cache_size,
            **options.pool_options,
        )
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            "pool_options", "asyncpg.create_pool refused them", detail=str(exc)
        ) from exc
    with translated("database"), _opening_errors(option):
        # A pool whose first connections fail closes what it opened itself.
        await pool
    opened.push_async_callback(pool.close)
    found: list[str] = []
    with translated("database"), _opening_errors(option):
        async with pool.acquire() as conn:
            role, stored = await _login_role.stored_settings(conn)
            if not stored and not options.allow_privileged_login_unsafe:
                role, found = await _login_role.problems(conn, purpose)
    if stored:
        raise UnsafeLoginSettings(role, stored)
    if found:
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


async def _open_store(cls: type[Store], options: _Options) -> Store:
    """A Store on pools whose login roles passed their checks. Whatever the
    opening opened is closed again when a later step fails or is
    cancelled."""
    async with contextlib.AsyncExitStack() as opened:
        pool = await _checked_pool(
            opened,
            options.dsn,
            option="dsn",
            purpose="tenant",
            options=options,
            min_size=options.min_size,
            max_size=options.max_size,
        )
        auth_pool = None
        if options.auth_dsn is not None:
            # The auth layer's calls are single statements: a few
            # connections, opened when first needed.
            auth_pool = await _checked_pool(
                opened,
                options.auth_dsn,
                option="auth_dsn",
                purpose="auth",
                options=options,
                min_size=0,
                max_size=min(options.max_size, AUTH_POOL_MAX_SIZE),
            )
        key = options.cursor_key or await _stored_cursor_key(pool)
        settings = UnitOfWorkSettings(
            acquire_timeout=options.acquire_timeout,
            cursors=CursorCodec(key),
            max_content_bytes=options.max_content_bytes,
            max_sync_files=options.max_sync_files,
            max_sync_bytes=options.max_sync_bytes,
            slow_unit_of_work=options.slow_unit_of_work,
        )
        store = cls(pool, auth_pool=auth_pool, settings=settings)
        opened.pop_all()  # the Store owns the pools now
    return store


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

        It opens one Store, as an asyncpg pool opens once: awaited again (or
        entered after an await) it returns the same Store. An opening that
        fails closes whatever it had opened, and a later await tries again.

        auth_dsn is the auth layer's login (app_auth_login): store.users runs
        on a small pool of its own there; without it store.users raises
        RepositoryError. The tenant login cannot become the auth layer's role
        and the auth login cannot become a tenant.

        Every argument is checked at the call, before any connection:
        InvalidInput names the one that makes no sense (a size or limit
        below 1, min_size above max_size, a timeout that is not a positive
        finite number, a cursor_key that is not bytes of at least 32,
        server_settings that are not str to str, an init or reset, which the
        Store sets itself), and nothing is opened.

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
        options = _checked_options(
            dsn,
            auth_dsn=auth_dsn,
            min_size=min_size,
            max_size=max_size,
            acquire_timeout=acquire_timeout,
            command_timeout=command_timeout,
            statement_cache_size=statement_cache_size,
            max_content_bytes=max_content_bytes,
            max_sync_files=max_sync_files,
            max_sync_bytes=max_sync_bytes,
            cursor_key=cursor_key,
            allow_privileged_login_unsafe=allow_privileged_login_unsafe,
            slow_unit_of_work=slow_unit_of_work,
            pool_options=pool_options,
        )
        # Before any connection: a contract model that a regenerated row
        # model no longer fits fails here, naming both, not on a first call.
        check_row_models(ROW_MODELS)
        return _OpeningStore(cls, options)

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
            lambda side_by_side: UnitOfWork(
                self._connections,
                user_id,
                self._settings,
                side_by_side=side_by_side,
            ),
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
    closes the Store on exit (`async with Store.open(…) as store`). It opens
    one Store: awaited again, or entered after an await, it returns the same
    one, as an asyncpg pool does; an opening that failed left nothing open,
    and the next await tries again."""

    def __init__(self, cls: type[Store], options: _Options) -> None:
        self._cls = cls
        self._options = options
        self._store: Store | None = None
        # Two tasks awaiting it at once open one Store between them.
        self._opening = asyncio.Lock()

    def __await__(self) -> Generator[Any, None, Store]:
        return self._opened().__await__()

    async def _opened(self) -> Store:
        async with self._opening:
            if self._store is None:
                self._store = await _open_store(self._cls, self._options)
            return self._store

    async def __aenter__(self) -> Store:
        return await self._opened()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._store is not None:
            await self._store.close()
