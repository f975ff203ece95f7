"""uow.checkpoints: named states of a project, and bringing one back.

A checkpoint is one row whatever the project's size: it closes the
project's generation, and the tree at it is read from the history
(schema.sql, the history section). Creating and restoring hold the project
lock exclusively, so no write falls on both sides of a checkpoint and a
restore is one write that no other writer of the project is between."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast
from uuid import UUID, uuid4

from repositories import validation
from repositories._generated import Executor
from repositories._generated import checkpoints as queries
from repositories._guard import Guard, one_call_at_a_time
from repositories._project_lock import ProjectLock
from repositories._translate import translated
from repositories.errors import NotFound
from repositories.models import (
    AgentStateOutcome,
    Checkpoint,
    CheckpointDiff,
    Page,
    RestoreResult,
    RowModels,
    from_row,
)
from repositories.projects import ProjectsRepository
from repositories.settings import UnitOfWorkSettings

RESOURCE = "checkpoint"
PROJECT = "project"
_CHECKPOINT_PAGE = Page[Checkpoint]

ROW_MODELS = RowModels(
    picked_from=(
        (Checkpoint, queries.CreateCheckpointRow, frozenset()),
        (Checkpoint, queries.GetCheckpointRow, frozenset()),
        (Checkpoint, queries.ListCheckpointsRow, frozenset()),
    ),
)

_Row = (
    queries.CreateCheckpointRow | queries.GetCheckpointRow | queries.ListCheckpointsRow
)
_DiffRow = queries.DiffCheckpointsRow | queries.DiffCheckpointWithNowRow


def _checkpoint(row: _Row) -> Checkpoint:
    return from_row(Checkpoint, row)


class CheckpointsRepository:
    """`uow.checkpoints`: named states of a project (every file and the
    agent state), listed, compared and restored."""

    def __init__(
        self,
        conn: Executor,
        actor: UUID,
        settings: UnitOfWorkSettings,
        projects: ProjectsRepository,
        guard: Guard,
    ) -> None:
        self._conn = conn
        self._actor = actor
        self._settings = settings
        self._projects = projects
        self._guard = guard
        self._lock = ProjectLock(conn, actor, guard)

    @one_call_at_a_time
    async def create(self, project_id: UUID, label: str | None = None) -> Checkpoint:
        """Name the project's state now: every file and the agent state.
        Costs the same whatever the project's size."""
        project_id = validation.identifier(project_id, "project_id")
        checked_label = validation.label(label)
        await self._lock.hold(project_id, whole_project=True)
        with translated(RESOURCE):
            row = await queries.create_checkpoint(
                self._conn,
                id=uuid4(),
                label=checked_label,
                project_id=project_id,
                owner_id=self._actor,
            )
        if row is None:  # the lock found the project: it cannot vanish now
            raise NotFound(PROJECT)
        return _checkpoint(row)

    async def _row(
        self, project_id: UUID, checkpoint_id: UUID
    ) -> queries.GetCheckpointRow:
        with translated(RESOURCE):
            row = await queries.get_checkpoint(
                self._conn,
                project_id=project_id,
                owner_id=self._actor,
                id=checkpoint_id,
            )
        if row is None:
            raise NotFound(RESOURCE)
        return row

    @one_call_at_a_time
    async def get(self, project_id: UUID, checkpoint_id: UUID) -> Checkpoint:
        """One checkpoint of the project."""
        project_id = validation.identifier(project_id, "project_id")
        checkpoint_id = validation.identifier(checkpoint_id, "checkpoint_id")
        return _checkpoint(await self._row(project_id, checkpoint_id))

    @one_call_at_a_time
    async def list(
        self, project_id: UUID, *, limit: int = 100, cursor: str | None = None
    ) -> Page[Checkpoint]:
        """One page of the project's checkpoints, newest first."""
        project_id = validation.identifier(project_id, "project_id")
        checked_limit = validation.limit(limit)
        below = None
        if cursor is not None:
            (after,) = self._settings.cursors.decode(cursor, RESOURCE, str(project_id))
            below = int(after)  # a generation this listing wrote, signed
        with translated(RESOURCE):
            rows = await queries.list_checkpoints(
                self._conn,
                project_id=project_id,
                owner_id=self._actor,
                before_generation=below,
                row_limit=checked_limit + 1,
            )
        if not rows and not await self._projects.exists(project_id):
            raise NotFound(PROJECT)
        # The cursor holds the generation, which the contract does not show.
        generations = {row.id: row.generation for row in rows}
        return self._settings.cursors.page(
            _CHECKPOINT_PAGE,
            [_checkpoint(row) for row in rows],
            checked_limit,
            RESOURCE,
            str(project_id),
            lambda last: [str(generations[last.id])],
        )

    @one_call_at_a_time
    async def delete(self, project_id: UUID, checkpoint_id: UUID) -> None:
        """Forget a checkpoint; the versions only it kept become prunable."""
        project_id = validation.identifier(project_id, "project_id")
        checkpoint_id = validation.identifier(checkpoint_id, "checkpoint_id")
        with translated(RESOURCE):
            deleted = await queries.delete_checkpoint(
                self._conn,
                project_id=project_id,
                owner_id=self._actor,
                id=checkpoint_id,
            )
        if deleted == 0:
            raise NotFound(RESOURCE)

    @one_call_at_a_time
    async def restore(self, project_id: UUID, checkpoint_id: UUID) -> RestoreResult:
        """Make the project's files and agent state what they were at the
        checkpoint, as one write. Every path it changes gets a new version
        (versions never go back), so a version read before is stale after."""
        project_id = validation.identifier(project_id, "project_id")
        checkpoint_id = validation.identifier(checkpoint_id, "checkpoint_id")
        await self._lock.hold(project_id, whole_project=True)
        checkpoint = await self._row(project_id, checkpoint_id)
        with translated(RESOURCE):
            files = await queries.restore_files(
                self._conn,
                project_id=project_id,
                owner_id=self._actor,
                generation=checkpoint.generation,
            )
            state = await queries.restore_agent_state(
                self._conn,
                project_id=project_id,
                owner_id=self._actor,
                generation=checkpoint.generation,
            )
        return RestoreResult(
            created=files.created,
            updated=files.updated,
            unchanged=files.kept - files.created - files.updated,
            deleted=files.deleted,
            agent_state=cast(AgentStateOutcome, state),
        )

    @one_call_at_a_time
    async def diff(
        self, project_id: UUID, a: UUID, b: UUID | None = None
    ) -> CheckpointDiff:
        """The paths added, changed and removed from checkpoint `a` to
        checkpoint `b` (None: the project now)."""
        project_id = validation.identifier(project_id, "project_id")
        a = validation.identifier(a, "a")
        later = None if b is None else validation.identifier(b, "b")
        start = await self._row(project_id, a)
        end = None if later is None else await self._row(project_id, later)
        with translated(RESOURCE):
            if end is None:
                rows: Sequence[_DiffRow] = await queries.diff_checkpoint_with_now(
                    self._conn,
                    project_id=project_id,
                    owner_id=self._actor,
                    from_generation=start.generation,
                )
            else:
                rows = await queries.diff_checkpoints(
                    self._conn,
                    project_id=project_id,
                    owner_id=self._actor,
                    from_generation=start.generation,
                    to_generation=end.generation,
                )
        changes = [(row.path, row.change) for row in rows]
        return CheckpointDiff(
            added=[path for path, change in changes if change == "added"],
            changed=[path for path, change in changes if change == "changed"],
            removed=[path for path, change in changes if change == "removed"],
        )
