"""uow.projects: the actor's projects."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from repositories import validation
from repositories._generated import Executor
from repositories._generated import projects as queries
from repositories._guard import Guard, one_call_at_a_time
from repositories._project_lock import ProjectLock
from repositories._translate import translated
from repositories.errors import NotFound
from repositories.models import UNSET, Page, Project, RowModels, Unset, from_row
from repositories.settings import UnitOfWorkSettings

RESOURCE = "project"
# The queries name their columns (the table's version floors stay inside
# the file and agent-state statements), so each has a row model of its own.
ProjectRow = queries.CreateProjectRow | queries.GetProjectRow | queries.UpdateProjectRow
ROW_MODELS = RowModels(
    filled_directly=(
        (Project, queries.ListProjectsFirstRow),
        (Project, queries.ListProjectsAfterRow),
    ),
    picked_from=tuple(
        (Project, row, frozenset())
        for row in (
            queries.CreateProjectRow,
            queries.GetProjectRow,
            queries.UpdateProjectRow,
        )
    ),
)
_PROJECT_PAGE = Page[Project]  # looked up once: subscripting costs each time


def to_project(row: ProjectRow) -> Project:
    return from_row(Project, row)


def _position_after(last: Project) -> list[str]:
    # What ProjectsRepository._position reads back: the next page starts
    # after `last`.
    return [last.created_at.isoformat(), str(last.id)]


class ProjectsRepository:
    """`uow.projects`: the acting user's projects."""

    def __init__(
        self, conn: Executor, actor: UUID, settings: UnitOfWorkSettings, guard: Guard
    ) -> None:
        self._conn = conn
        self._actor = actor
        self._cursors = settings.cursors
        self._guard = guard
        self._lock = ProjectLock(conn, actor, guard)

    @one_call_at_a_time
    async def create(self, name: str, description: str | None = None) -> Project:
        """Create a project owned by the acting user."""
        checked_name = validation.name(name)
        checked_description = validation.description(description)
        with translated(RESOURCE):
            row = await queries.create_project(
                self._conn,
                owner_id=self._actor,
                name=checked_name,
                description=checked_description,
            )
        if row is None:
            raise NotFound("user")
        return to_project(row)

    @one_call_at_a_time
    async def get(self, project_id: UUID) -> Project:
        """The acting user's project `project_id`."""
        project_id = validation.identifier(project_id, "project_id")
        with translated(RESOURCE):
            row = await queries.get_project(
                self._conn, id=project_id, owner_id=self._actor
            )
        if row is None:
            raise NotFound(RESOURCE)
        return to_project(row)

    @one_call_at_a_time
    async def list(self, limit: int = 50, cursor: str | None = None) -> Page[Project]:
        """One page of the acting user's projects, newest first."""
        checked_limit = validation.limit(limit)
        # One extra row tells whether another page follows.
        with translated(RESOURCE):
            # Each row becomes a Project at once: one model per row.
            if cursor is None:
                found = await queries.list_projects_first_into(
                    self._conn,
                    Project,
                    owner_id=self._actor,
                    row_limit=checked_limit + 1,
                )
            else:
                created_at, project_id = self._position(cursor)
                found = await queries.list_projects_after_into(
                    self._conn,
                    Project,
                    owner_id=self._actor,
                    after_created_at=created_at,
                    after_id=project_id,
                    row_limit=checked_limit + 1,
                )
        return self._cursors.page(
            _PROJECT_PAGE,
            found,
            checked_limit,
            RESOURCE,
            str(self._actor),
            _position_after,
        )

    def _position(self, cursor: str) -> tuple[datetime, UUID]:
        # Bound to the actor: another user's cursor is not a position in this listing.
        created_at, project_id = self._cursors.decode(
            cursor, RESOURCE, str(self._actor)
        )
        return datetime.fromisoformat(created_at), UUID(project_id)

    @one_call_at_a_time
    async def update(
        self,
        project_id: UUID,
        *,
        name: str | Unset = UNSET,
        description: str | Unset | None = UNSET,
    ) -> Project:
        """Change a project's name, description or both; a field given as
        UNSET (the default) keeps its value."""
        project_id = validation.identifier(project_id, "project_id")
        set_name = name is not UNSET
        set_description = description is not UNSET
        checked_name = validation.name(name) if name is not UNSET else ""
        checked_description = (
            validation.description(description) if description is not UNSET else None
        )
        await self._lock.hold(project_id, whole_project=True)
        with translated(RESOURCE):
            row = await queries.update_project(
                self._conn,
                set_name=set_name,
                name=checked_name,
                set_description=set_description,
                description=checked_description,
                id=project_id,
                owner_id=self._actor,
            )
        if row is None:
            raise NotFound(RESOURCE)
        return to_project(row)

    @one_call_at_a_time
    async def delete(self, project_id: UUID) -> None:
        """Delete a project, its files and its agent state."""
        project_id = validation.identifier(project_id, "project_id")
        await self._lock.hold(project_id, whole_project=True)
        with translated(RESOURCE):
            deleted = await queries.delete_project(
                self._conn, id=project_id, owner_id=self._actor
            )
        if deleted == 0:
            raise NotFound(RESOURCE)

    @one_call_at_a_time
    async def exists(self, project_id: UUID) -> bool:
        """Whether the acting user has a project `project_id`."""
        project_id = validation.identifier(project_id, "project_id")
        with translated(RESOURCE):
            found = await queries.project_exists(
                self._conn, id=project_id, owner_id=self._actor
            )
        return found
