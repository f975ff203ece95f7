"""The project lock, taken in one place. docs/api.md ("Writers of one
project") has the argument; the code keeps to it:

- Every write of a project's files, agent state or row first holds the
  project's lock (LockProjectForWrites in queries/projects.sql), taken once
  per unit of work and project, before the write's own statement, so the
  write's snapshot is taken after the lock is held.
- A unit of work that may be run again (store.retrying, on its attempts
  before the last) takes it shared for writes of one row (put, a new or
  compared-and-swapped agent state) and exclusive for the rest (delete,
  move, sync, a project's update or deletion, a checkpoint's creation or
  restore, retention). Any other unit of work takes
  it exclusive at its first write, so it never deadlocks within a project.
"""

from __future__ import annotations

from uuid import UUID

from repositories._generated import Executor
from repositories._generated import projects as queries
from repositories._guard import Guard
from repositories._translate import translated
from repositories.errors import NotFound

PROJECT = "project"
_SIGN_BIT = 1 << 63


def lock_key(project_id: UUID) -> int:
    """The project's advisory lock key: the first 64 bits of its id as a
    signed bigint (version-4 ids are random there, so two projects share a
    key with odds of 2**-64; sharing one only makes them take turns)."""
    high = project_id.int >> 64
    return high - (_SIGN_BIT << 1) if high & _SIGN_BIT else high


class ProjectLock:
    """Takes the project lock for one unit of work's writes."""

    __slots__ = ("_actor", "_conn", "_guard")

    def __init__(self, conn: Executor, actor: UUID, guard: Guard) -> None:
        self._conn = conn
        self._actor = actor
        self._guard = guard

    async def hold(
        self, project_id: UUID, *, whole_project: bool, missing: str = PROJECT
    ) -> None:
        """Hold the lock a write needs: shared for a write of one row
        (`whole_project` False) when the unit of work writes side by side,
        else exclusive. NotFound(`missing`) when the project is missing or
        not the actor's: a write that needs a row of it (a delete, a move)
        names that row, as when the project is there and the row is not."""
        exclusive = self._guard.lock_needed(project_id, whole_project=whole_project)
        if exclusive is None:
            return
        taken = await self._take(project_id, exclusive=exclusive)
        if taken is None:
            raise NotFound(missing)

    async def hold_unless_stored(
        self, project_id: UUID, path: str, sha256: str, kind: str
    ) -> queries.LockProjectForWritesRow | None:
        """For a put: hold the lock, unless the file at `path` holds the
        content of that `sha256`, of that `kind`, already; then no lock is
        taken and the
        file's row comes back (nothing is to be written). None: the lock is
        held (or was already) and the put goes on."""
        exclusive = self._guard.lock_needed(project_id, whole_project=False)
        if exclusive is None:
            return None
        taken = await self._take(
            project_id,
            exclusive=exclusive,
            path=path,
            unless_sha256=sha256,
            unless_kind=kind,
        )
        if taken is None:
            raise NotFound(PROJECT)
        return None if taken.locked else taken

    async def _take(
        self,
        project_id: UUID,
        *,
        exclusive: bool,
        path: str = "",  # no file's path: the lock statement reads no file
        unless_sha256: str | None = None,
        unless_kind: str | None = None,
    ) -> queries.LockProjectForWritesRow | None:
        self._guard.will_lock(project_id)
        with translated(PROJECT):
            taken = await queries.lock_project_for_writes(
                self._conn,
                unless_sha256=unless_sha256,
                unless_kind=unless_kind,
                exclusive=exclusive,
                lock_key=lock_key(project_id),
                path=path,
                id=project_id,
                owner_id=self._actor,
            )
        if taken is not None and taken.locked:
            self._guard.holds(project_id, exclusive=exclusive)
        return taken
