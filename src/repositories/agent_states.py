"""uow.agent_states: one JSON state per project, with compare-and-swap saves."""

from __future__ import annotations

from functools import partial
from typing import Any
from uuid import UUID

from repositories import agent_state_json, validation
from repositories._generated import Executor
from repositories._generated import agent_states as queries
from repositories._generated import models as rows
from repositories.database_errors import translated
from repositories.errors import NotFound
from repositories.models import AgentState, RowModels, from_row
from repositories.projects import ProjectsRepository
from repositories.unmatched import unmatched_write

RESOURCE = "agent state"
PROJECT = "project"
# state: any JSON value in the row, a JSON object in the contract (the
# schema's CHECK makes it one), so its type is not compared.
ROW_MODELS = RowModels(
    picked_from=((AgentState, rows.AgentState, frozenset({"state"})),)
)


def to_agent_state(row: rows.AgentState) -> AgentState:
    return from_row(AgentState, row)


class AgentStatesRepository:
    """`uow.agent_states`: one JSON state per project, with compare-and-swap
    saves."""

    def __init__(
        self, conn: Executor, actor: UUID, projects: ProjectsRepository
    ) -> None:
        self._conn = conn
        self._actor = actor
        self._projects = projects

    async def get(self, project_id: UUID) -> AgentState:
        """The project's agent state."""
        validation.identifier(project_id, "project_id")
        with translated(RESOURCE):
            row = await queries.get_agent_state(
                self._conn, project_id=project_id, owner_id=self._actor
            )
        if row is None:
            raise NotFound(RESOURCE)
        return to_agent_state(row)

    async def save(
        self,
        project_id: UUID,
        state: dict[str, Any],
        *,
        expected_version: int | None = None,
    ) -> AgentState:
        """Save the project's agent state. `expected_version` None: the last
        writer wins; 0: only if there is none yet; n: only if its version is
        n (compare-and-swap)."""
        validation.identifier(project_id, "project_id")
        checked = validation.state(state)
        text = validation.state_text(agent_state_json.dumps(checked))
        expected = validation.expected_version(expected_version)
        args: dict[str, Any] = {
            "project_id": project_id,
            "owner_id": self._actor,
            "state": text,
        }
        with translated(RESOURCE):
            if expected is None:
                row = await queries.upsert_agent_state(self._conn, **args)
            elif expected == 0:
                row = await queries.create_agent_state(self._conn, **args)
            else:
                row = await queries.swap_agent_state(
                    self._conn, **args, expected_version=expected
                )
            if row is not None:
                return to_agent_state(row)
            current = await queries.get_agent_state_version(
                self._conn, project_id=project_id, owner_id=self._actor
            )
            if expected and current == expected:
                # A swap at version n that matched nothing while the state is
                # at version n: the state postdates the statement's snapshot
                # (it waited for the project lock; the lock order:
                # queries/project_files.sql). This unit of work holds the lock
                # now: the second run sees the state, and nobody can change it.
                row = await queries.swap_agent_state(
                    self._conn, **args, expected_version=expected
                )
                if row is not None:
                    return to_agent_state(row)
                current = await queries.get_agent_state_version(
                    self._conn, project_id=project_id, owner_id=self._actor
                )
        # Nothing was written: no such project, or another version is current.
        raise await unmatched_write(
            RESOURCE,
            expected=expected,
            found=current,
            parent=PROJECT,
            parent_exists=partial(self._projects.exists, project_id),
        )

    async def delete(self, project_id: UUID) -> None:
        """Delete the project's agent state."""
        validation.identifier(project_id, "project_id")
        with translated(RESOURCE):
            deleted = await queries.delete_agent_state(
                self._conn, project_id=project_id, owner_id=self._actor
            )
            if deleted is None and await queries.get_agent_state_version(
                self._conn, project_id=project_id, owner_id=self._actor
            ):
                # The state postdates the statement's snapshot (see save).
                deleted = await queries.delete_agent_state(
                    self._conn, project_id=project_id, owner_id=self._actor
                )
        if deleted is None:
            raise NotFound(RESOURCE)
