"""One transaction acting as one user, on one pooled connection."""

from __future__ import annotations

import contextlib
from types import TracebackType
from uuid import UUID

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from repositories import validation
from repositories.agent_states import AgentStatesRepository
from repositories.cursors import CursorCodec
from repositories.database_errors import translated
from repositories.errors import RepositoryError
from repositories.pooled import acquire
from repositories.project_files import ProjectFilesRepository
from repositories.projects import ProjectsRepository

APP_ROLE = "app_user"
# Session state a caller of `uow.connection` may have left behind (a plain
# SET, SET ROLE, advisory locks, LISTEN, cursors); RESET ALL alone keeps the role.
SESSION_RESET = (
    "RESET SESSION AUTHORIZATION; RESET ROLE; RESET ALL; "
    "SELECT pg_advisory_unlock_all(); UNLISTEN *; CLOSE ALL"
)


def begin_as(user_id: UUID) -> str:
    """BEGIN, the least-privilege role and the actor's id in one round trip.

    A simple-protocol query cannot take parameters; the id is a validated
    uuid.UUID, whose text form is hex digits and dashes only. Both settings
    are transaction-local, so COMMIT or ROLLBACK clears them before the
    connection goes back to the pool. The id is set with a SET LOCAL
    statement rather than set_config(): Citus forwards SET LOCAL to the
    worker nodes (citus.propagate_set_commands = 'local'), where the
    row-level security policies of the shards read it; a function call it
    does not forward (docs/scaling.md).
    """
    return f"BEGIN; SET LOCAL ROLE {APP_ROLE}; SET LOCAL app.user_id = '{user_id}'"


class UnitOfWork:
    """One transaction acting as one user, with row-level security on.
    `async with store.unit_of_work(user_id) as uow:` commits on a clean exit
    and rolls back on an exception."""

    projects: ProjectsRepository
    files: ProjectFilesRepository
    agent_states: AgentStatesRepository

    def __init__(
        self,
        pool: asyncpg.Pool[asyncpg.Record],
        user_id: UUID,
        *,
        acquire_timeout: float,
        cursors: CursorCodec,
        max_content_bytes: int,
        max_sync_files: int,
        max_sync_bytes: int,
    ) -> None:
        # What a unit of work needs from its Store, and nothing more.
        self._pool = pool
        self._acquire_timeout = acquire_timeout
        self._cursors = cursors
        self._max_content_bytes = max_content_bytes
        self._max_sync_files = max_sync_files
        self._max_sync_bytes = max_sync_bytes
        self.user_id = validation.identifier(user_id, "user_id")
        self._conn: PoolConnectionProxy[asyncpg.Record] | None = None
        self._lent = False

    @property
    def connection(self) -> PoolConnectionProxy[asyncpg.Record]:
        """The transaction's connection, for SQL the repositories do not offer.
        It runs as the least-privilege role, so row-level security applies."""
        if self._conn is None:
            raise RepositoryError("the unit of work is not open")
        self._lent = True
        return self._conn

    async def __aenter__(self) -> UnitOfWork:
        with translated("unit of work"):
            conn = await acquire(self._pool, self._acquire_timeout)
            try:
                await conn.execute(begin_as(self.user_id))
            except BaseException:
                await self._pool.release(conn)
                raise
        self._conn = conn
        self.projects = ProjectsRepository(conn, self.user_id, self._cursors)
        self.files = ProjectFilesRepository(
            conn,
            self.user_id,
            self._cursors,
            self.projects,
            self._max_content_bytes,
            self._max_sync_files,
            self._max_sync_bytes,
        )
        self.agent_states = AgentStatesRepository(conn, self.user_id, self.projects)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        conn = self._conn
        if conn is None:
            raise RepositoryError("the unit of work is not open")
        self._conn = None
        try:
            if exc_type is None:
                with translated("unit of work"):
                    status = await conn.execute("COMMIT")
                if status == "ROLLBACK":
                    raise RepositoryError(
                        "the unit of work was rolled back: a statement in it failed"
                    )
            else:
                await self._rollback_quietly(conn)
        finally:
            try:
                if self._lent:
                    await self._reset_session(conn)
            finally:
                with translated("unit of work"):
                    await self._pool.release(conn)

    @staticmethod
    async def _reset_session(conn: PoolConnectionProxy[asyncpg.Record]) -> None:
        """Only a connection the caller touched can carry session state (the
        repositories' own statements leave none). One that cannot be reset is
        closed rather than handed to the next user."""
        try:
            await conn.execute(SESSION_RESET)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
            # Already gone (asyncpg detaches a lost connection from the pool).
            with contextlib.suppress(asyncpg.InterfaceError):
                conn.terminate()

    @staticmethod
    async def _rollback_quietly(conn: PoolConnectionProxy[asyncpg.Record]) -> None:
        # The caller's exception is the news; a broken connection is closed
        # by the pool on release.
        with contextlib.suppress(
            asyncpg.PostgresError, asyncpg.InterfaceError, OSError
        ):
            await conn.execute("ROLLBACK")
